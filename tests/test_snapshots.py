"""Snapshot tests (pytest-textual-snapshot): the main screen at 80x24 and 160x48, the grid of
1, 3, 8 and 30 agents at 80x24, 120x40 and 200x60, the zoom view, the help screen and the
spawn dialog, drawn from fixed event logs with a fixed clock over a read-only RecordedFleet
(no tmux, no timers that change what is drawn, times in UTC). Each waits until the app has
drawn every card at its size (``tests.helpers.app_drawn``).

Update the pictures after an intended change with ``pytest tests/test_snapshots.py
--snapshot-update`` and look at them (``snapshot_report.html``) before committing.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fleet_tui.adapters.eventlog import open_log
from fleet_tui.adapters.eventlog_read import read_log
from fleet_tui.config.loader import load_config
from fleet_tui.core import events as ev
from fleet_tui.ui.agent_grid import AgentGrid, plan_grid
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.recorded import RecordedFleet
from fleet_tui.ui.zoom import PaneView
from tests.helpers import app_drawn, grid_drawn, pilot_until

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


def fleet_events(count: int) -> list[ev.Event]:
    """``count`` agents in a cycle of states: working, waiting on a question longer than any
    card, idle, exited 1 (tmux's dead-pane row below its output), stalled, paused, exited 127."""
    out: list[ev.Event] = [ev.LogHeader(fleet="snap", session="20260921-141320-grid", started=T0)]

    def add(offset: float, event: ev.Event) -> None:
        event.ts = T0 + offset
        out.append(event)

    question = f"{BOLD}Allow edit to src/auth/session_store.py and 3 more files?{RESET} (Y)es/(N)o [Yes]: "
    for i in range(count):
        name = f"agent-{i:02d}"
        add(i / 10, ev.AgentSpawned(agent=name, role="developer", roles=["developer"], model="sonnet"))
        add(i / 10 + 0.5, ev.AgentStarted(agent=name, pid=100 + i, pane=f"%{i}", width=120, height=40))
        kind = i % 7
        lines = [f"{GREEN}● Read(src/module_{i}.py){RESET}",
                 *(f"  step {n} of agent {i}: " + "checking " * 12 for n in range(6))]
        if kind == 0:
            lines.append(f"{YELLOW}⠼ working on T{i}… (esc to interrupt){RESET}")
            add(60, ev.AgentStatus(agent=name, status="working", explicit=True))
        elif kind == 1:
            lines.append(question)
            add(61, ev.AgentStatus(agent=name, status="waiting", reason="Allow edit?"))
        elif kind in (2, 4, 5):
            lines.append("demo> ")
            add(62, ev.AgentStatus(agent=name, status="idle"))
        if kind == 4:
            add(90, ev.Alert(kind="stall", agent=name, message=f"{name}: no output for 2m"))
        if kind == 5:
            add(95, ev.AgentPaused(agent=name, reason="budget: usd 5.10 > 5.00"))
        if kind in (3, 6):
            lines.append("Error: Unable to connect to Anthropic services" if kind == 3
                         else f"sh: 1: agent-cli-{i}: not found")
            lines += ["", "Pane is dead (status 1, Mon Sep 21 14:15:00 2026)"]
        add(100 + i / 10, ev.AgentOutput(agent=name, changes=list(enumerate(_screen(name, lines, 40))),
                                         keyframe=True, width=120, height=40))
        if kind in (3, 6):
            add(110, ev.AgentExited(agent=name, pane=f"%{i}", code=1 if kind == 3 else 127))
    return out


def _recorded(events: list[ev.Event], tmp_path: Path) -> RecordedFleet:
    path = tmp_path / "events.jsonl"
    writer = open_log(path)
    for event in events:
        writer.append(event)
    writer.close()
    events, warnings = read_log(path)
    assert not warnings
    return RecordedFleet.from_events(load_config(CONFIG), events)


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


@pytest.fixture
def recorded(tmp_path: Path, utc: None) -> RecordedFleet:
    return _recorded(session_events(), tmp_path)


def _app(recorded: RecordedFleet) -> FleetApp:
    return FleetApp(recorded, clock=lambda: NOW)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_main_screen(snap_compare, recorded: RecordedFleet, size: tuple[int, int]) -> None:
    assert snap_compare(_app(recorded), terminal_size=size, run_before=app_drawn)


@pytest.mark.parametrize("count", [1, 3, 8, 30])
@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)], ids=["80x24", "120x40", "200x60"])
def test_grid_fits_the_fleet(snap_compare, tmp_path: Path, utc: None, size: tuple[int, int],
                             count: int) -> None:
    app = _app(_recorded(fleet_events(count), tmp_path))
    assert snap_compare(app, terminal_size=size, run_before=app_drawn)


def test_board_80x24(snap_compare, recorded: RecordedFleet) -> None:
    assert snap_compare(_app(recorded), terminal_size=(80, 24), press=["2"], run_before=app_drawn)


def test_timeline_80x24(snap_compare, recorded: RecordedFleet) -> None:
    assert snap_compare(_app(recorded), terminal_size=(80, 24), press=["3"], run_before=app_drawn)


def test_zoom(snap_compare, recorded: RecordedFleet) -> None:
    async def zoom(pilot) -> None:
        await app_drawn(pilot)
        await pilot.press("right", "z")
        view = pilot.app.screen.query_one(PaneView)
        await pilot_until(pilot, lambda: view.rows and view.is_vertical_scroll_end, message="the zoomed pane")
        await pilot.pause()

    assert snap_compare(_app(recorded), terminal_size=(100, 30), run_before=zoom)


def test_help(snap_compare, recorded: RecordedFleet) -> None:
    assert snap_compare(_app(recorded), terminal_size=(80, 40), press=["question_mark"],
                        run_before=app_drawn)


def test_spawn_dialog(snap_compare, recorded: RecordedFleet) -> None:
    app = _app(recorded)
    app.read_only = False  # the dialog itself, as live mode shows it (nothing is submitted)
    assert snap_compare(app, terminal_size=(80, 24), press=["n"], run_before=app_drawn)


@pytest.mark.anyio
async def test_resizing_switches_between_rows_and_cards(recorded: RecordedFleet) -> None:
    app = _app(recorded)
    async with app.run_test(size=(80, 24)) as pilot:
        grid = app.main.query_one(AgentGrid)
        for size, compact in [((80, 24), False), ((200, 60), False), ((80, 12), True), ((80, 24), False)]:
            await pilot.resize_terminal(*size)
            await app_drawn(pilot)
            assert grid.plan == plan_grid(*grid.size, 4, grid.pane_size), size
            assert grid.has_class("-compact") == compact, size


@pytest.mark.anyio
async def test_snapshot_fleets_are_drawn(tmp_path: Path, utc: None) -> None:
    """The fleets above lay out as the snapshots show them (a check that does not need SVGs)."""
    app = _app(_recorded(fleet_events(8), tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await app_drawn(pilot)
        grid = app.main.query_one(AgentGrid)
        assert grid.has_class("-compact") and grid_drawn(app)
        assert "EXITED 127 not found" in grid.cards["agent-06"].render_line(0).text
        assert grid.cards["agent-01"].render_line(0).text.rstrip().endswith("(Y)es/(N)o [Yes]:")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
