"""The coordination end to end, through the real app: three demo agents (developer, reviewer,
releaser) on a real tmux server take a seed task from ready to done. It is routed, implemented,
reviewed, sent back once with a note, implemented again, approved by the user pressing ``a``,
released and done; the log shows every decision with its reason."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from fleet_tui.adapters.eventlog_read import read_log
from fleet_tui.core import events as ev
from fleet_tui.daemon.service import FleetService
from tests.fleets import DEV, PIPELINE, REV, Daemons, answer_questions, demo_agent, fleet, live_app

pytestmark = pytest.mark.anyio

REL = demo_agent("rel", "releaser", "--seed", "4")
STAGES = [*PIPELINE[:-1], {"name": "release", "roles": ["releaser"]}, PIPELINE[-1]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _until(pilot, orch: FleetService, check: Callable[[], object], what: str) -> None:
    """Poll ``check`` while answering the agents' questions as a user would."""
    for _ in range(600):
        if check():
            return
        await asyncio.to_thread(answer_questions, orch)
        await pilot.pause(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_task_goes_from_ready_to_done_with_every_decision_logged(
        tmp_path: Path, tmux_socket: str) -> None:
    made = Daemons(tmp_path, tmux_socket)
    daemon = made(fleet(DEV, REV, REL, stages=STAGES, approvals=[{"from": "review", "to": "release"}]))
    orch = daemon.service
    app = live_app(daemon)
    t1 = lambda: app.fleet.state.tasks.get("T1")  # noqa: E731 - as the UI shows it
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await _until(pilot, orch, lambda: (task := t1()) and task.pending_approvals, "the gate")
            assert t1().column == "review"
            await pilot.press("a")
            await _until(pilot, orch, lambda: t1().column == "done", "T1 done")
    finally:
        made.stop_all()

    events, _ = read_log(orch.log_path)
    assigned = [e.reason for e in events if isinstance(e, ev.TaskAssigned) and e.agent]
    assert assigned == ["assigned T1 to dev: role developer, idle, 0 tasks",
                        "assigned T1 to rev: role reviewer, idle, 0 tasks",
                        "sent back to dev, who worked it in in_progress",
                        "assigned T1 to rev: role reviewer, idle, 0 tasks",
                        "assigned T1 to rel: role releaser, idle, 0 tasks"]
    moved = [(e.column, e.reason) for e in events if isinstance(e, ev.TaskMoved)]
    assert moved == [("in_progress", "picked up by dev"),
                     ("review", "dev reported done"),
                     ("in_progress", "blocked by rev; back to in_progress"),
                     ("review", "dev reported done"),
                     ("release", "approved by the user"),
                     ("done", "rel reported done")]
    [blocked] = [e for e in events if isinstance(e, ev.TaskReported) and e.outcome == "blocked"]
    assert (blocked.source, blocked.note) == ("agent:rev", "please add a test for the empty-input case")
    sent_back = [e for e in events if isinstance(e, ev.AgentPrompted) and e.reason == "routing: T1 sent back"]
    assert len(sent_back) == 1 and "please add a test for the empty-input case" in sent_back[0].text
    [requested] = [e for e in events if isinstance(e, ev.ApprovalRequested)]
    assert (requested.approval, requested.reason) == ("review->release", "gate review->release")
    [granted] = [e for e in events if isinstance(e, ev.ApprovalGranted)]
    assert (granted.approval, granted.source) == ("review->release", ev.SOURCE_USER)
    assert [e.seq for e in events] == sorted(e.seq for e in events)
