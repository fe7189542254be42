"""Snapshot tests (pytest-textual-snapshot): the main screen at 80x24 and 160x48, the zoom view,
the help screen and the spawn dialog, drawn from a fixed event log with a fixed clock over a
read-only RecordedFleet (no tmux, no timers that change what is drawn, times in UTC).

Update the pictures after an intended change with ``pytest tests/test_snapshots.py
--snapshot-update`` and look at them (``snapshot_report.html``) before committing.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fleet_tui.adapters.eventlog import open_log, read_log
from fleet_tui.config.loader import load_config
from fleet_tui.core import events as ev
from fleet_tui.ui.agent_grid import AgentGrid
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.recorded import RecordedFleet
from fleet_tui.ui.zoom import PaneView

T0 = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC
NOW = T0 + 600
CONFIG = Path(__file__).parent / "data" / "snapshot" / "fleet.yaml"

GREEN, YELLOW, CYAN, BOLD, RESET = "\x1b[32m", "\x1b[33m", "\x1b[36m", "\x1b[1m", "\x1b[0m"


def _screen(name: str, lines: list[str], height: int = 12) -> list[str]:
    head = [f"{BOLD}{CYAN}╭─ {name} ─╮{RESET}", ""]
    return (head + lines + [""] * height)[:height]


def session_events() -> list[ev.Event]:
    """A short session: four agents in four states, tasks in every column, a pending gate."""
    out: list[ev.Event] = [ev.LogHeader(fleet="snap", session="20260921-141320-snap", started=T0)]

    def add(offset: float, event: ev.Event) -> None:
        event.ts = T0 + offset
        out.append(event)

    for i, (name, role, model) in enumerate([("planner", "planner", "opus"), ("dev-1", "developer", "sonnet"),
                                             ("dev-2", "developer", "sonnet"),
                                             ("reviewer", "reviewer", "sonnet")]):
        add(i, ev.AgentSpawned(agent=name, role=role, roles=[role], model=model, template=name))
        add(i + 0.5, ev.AgentStarted(agent=name, pid=100 + i, pane=f"%{i}", width=60, height=12))
    for task, title, column in [("T1", "Plan the login feature", "ready"), ("T2", "Login form", "ready"),
                                ("T3", "Session cookies", "backlog"), ("T4", "Release 0.1.0", "backlog")]:
        add(5, ev.TaskCreated(task=task, title=title, column=column, role="developer"))
    add(10, ev.TaskMoved(task="T1", column="in_progress", from_column="ready", agent="planner",
                         reason="picked up by planner"))
    add(10, ev.TaskAssigned(task="T1", agent="planner", reason="assigned T1 to planner: role planner, idle"))
    add(12, ev.TaskMoved(task="T2", column="in_progress", from_column="ready", agent="dev-1"))
    add(12, ev.TaskAssigned(task="T2", agent="dev-1", reason="assigned T2 to dev-1: role developer, idle"))
    add(60, ev.AgentStatus(agent="planner", status="working", explicit=True))
    add(61, ev.AgentStatus(agent="dev-1", status="waiting", reason="Allow edit? (y/n)"))
    add(62, ev.AgentStatus(agent="dev-2", status="idle"))
    add(63, ev.AgentStatus(agent="reviewer", status="idle"))
    add(70, ev.CostReported(agent="planner", task="T1", model="opus", input_tokens=12000,
                            output_tokens=3400, usd=0.42))
    add(80, ev.TaskMoved(task="T3", column="review", from_column="backlog"))
    add(81, ev.ApprovalRequested(task="T3", approval="review->done", transition="review->done",
                                 to_column="done", reason="review -> done needs a human"))
    add(90, ev.Alert(kind="stall", agent="dev-2", message="dev-2: no output for 2m"))
    add(95, ev.AgentPaused(agent="reviewer", reason="budget: usd 5.10 > 5.00", source="user"))
    screens = {
        "planner": [f"{GREEN}● Read(README.md){RESET}", f"{GREEN}● Write(PLAN.md){RESET}",
                    f"{YELLOW}⠼ splitting the work… (esc to interrupt){RESET}"],
        "dev-1": ["● Edit(src/app.py)", f"{GREEN}+ def login(form):{RESET}",
                  f"{BOLD}{YELLOW}Allow edit to src/app.py? (y/n){RESET}"],
        "dev-2": ["✓ done", "demo> "],
        "reviewer": ["● Read(diff)", "demo> "],
    }
    for i, (name, lines) in enumerate(screens.items()):
        rows = _screen(name, lines)
        add(100 + i, ev.AgentOutput(agent=name, changes=list(enumerate(rows)), keyframe=True,
                                    width=60, height=12))
    return out


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RecordedFleet:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    path = tmp_path / "events.jsonl"
    writer = open_log(path)
    for event in session_events():
        writer.append(event)
    writer.close()
    events, warnings = read_log(path)
    assert not warnings
    return RecordedFleet.from_events(load_config(CONFIG), events)


def _app(recorded: RecordedFleet) -> FleetApp:
    return FleetApp(recorded, clock=lambda: NOW)


async def _settle(pilot) -> None:
    await pilot.pause(0.3)  # the first refresh tick has drawn the state


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_main_screen(snap_compare, recorded: RecordedFleet, size: tuple[int, int]) -> None:
    assert snap_compare(_app(recorded), terminal_size=size, run_before=_settle)


def test_board_80x24(snap_compare, recorded: RecordedFleet) -> None:
    assert snap_compare(_app(recorded), terminal_size=(80, 24), press=["2"], run_before=_settle)


def test_timeline_80x24(snap_compare, recorded: RecordedFleet) -> None:
    assert snap_compare(_app(recorded), terminal_size=(80, 24), press=["3"], run_before=_settle)


def test_zoom(snap_compare, recorded: RecordedFleet) -> None:
    async def zoom(pilot) -> None:
        await _settle(pilot)
        await pilot.press("right", "z")
        view = pilot.app.screen.query_one(PaneView)
        for _ in range(100):
            if view.rows:
                break
            await pilot.pause(0.02)
        await pilot.pause()

    assert snap_compare(_app(recorded), terminal_size=(100, 30), run_before=zoom)


def test_help(snap_compare, recorded: RecordedFleet) -> None:
    assert snap_compare(_app(recorded), terminal_size=(80, 40), press=["question_mark"],
                        run_before=_settle)


def test_spawn_dialog(snap_compare, recorded: RecordedFleet) -> None:
    app = _app(recorded)
    app.read_only = False  # the dialog itself, as live mode shows it (nothing is submitted)
    assert snap_compare(app, terminal_size=(80, 24), press=["n"], run_before=_settle)


@pytest.mark.anyio
async def test_resizing_switches_between_rows_and_cards(recorded: RecordedFleet) -> None:
    app = _app(recorded)
    async with app.run_test(size=(80, 24)) as pilot:
        grid = app.main.query_one(AgentGrid)
        await _settle(pilot)
        assert grid.has_class("-compact")
        await pilot.resize_terminal(200, 60)
        await pilot.pause(0.3)
        assert not grid.has_class("-compact") and grid.columns == 5
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.3)
        assert grid.has_class("-compact")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
