"""The fleet-tui command as a user runs it: a real subprocess, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from fleet_tui.adapters.eventlog import open_log
from fleet_tui.core import events as ev

REPO = Path(__file__).resolve().parent.parent


def fleet(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None
          ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fleet_tui.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, **(env or {})}, timeout=60)


def test_help_lists_every_subcommand() -> None:
    out = fleet("--help")
    assert out.returncode == 0
    for command in ("run", "validate", "schema", "init", "sessions"):
        assert command in out.stdout


def test_version() -> None:
    out = fleet("--version")
    assert out.returncode == 0 and out.stdout.startswith("fleet-tui ")


def test_validate_the_repo_demo_fleet() -> None:
    out = fleet("validate", str(REPO / "fleet.yaml"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok: ") and " agents, " in out.stdout


def test_validate_a_bad_file_prints_one_line_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "fleet.yaml"
    bad.write_text("fleet: x\nagents:\n  - name: a\n    command: echo hi\n")
    out = fleet("validate", "fleet.yaml", cwd=tmp_path)
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr.startswith("fleet.yaml:4:14: agents[0].command: expected a list of strings")
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_missing_config_is_a_one_line_error(tmp_path: Path) -> None:
    out = fleet("validate", cwd=tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1


def test_config_search_order_env_then_cwd(tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text("fleet: here\n")
    other = tmp_path / "other.yaml"
    other.write_text("fleet: env\nagents:\n  - {name: a, command: [x]}\n")
    assert fleet("validate", cwd=tmp_path).stdout == "ok: 0 agents, 0 tasks\n"
    out = fleet("validate", cwd=tmp_path, env={"FLEET_CONFIG": str(other)})
    assert out.stdout.splitlines()[0] == "ok: 1 agents, 0 tasks"


def test_validate_says_each_agents_preset_and_model(tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text(
        "fleet: f\nagents:\n"
        "  - {name: c, command: [/opt/bin/claude], model: opus}\n"
        "  - {name: x, command: [codex, --model, o3, -c, 'notify=[\"n\"]'], model: gpt-5}\n"
        "  - {name: s, command: [bash], replicas: 2}\n"
        "  - {name: d, command: [python, agent.py], preset: demo, model: m1}\n"
        "  - {name: far, command: [claude], host: gpu}\n"
        "hosts:\n  - {name: gpu, ssh: me@gpu.example}\n")
    out = fleet("validate", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[1:] == [
        "  c: preset claude (from the program name), model: opus (--model), hooks: added at spawn",
        "  x: preset codex (from the program name), model: gpt-5 (the command's own --model wins),"
        " hooks: none (the command sets its own)",
        "  s x2: preset shell (from the program name), model: the CLI's default",
        "  d: preset demo (set), model: m1 ($FLEET_MODEL only)",
        "  far: preset claude (from the program name), model: the CLI's default,"
        " hooks: added at spawn, on host gpu",
    ]


def test_schema_is_json_schema_of_fleet_yaml() -> None:
    out = fleet("schema")
    schema = json.loads(out.stdout)
    assert "$defs" in schema and "FleetConfig" in schema["$defs"]
    assert "agents" in schema["$defs"]["FleetConfig"]["properties"]


def test_init_writes_a_valid_starter_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = fleet("init", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "fleet.yaml").read_text()
    for example in ("claude", "codex", "aider"):
        assert example in text
    assert fleet("validate", cwd=tmp_path).returncode == 0
    again = fleet("init", cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert (tmp_path / "fleet.yaml").read_text() == text


def test_sessions_lists_id_start_duration_agents_events(fleet_home: Path) -> None:
    assert "no sessions yet" in fleet("sessions").stdout
    path = fleet_home / "sessions" / "20260101-120000-abcd" / "events.jsonl"
    with open_log(path, ev.LogHeader(fleet="demo", ts=1000.0)) as w:
        w.append(ev.AgentSpawned(agent="a", ts=1001.0))
        w.append(ev.AgentSpawned(agent="b", ts=1002.0))
        w.append(ev.Error(message="x", ts=1125.0))
    out = fleet("sessions")
    row = out.stdout.splitlines()[1].split()
    assert row[0] == "20260101-120000-abcd" and row[1] == "demo"
    assert row[-3:] == ["2m05s", "2", "4"]


def test_corrupt_log_error_names_file_and_line_without_traceback(fleet_home: Path) -> None:
    from fleet_tui.adapters.eventlog_read import CorruptLogError, read_log

    path = fleet_home / "events.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"type":"error","message":"a"}\nnot json\n{"type":"error","message":"b"}\n')
    with pytest.raises(CorruptLogError) as info:
        read_log(path)
    assert str(info.value).startswith(f"{path}:2: ")


def test_wheel_installs_the_package_themes_and_console_script(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "-w", str(tmp_path), str(REPO)], capture_output=True, text=True)
    if out.returncode != 0 and "No module named" in out.stderr:
        pytest.skip("hatchling is not installed for --no-build-isolation")
    assert out.returncode == 0, out.stderr
    wheel = next(tmp_path.glob("fleet_tui-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "fleet_tui/cli.py" in names and "fleet_tui/demo_agent.py" in names
    assert any(n.startswith("fleet_tui/_themes/") for n in names)
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "fleet-tui = fleet_tui.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_output_cut_short_by_its_reader_is_not_an_error(tmp_path: Path) -> None:
    """``fleet-tui export ... | head``: the reader goes away; no traceback, no crash report."""
    with open_log(tmp_path / "events.jsonl", ev.LogHeader(session="s1", fleet="f")) as log:
        for i in range(3000):
            log.append(ev.TaskNote(task="T1", text=f"note {i} " + "x" * 60))
    env = {**os.environ, "FLEET_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen([sys.executable, "-m", "fleet_tui.cli", "export", "--format", "csv",
                             str(tmp_path / "events.jsonl")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(100)  # the head of it, then the reader is gone
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0 and err == ""
    assert not (tmp_path / "home" / "crash.log").exists()
