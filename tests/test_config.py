"""fleet.yaml loading: good files load, each bad file gives its exact one-line error.

Each ``tests/data/config/bad/NAME.yaml`` is paired with ``NAME.expected``, the whole message
``fleet.yaml`` users would see (loaded by its relative name, as a user would pass it).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec
import pytest

from fleet_tui.config.errors import ConfigError
from fleet_tui.config.loader import find_config, load_config, load_config_text
from fleet_tui.config.presets import GENERIC_WAITING, PRESETS, patterns_for
from fleet_tui.config.resolve import resolve_agents
from fleet_tui.config.schema import FleetConfig, StatusPatterns
from fleet_tui.config.starter import STARTER_YAML

DATA = Path(__file__).parent / "data" / "config"
BAD = sorted((DATA / "bad").glob("*.yaml"))


def test_the_bad_corpus_is_big_and_paired() -> None:
    assert len(BAD) >= 28
    assert all(p.with_suffix(".expected").is_file() for p in BAD)


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_config_gives_its_expected_message(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(path.parent)
    expected = path.with_suffix(".expected").read_text().rstrip("\n")
    with pytest.raises(ConfigError) as info:
        load_config(path.name)
    error = info.value
    assert str(error) == expected
    assert "\n" not in str(error)
    assert error.file == path.name
    assert expected.startswith(f"{error.file}:{error.line}:{error.col}: ")
    assert error.line >= 1 and error.col >= 1


def test_wrong_type_message_matches_the_documented_form() -> None:
    text = "fleet: x\nagents:\n  - {name: a, command: [x]}\n  - {name: b, command: [x]}\n" \
           "  - name: c\n    command: echo hi\n"
    with pytest.raises(ConfigError) as info:
        load_config_text(text, "fleet.yaml")
    assert str(info.value).startswith("fleet.yaml:6:14: agents[2].command: expected a list of strings")
    assert (info.value.path, info.value.message) == (
        "agents[2].command", "expected a list of strings, got a string")


def test_missing_and_unreadable_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: no such file$"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match=r"cannot read it"):
        load_config(tmp_path)


def test_full_config_loads_every_field() -> None:
    loaded = load_config(DATA / "good" / "full.yaml")
    config = loaded.config
    assert loaded.path.is_absolute() and loaded.base_dir == loaded.path.parent
    assert config.fleet == "full-fleet"
    assert config.approvals[0].from_ == "review"
    assert config.agents[0].budget is not None and config.agents[0].budget.usd == 2.5
    assert config.agents[0].subscribe[0].where == {"kind": "handoff"}
    assert config.keymap == {"spawn": "N", "quit": "Q"}
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


def test_merge_keys_share_settings_and_keys_stay_text() -> None:
    config = load_config(DATA / "good" / "merge-keys.yaml").config
    a, b = config.agents
    assert a.env == {"on": "1", "yes": "2", "1": "3"}
    assert (b.name, b.roles, b.command, b.env) == ("dev-b", a.roles, a.command, {"MODE": "fast"})
    assert config.keymap == {"quit": "y"}


def test_starter_and_repo_demo_load() -> None:
    starter = load_config_text(STARTER_YAML)
    assert starter.agents[0].command == ["python", "-m", "fleet_tui.demo_agent", "--role", "developer"]
    demo = load_config(Path(__file__).parent.parent / "fleet.yaml").config
    assert len(demo.agents) >= 4 and demo.tasks


def test_starter_examples_load_once_uncommented() -> None:
    """The commented-out agents are valid too: uncomment them and load it."""
    text = re.sub(r"^  # (?=- |  )", "  ", STARTER_YAML, flags=re.M)
    names = [a.name for a in load_config_text(text).agents]
    assert names == ["demo", "claude", "codex", "aider", "tester"]


def test_find_config_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    xdg = tmp_path / "xdg-config" / "fleet-tui"
    with pytest.raises(ConfigError) as info:
        find_config(None)
    assert str(info.value) == (f"no fleet.yaml found: looked at ./fleet.yaml, {xdg / 'fleet.yaml'}; "
                               "create one with `fleet-tui init`")
    xdg.mkdir(parents=True)
    (xdg / "fleet.yaml").write_text("fleet: user\n")
    assert find_config(None) == xdg / "fleet.yaml"
    (tmp_path / "fleet.yaml").write_text("fleet: here\n")
    assert find_config(None) == Path("fleet.yaml")
    monkeypatch.setenv("FLEET_CONFIG", "/env/fleet.yaml")
    assert find_config(None) == Path("/env/fleet.yaml")
    assert find_config("given.yaml") == Path("given.yaml")


def test_find_config_falls_back_to_home_without_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    user = tmp_path / "home" / ".config" / "fleet-tui" / "fleet.yaml"
    user.parent.mkdir(parents=True)
    user.write_text("fleet: user\n")
    assert find_config(None) == user


def test_json_schema_is_json_and_names_the_agents_property() -> None:
    schema = json.loads(msgspec.json.encode(msgspec.json.schema(FleetConfig)))
    top = schema["$defs"]["FleetConfig"]
    assert top["properties"]["agents"]["items"] == {"$ref": "#/$defs/AgentSpec"}
    assert top["required"] == ["fleet"]
    agent = schema["$defs"]["AgentSpec"]
    assert agent["properties"]["command"] == {"type": "array", "items": {"type": "string"}}
    assert schema["$defs"]["Approval"]["properties"].keys() >= {"from", "to", "tag"}


def _status(patterns: StatusPatterns, screen: str) -> str:
    """The order documented in presets.py: waiting, working, idle."""
    for kind in ("waiting", "working", "idle"):
        if any(re.search(p, screen, re.MULTILINE) for p in getattr(patterns, kind)):
            return kind
    return "unknown"


@pytest.mark.parametrize(("preset", "screen", "status"), [
    ("claude", "Bash command\n  rm -rf build\nDo you want to proceed?\n❯ 1. Yes\n  2. No\n", "waiting"),
    ("claude", "✻ Thinking… (12s · esc to interrupt)\n╭────╮\n│ >  │\n╰────╯\n", "working"),
    ("claude", "● Done.\n╭──────────╮\n│ >        │\n╰──────────╯\n", "idle"),
    # a reply that is a numbered list is not a menu
    ("claude", "● 1. Read the file\n  2. Edit it\n────\n❯ \n────\n  ? for shortcuts\n", "idle"),
    ("codex", "$ rm -rf build\nAllow command? [y/N]\n", "waiting"),
    ("codex", "Working (5s • esc to interrupt)\n▌ \n", "working"),
    ("codex", "codex\nAll set.\n▌ Ask Codex to do anything\n", "idle"),
    ("aider", "Create new file src/x.py? (Y)es/(N)o [Yes]: ", "waiting"),
    ("aider", "Waiting for claude-3-5-sonnet\n", "working"),
    ("aider", "Tokens: 2.1k sent, 310 received.\n> \n", "idle"),
    ("shell", "ran 12 tests, 0 failed\nuser@host:~/repo$ \n\n", "idle"),  # ready for a task
    ("shell", "Overwrite config? [y/N] ", "waiting"),
    ("shell", "Overwrite config? [y/N] n\nuser@host:~/repo$ ", "idle"),  # answered
    ("shell", "downloading 100%\nstill going\n", "unknown"),
    ("demo", "editing src/app.py\nAllow this action? (y/n) ", "waiting"),
    ("demo", "⠋ thinking working… (esc to interrupt)", "working"),
    ("demo", "✓ done\ndemo> ", "idle"),
])
def test_presets_read_their_agents_screens(preset: str, screen: str, status: str) -> None:
    assert _status(PRESETS[preset], screen) == status


def test_presets_are_overlaid_by_the_agents_own_patterns() -> None:
    assert set(PRESETS) == {"claude", "codex", "aider", "gemini", "opencode", "shell", "demo", "none"}
    mine = patterns_for("claude", StatusPatterns(waiting=["Proceed\\?"]))
    assert mine.waiting == ["Proceed\\?"] and mine.working == PRESETS["claude"].working
    mine.working.append("changed")
    assert "changed" not in PRESETS["claude"].working
    assert patterns_for("no-such-preset") == StatusPatterns(waiting=GENERIC_WAITING)
