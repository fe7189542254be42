"""fleet.yaml loading: good files load, each bad file gives its exact one-line error."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from fleet_tui.config.errors import ConfigError
from fleet_tui.config.loader import find_config, load_config, load_config_text
from fleet_tui.config.presets import PRESETS, patterns_for
from fleet_tui.config.resolve import resolve_agents
from fleet_tui.config.schema import FleetConfig, StatusPatterns
from fleet_tui.config.starter import STARTER_YAML

DATA = Path(__file__).parent / "data" / "config"
BAD = sorted((DATA / "bad").glob("*.yaml"))


def test_the_bad_corpus_is_big_enough() -> None:
    assert len(BAD) >= 25


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_config_gives_its_expected_message(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(path.parent)
    expected = path.with_suffix(".expected").read_text().rstrip("\n")
    with pytest.raises(ConfigError) as info:
        load_config(path.name)
    assert str(info.value) == expected
    assert "\n" not in str(info.value)
    line, col = expected.split(":")[1:3]
    assert (info.value.line, info.value.col) == (int(line), int(col))


def test_full_config_loads_every_field() -> None:
    loaded = load_config(DATA / "good" / "full.yaml")
    config = loaded.config
    assert config.fleet == "full-fleet"
    assert config.approvals[0].from_ == "review"
    assert config.agents[0].budget is not None and config.agents[0].budget.usd == 2.5
    launches = resolve_agents(config, loaded.base_dir)
    assert [a.name for a in launches] == ["planner", "dev-1", "dev-2"]
    planner = launches[0]
    assert planner.cwd == str((DATA / "good" / "sub").resolve())
    assert planner.env == {"SHARED": "1", "ROLE": "planner"}
    assert planner.stall_after == 300.0 and launches[1].stall_after == 90.0
    assert launches[1].max_tasks == 2 and launches[1].restart == "on-failure"
    assert (launches[1].width, launches[1].height) == (100, 30)


def test_minimal_config_gets_defaults() -> None:
    config = load_config(DATA / "good" / "minimal.yaml").config
    assert [s.name for s in config.routing.stages] == [
        "backlog", "ready", "in_progress", "review", "done"]
    assert config.theme == "fleet-dark" and config.agents == []


def test_starter_and_repo_demo_load() -> None:
    assert load_config_text(STARTER_YAML).agents[0].name == "demo"
    demo = load_config(Path(__file__).parent.parent / "fleet.yaml").config
    assert len(demo.agents) >= 4 and demo.tasks


def test_find_config_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    xdg = tmp_path / "xdg-config" / "fleet-tui"
    with pytest.raises(ConfigError, match=r"no fleet\.yaml found"):
        find_config(None)
    xdg.mkdir(parents=True)
    (xdg / "fleet.yaml").write_text("fleet: user\n")
    assert find_config(None) == xdg / "fleet.yaml"
    (tmp_path / "fleet.yaml").write_text("fleet: here\n")
    assert find_config(None) == Path("fleet.yaml")
    monkeypatch.setenv("FLEET_CONFIG", "/env/fleet.yaml")
    assert find_config(None) == Path("/env/fleet.yaml")
    assert find_config("given.yaml") == Path("given.yaml")


def test_json_schema_names_the_agent_fields() -> None:
    schema = json.loads(msgspec.json.encode(msgspec.json.schema(FleetConfig)))
    agent = schema["$defs"]["AgentSpec"]
    assert agent["properties"]["command"] == {"type": "array", "items": {"type": "string"}}
    assert schema["$defs"]["Approval"]["properties"].keys() >= {"from", "to", "tag"}


def test_presets_are_overlaid_by_the_agents_own_patterns() -> None:
    assert set(PRESETS) >= {"claude", "codex", "aider", "shell", "demo"}
    mine = patterns_for("claude", StatusPatterns(waiting=["Proceed\\?"]))
    assert mine.waiting == ["Proceed\\?"] and mine.working == PRESETS["claude"].working
