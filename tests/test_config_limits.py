"""Hostile fleet.yaml files: each is refused with its exact one-line ``file:line:col`` error,
in the loader and through ``fleet-tui validate`` as a real subprocess; values at the limits
still load. The time each takes is measured by ``bench/config.py``, not here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fleet_tui.config.errors import ConfigError, one_line
from fleet_tui.config.limits import COUNT_RANGES, MAX_AGENTS, MAX_BYTES, MAX_DEPTH
from fleet_tui.config.loader import load_config, load_config_text
from tests.hostile_configs import BASE, EXPECTED, HOSTILE, write_all


def test_every_hostile_file_has_its_expected_message() -> None:
    assert set(HOSTILE) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_config_gives_one_positioned_line(name: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    write_all(tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_config(f"{name}.yaml")
    error = info.value
    assert str(error) == EXPECTED[name]
    assert error.line >= 1 and error.col >= 1
    assert str(error).isprintable()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_validate_refuses_hostile_config_in_one_line(name: str, tmp_path: Path) -> None:
    write_all(tmp_path)
    out = subprocess.run([sys.executable, "-m", "fleet_tui.cli", "validate", f"{name}.yaml"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60,
                         env={**os.environ, "FLEET_HOME": str(tmp_path / "home")})
    assert (out.returncode, out.stdout, out.stderr) == (1, "", EXPECTED[name] + "\n")
    assert not (tmp_path / "home" / "crash.log").exists()


@pytest.mark.parametrize("field", sorted(set(COUNT_RANGES) - {"history_limit"}))
def test_counts_at_their_limits_load(field: str) -> None:
    least, most = COUNT_RANGES[field]
    for value in (least, most):
        config = load_config_text(BASE + f"    {field}: {value}\n")
        assert getattr(config.agents[0], field) == value
    with pytest.raises(ConfigError, match=f"{field} must be {most} or less$"):
        load_config_text(BASE + f"    {field}: {most + 1}\n")


def test_history_limit_is_bounded_in_the_defaults() -> None:
    most = COUNT_RANGES["history_limit"][1]
    assert load_config_text(f"fleet: x\ndefaults: {{history_limit: {most}}}\n").defaults.history_limit == most
    with pytest.raises(ConfigError, match=r"^fleet\.yaml:2:27: defaults\.history_limit: .* or less$"):
        load_config_text(f"fleet: x\ndefaults: {{history_limit: {most + 1}}}\n")


def test_the_fleet_may_have_max_agents() -> None:
    text = "fleet: x\nagents:\n" + "".join(
        f"  - {{name: a{i}, command: [sh], replicas: 100}}\n" for i in range(MAX_AGENTS // 100))
    assert sum(a.replicas for a in load_config_text(text).agents) == MAX_AGENTS


@pytest.mark.parametrize(("yaml_value", "message"), [
    (".inf", "a budget must be a finite number, not inf"),
    ("-.inf", "a budget must be a finite number, not -inf"),
    (".NaN", "a budget must be a finite number, not nan"),
    ("0", "a budget must be more than 0"),
    ("1000000.5", "a usd budget must be at most 1,000,000"),
])
def test_budgets_must_be_finite_and_sane(yaml_value: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text(f"fleet: x\ndefaults:\n  budget: {{usd: {yaml_value}}}\n")
    assert (info.value.line, info.value.path, info.value.message) == (3, "defaults.budget.usd", message)


def test_a_file_just_under_the_size_limit_loads(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    text = BASE + "# x\n" * ((MAX_BYTES - len(BASE)) // 4)
    path.write_text(text + "#" * (MAX_BYTES - len(text)))
    assert path.stat().st_size == MAX_BYTES
    assert load_config(path).config.agents[0].name == "a"


def test_nesting_up_to_the_limit_loads() -> None:
    env = "[" * (MAX_DEPTH - 3) + "]" * (MAX_DEPTH - 3)  # fleet > agents > [0] > env > ...
    with pytest.raises(ConfigError, match="expected a mapping of strings to strings, got a list"):
        load_config_text(BASE + f"    env: {env}\n")
    with pytest.raises(ConfigError, match="nested more than 50 levels deep"):
        load_config_text(BASE + f"    env: [{env}]\n")


def test_aliases_within_the_budget_still_work() -> None:
    text = ("fleet: x\nagents:\n  - {name: a0, command: &cmd [sh, -c, 'echo hi']}\n"
            + "".join(f"  - {{name: a{i}, command: *cmd}}\n" for i in range(1, 150)))
    agents = load_config_text(text).agents
    assert len(agents) == 150 and agents[149].command == ["sh", "-c", "echo hi"]


def test_text_with_a_lone_surrogate_is_refused_at_its_place() -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text("fleet: x\ntheme: a\udc80b\n")
    assert str(info.value) == "fleet.yaml:2:9: a control character U+DC80: fleet.yaml must be text"


def test_one_line_escapes_controls_and_bidi_and_cuts_long_text() -> None:
    assert one_line("a\nb\x1b[2J\u202ec\td") == "a\\nb\\x1b[2J\\u202ec\\td"
    long = one_line("x" * 5000)
    assert len(long) == 1000 and long.endswith("…")


@pytest.mark.parametrize(("value", "message"), [
    ("!!timestamp soon", "cannot read this as timestamp"),
    ("!!int x1", "cannot read this as int"),
    ("!!float x", "cannot read this as float"),
])
def test_a_value_that_does_not_fit_its_explicit_tag_is_positioned(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text(f"fleet: x\ntheme: {value}\n")
    assert (info.value.line, info.value.col, info.value.path, info.value.message) == (2, 8, "theme", message)


def test_format_characters_in_a_quoted_value_are_shown_escaped() -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text('fleet: "ti\\uFEFFny\\u200B"\n')
    assert str(info.value).startswith("fleet.yaml:1:8: fleet: 'ti\\ufeffny\\u200b' is not a valid fleet name")


@pytest.mark.parametrize("name", ["billion-laughs", "latin-1", "nested-2000"])
def test_theme_files_are_read_within_the_same_limits(name: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from fleet_tui.ui.themes import ThemeError, load_theme_file

    write_all(tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ThemeError) as info:
        load_theme_file(Path(f"{name}.yaml"))
    assert str(info.value) == EXPECTED[name]


def test_an_anchor_defined_twice_names_the_first() -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text("fleet: &a x\ntheme: &a y\n")
    assert str(info.value) == "fleet.yaml:2:8: YAML syntax error: an anchor defined again (first at line 1)"
