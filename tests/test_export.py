"""``fleet-tui export`` on a recorded log: a strictly valid asciicast v2 whose frames redraw the
agent's screen, a Markdown audit report, the timeline as CSV, and one-line errors (exit 2)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from fleet_tui.adapters import paths
from fleet_tui.cli import main
from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from fleet_tui.core.screen import strip_ansi
from fleet_tui.core.summary import summarize
from fleet_tui.replay.timeline_csv import COLUMNS
from tests.test_replay_index import record_session

_MOVE = re.compile(r"\x1b\[(\d+);1H")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["export", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def log(tmp_path: Path) -> tuple[Path, list]:
    path = tmp_path / "s1" / "events.jsonl"
    return path, record_session(path)


def _play(frames: list[str]) -> list[str]:
    """The screen after these frames, for the escapes the export writes (plain text rows)."""
    rows: dict[int, str] = {}
    for data in frames:
        if "\x1b[2J" in data:
            rows.clear()
        for m, text in zip(_MOVE.finditer(data), _MOVE.split(data)[2::2], strict=True):
            rows[int(m.group(1)) - 1] = strip_ansi(text)
    return [rows.get(r, "") for r in range(max(rows, default=-1) + 1)]


def test_asciicast_is_strictly_valid_v2_and_redraws_the_screen(capsys, log) -> None:
    path, events = log
    code, out, err = run(capsys, str(path), "--agent", "dev-1", "--format", "asciicast")
    assert code == 0 and err == ""
    lines = out.splitlines()
    header = json.loads(lines[0])
    assert set(header) <= {"version", "width", "height", "timestamp", "duration", "title", "env",
                           "idle_time_limit", "command", "theme"}
    assert header["version"] == 2
    for key in ("width", "height", "timestamp"):
        assert type(header[key]) is int and header[key] > 0
    assert (header["width"], header["height"]) == (40, 6)
    assert isinstance(header["title"], str) and isinstance(header["env"], dict)
    frames = [json.loads(line) for line in lines[1:]]
    assert len(frames) > 10
    times = [f[0] for f in frames]
    assert all(isinstance(f, list) and len(f) == 3 for f in frames)
    assert all(isinstance(t, int | float) and t >= 0 for t in times) and times == sorted(times)
    assert {f[1] for f in frames} == {"o"} and all(isinstance(f[2], str) for f in frames)
    assert "\x1b[2J" in frames[0][2]
    assert any("\x1b[2J" not in f[2] for f in frames)  # diffs redraw only changed rows
    final = fold_all(events).agents["dev-1"].screen
    assert _play([f[2] for f in frames]) == [strip_ansi(r) for r in final]
    spawn = next(e for e in events if isinstance(e, ev.AgentSpawned) and e.agent == "dev-1")
    assert header["timestamp"] == int(spawn.ts)


def test_markdown_report_audits_agents_tasks_approvals_costs_and_errors(capsys, log) -> None:
    path, events = log
    code, out, err = run(capsys, str(path), "--format", "markdown")
    assert code == 0 and err == ""
    state = fold_all(events)
    assert out.startswith("# Session s1 of fleet demo\n")
    for section in ("## Agents", "## Tasks", "## Approvals", "## Costs", "## Errors and alerts"):
        assert f"\n{section}\n" in out
    section = out.split("\n## Agents\n")[1].split("\n## Tasks\n")[0]
    agents = {line.split(" | ")[0][2:]: line for line in section.splitlines() if line.startswith("| ")}
    assert "| dev | m-dev |" in agents["dev-1"] and "exited with code 0" in agents["dev-1"]
    assert "| 1 |" in agents["dev-1"]  # one restart
    assert "lost: tmux session gone" in agents["rev-1"]
    assert f"${state.agents['dev-1'].cost.usd:.4f}" in agents["dev-1"]
    tasks = out.split("\n## Tasks\n")[1].split("\n## Approvals\n")[0]
    assert "### T1: task 1" in tasks and "created 'task 1' in backlog" in tasks
    for kind in ("task.assigned", "task.moved", "task.note", "task.reported"):
        assert f"| {kind} |" in tasks
    assigned = next(e for e in events if isinstance(e, ev.TaskAssigned))
    assert f"| task.assigned | {assigned.agent} | routing |" in tasks
    approvals = out.split("\n## Approvals\n")[1].split("\n## Costs\n")[0]
    decided = [e for e in events if isinstance(e, ev.ApprovalGranted | ev.ApprovalDenied)]
    assert decided and all(f"| {e.approval} | {e.type_name} | user |" in approvals for e in decided)
    errors = out.split("\n## Errors and alerts\n")[1]
    trouble = [e for e in events if isinstance(e, ev.Error | ev.Alert)]
    assert trouble and all(e.message in errors for e in trouble)


def test_csv_is_the_timeline(capsys, log) -> None:
    path, events = log
    code, out, err = run(capsys, str(path), "--format", "csv")
    assert code == 0 and err == ""
    rows = list(csv.reader(io.StringIO(out)))
    assert tuple(rows[0]) == COLUMNS
    timeline = [e for e in events if not isinstance(e, ev.AgentOutput)]
    assert len(rows) - 1 == len(timeline)
    for row, e in zip(rows[1:], timeline, strict=True):
        seq, when, source, kind, agent, task, summary = row
        assert int(seq) == e.seq and kind == e.type_name and source == e.source
        assert datetime.fromisoformat(when).timestamp() == pytest.approx(e.ts, abs=1e-3)
        assert agent == (getattr(e, "agent", None) or "") and task == (getattr(e, "task", None) or "")
        assert summary == summarize(e)


def test_a_session_id_names_its_log(capsys) -> None:
    sid = paths.new_session_id(0)
    paths.create_session_dir(sid)
    record_session(paths.events_path(sid), rounds=10)
    code, out, _err = run(capsys, sid, "--format", "csv")
    assert code == 0 and out.startswith("seq,time,")
    assert run(capsys, str(paths.session_dir(sid)), "--format", "csv")[1] == out


@pytest.mark.parametrize(("args", "message"), [
    (["--agent", "ghost", "--format", "asciicast"], "no agent 'ghost' in this log (agents: dev-1, rev-1)"),
    (["--format", "asciicast"], "needs --agent NAME"),
])
def test_bad_agent_is_one_line_and_exit_2(capsys, log, args: list[str], message: str) -> None:
    path, _events = log
    code, out, err = run(capsys, str(path), *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


@pytest.mark.parametrize("name", ["20990101-000000-beef", "no/such/events.jsonl"])
def test_unknown_session_or_file_is_one_line_and_exit_2(capsys, name: str) -> None:
    code, out, err = run(capsys, name, "--format", "markdown")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no such event log or session" in err


def test_torn_tail_is_a_warning_and_the_log_is_left_alone(capsys, log) -> None:
    path, _events = log
    with open(path, "ab") as f:
        f.write(b'{"type":"error","mess')
    before = path.read_bytes()
    code, out, err = run(capsys, str(path), "--format", "csv")
    assert code == 0 and len(out.splitlines()) > 1
    assert err.startswith("fleet-tui: warning: ") and "torn last line" in err
    assert path.read_bytes() == before
