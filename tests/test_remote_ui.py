"""The app drives an agent on a remote host like a local one, end to end: a real sshd on
127.0.0.1 (its own HOME and TMUX_TMPDIR), real tmux servers on private sockets, a real daemon
and the real FleetApp under Textual's pilot, with one local agent (``near``) and one on host
``loop`` (``far``). The card names the host and shows what the agent prints there; zoom,
prompts, pause and resume, the board and the timeline, attach (``ssh -t``), a dropped link and
its return, kill and replay all work on it; ``d`` says in one line why it has no diff. While
its link is down, zoom shows its last screen and what cannot reach it is refused in one line."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleet_tui.adapters.eventlog_read import read_log
from fleet_tui.adapters.hosts import host_driver
from fleet_tui.adapters.procs import descendants, is_alive, read_proc
from fleet_tui.config.loader import load_config
from fleet_tui.core import events as ev
from fleet_tui.core.state import UNREACHABLE
from fleet_tui.replay.cursor import ReplayCursor
from fleet_tui.replay.index import open_index
from fleet_tui.ui.agent_grid import AgentGrid
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.board import BoardColumn
from fleet_tui.ui.dialogs import ConfirmScreen, PromptScreen
from fleet_tui.ui.diff_actions import ELSEWHERE
from fleet_tui.ui.replay_app import ReplayApp, ReplayFleet
from fleet_tui.ui.timeline import Timeline
from fleet_tui.ui.zoom import PaneView, ZoomScreen
from tests.fleets import Daemons, live_app
from tests.helpers import app_drawn, pilot_until, type_text
from tests.sshd import Sshd

pytestmark = [pytest.mark.anyio, pytest.mark.tmux]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def echo_agent(name: str, **more: Any) -> dict[str, Any]:
    """An agent that says it is ready, then echoes each line it reads as ``NAME:line``."""
    script = f'echo "{name} ready on $(hostname)"; while read l; do echo "{name}:$l"; done'
    return {"name": name, "command": ["sh", "-c", script], "preset": "none", **more}


@pytest.fixture
def made(tmp_path: Path, tmux_socket: str, sshd: Sshd) -> Iterator[Daemons]:
    config = {
        "fleet": "spread",
        "hosts": [{"name": "loop", "ssh": sshd.target.destination, "port": sshd.port,
                   "identity": sshd.target.identity, "python": sys.executable}],
        "agents": [echo_agent("near"), echo_agent("far", host="loop", roles=["builder"])],
        "tasks": [{"id": "T1", "title": "Build the far side", "role": "builder", "column": "ready"}],
        "routing": {"auto_route": False},  # the user gives T1 to far on the board
    }
    daemons = Daemons(tmp_path, tmux_socket, ssh_options=sshd.target.options)
    daemons.config.write_text(yaml.safe_dump(config, sort_keys=False))
    try:
        yield daemons
    finally:
        daemons.stop_all()
        if sshd.proc is None:
            sshd.start()
        spec = load_config(daemons.config).config.hosts[0]
        remote = host_driver(spec, tmux_socket, sshd.target.options)  # the host's own server
        try:
            remote.link.open()
            remote.kill_server()
        finally:
            remote.link.close()


def drawn(widget: Any) -> str:
    """What a Line-API widget (a card, the grid, the timeline) draws now, row by row."""
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


def header(app: FleetApp) -> str:
    return str(app.main.query_one("#header").render())


def record_notices(app: FleetApp) -> list[str]:
    """Every notice the app shows from now on (they fade from the screen: kept here)."""
    seen: list[str] = []
    notify = app.notify

    def recording(message: str, **kwargs: Any) -> None:
        seen.append(message)
        notify(message, **kwargs)

    app.notify = recording  # type: ignore[method-assign]
    return seen


async def prompt(pilot, text: str) -> None:
    """The user's way to prompt the focused agent: ``s``, the text, ctrl+d."""
    await pilot.press("s")
    assert isinstance(pilot.app.screen, PromptScreen)
    await type_text(pilot, text)
    await pilot.press("ctrl+d")


@contextlib.contextmanager
def attaching(app: FleetApp, code: int) -> Iterator[list[list[str]]]:
    """What ``enter`` would run, recorded instead (a headless app has no terminal to lend),
    each ending with ``code``. Only the app's own thread is faked: the daemon's threads run
    their tmux and ssh commands as usual."""
    ran: list[list[str]] = []
    real_run = subprocess.run

    def run(argv: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is not threading.main_thread():
            return real_run(argv, *args, **kwargs)
        ran.append(list(argv))
        return subprocess.CompletedProcess(argv, code)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess, "run", run)
        patch.setattr(app, "suspend", contextlib.nullcontext)
        yield ran


def agent_procs(pane_pid: int) -> list[str]:
    """The states (``/proc``) of the agent's processes under its pane's supervisor."""
    return [p.state for p in descendants(pane_pid)]


async def test_a_remote_agent_is_shown_and_driven_like_a_local_one(
        made: Daemons, sshd: Sshd) -> None:
    daemon = made()
    app = live_app(daemon)
    state = lambda: app.fleet.state  # noqa: E731 - the fold of the daemon's log, as shown
    notices = record_notices(app)
    async with app.run_test(size=(120, 40)) as pilot:
        grid = app.main.query_one(AgentGrid)
        await pilot_until(pilot, lambda: set(grid.cards) == {"near", "far"}, message="both cards")
        await app_drawn(pilot)
        far_card = lambda: drawn(grid.cards["far"])  # noqa: E731
        near_card = lambda: drawn(grid.cards["near"])  # noqa: E731

        # the grid: far's card names its host and shows what it printed there
        await pilot_until(pilot, lambda: "far ready on" in far_card() and "near ready" in near_card(),
                          message="both agents' output on their cards")
        assert far_card().splitlines()[0].startswith("far@loop")
        assert not near_card().splitlines()[0].startswith("near@")
        app.focus_agent("far")

        # zoom shows its screen; a prompt (s, from the zoom) reaches it and its echo comes back,
        # in the zoom view (still shown) and on its card
        await pilot.press("z")
        assert isinstance(app.screen, ZoomScreen)
        view = app.screen.query_one(PaneView)
        await pilot_until(pilot, lambda: any("far ready on" in r for r in view.rows), message="zoom")
        await prompt(pilot, "over the link; 'quoted'")
        await pilot_until(pilot, lambda: any("far:over the link; 'quoted'" in r for r in view.rows),
                          message="far's echo in the zoom view")
        assert isinstance(app.screen, ZoomScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, ZoomScreen)
        await pilot_until(pilot, lambda: "far:over the link; 'quoted'" in far_card(), message="card")

        # p pauses the remote agent (its processes really stop) and resumes it
        pane_pid = state().agents["far"].pid
        pane_proc = read_proc(pane_pid or 0)  # the host is this machine: its /proc is ours
        assert pane_pid and pane_proc and agent_procs(pane_pid)
        await pilot.press("p")
        await pilot_until(pilot, lambda: state().agents["far"].paused
                          and all(s == "T" for s in agent_procs(pane_pid)), message="far stopped")
        assert any(isinstance(e, ev.AgentPaused) and e.agent == "far" for e in state().timeline)
        await pilot_until(pilot, lambda: "PAUSED" in far_card(), message="PAUSED on its card")
        await pilot.press("p")
        await pilot_until(pilot, lambda: not state().agents["far"].paused
                          and "T" not in agent_procs(pane_pid), message="far running again")
        assert any(isinstance(e, ev.AgentResumed) and e.agent == "far" for e in state().timeline)

        # the board: T1 given to far (A), shown with it; the timeline has its events
        await pilot.press("2")
        ready = app.main.query_one("#col-ready", BoardColumn)
        ready.focus()
        await pilot.press("down")
        await pilot.press("A")
        await pilot_until(pilot, lambda: state().tasks["T1"].assignee == "far", message="T1 to far")
        column = app.main.query_one(f"#col-{state().tasks['T1'].column}", BoardColumn)
        await pilot_until(pilot, lambda: any(
            "T1" in str(column.get_option_at_index(i).prompt) and "@far" in
            str(column.get_option_at_index(i).prompt) for i in range(column.option_count)),
            message="T1 @far on the board")
        await pilot_until(pilot, lambda: any(isinstance(e, ev.AgentPrompted) and e.agent == "far"
                                             and e.task == "T1" for e in state().timeline),
                          message="far prompted with T1")
        column.focus()  # d on the board: T1's files are on far's host
        await pilot.press("down", "d")
        assert f"T1 is with far on host loop: {ELSEWHERE}" in notices
        await pilot.press("slash")  # the timeline, filtered to far's events
        await type_text(pilot, "agent:far")
        await pilot.press("enter")
        timeline = app.main.query_one(Timeline)
        await pilot_until(pilot, lambda: "task.assigned" in drawn(timeline)
                          and "agent.paused" in drawn(timeline), message="far's events on the timeline")
        rows = drawn(timeline).splitlines()
        assert any("task.assigned" in r and "T1" in r and "far" in r for r in rows)
        assert any("agent.paused" in r and "far" in r for r in rows)
        assert not any("near" in r for r in rows)
        await pilot.press("slash", *["backspace"] * len("agent:far"), "enter")  # no filter

        # enter attaches with ssh -t to the host's tmux (what the app would run, not run here);
        # a failed attach is a notice once the app is back
        with attaching(app, code=1) as ran:
            await pilot.press("1")
            app.focus_agent("far")
            await pilot.press("enter")
            app.focus_agent("near")
            await pilot.press("enter")
        far_argv, near_argv = ran
        assert far_argv[0] == "ssh" and "-t" in far_argv and sshd.target.destination in far_argv
        assert shlex.split(far_argv[-1])[-2:] == ["-t", "=fleet_far"]
        assert near_argv[0] != "ssh" and near_argv[-1] == "=fleet_near"
        assert {"attach far: ssh ended with code 1", "attach near: tmux ended with code 1"} <= set(notices)

        # d: far's files are on its host; one line says so
        app.focus_agent("far")
        await pilot.press("d")
        assert f"far runs on host loop: {ELSEWHERE}" in notices
        assert ELSEWHERE == "its files are there; diffs are shown for agents on this machine"

        # the link drops: far is UNREACHABLE, an alert comes, near goes on
        await asyncio.to_thread(sshd.drop)
        await pilot_until(pilot, lambda: state().agents["far"].status == UNREACHABLE
                          and "UNREACHABLE" in far_card(), tries=400, message="far unreachable")
        await pilot_until(pilot, lambda: "1 unreachable" in header(app) and "alert" in header(app),
                          message="the header's host alert")
        assert state().agents["far"].alive and state().agents["near"].status != UNREACHABLE
        app.focus_agent("far")  # nothing can be done to it meanwhile, and the user is told why
        away = "far runs on host loop, which cannot be reached now (reconnecting)"
        with attaching(app, code=0) as ran:
            await pilot.press("enter")
        assert not ran and [n for n in notices if n.startswith(away)]
        await pilot.press("r")
        await prompt(pilot, "while away")
        await pilot_until(pilot, lambda: sum(away in n for n in notices) == 3, message="refusals")
        assert {n.split(":")[0] for n in notices if away in n} == {away.split(":")[0], "restart", "prompt"}
        assert state().agents["far"].alive and state().agents["far"].status == UNREACHABLE
        fetched: list[str] = []  # zoom shows its last screen, and no notice about the link
        with pytest.MonkeyPatch.context() as patch:
            pane_rows = app.fleet.pane_rows
            patch.setattr(app.fleet, "pane_rows", lambda name: fetched.append(name) or pane_rows(name))
            await pilot.press("z")
            view = app.screen.query_one(PaneView)
            await pilot_until(pilot, lambda: len(fetched) >= 3 and any(
                "far:over the link; 'quoted'" in r for r in view.rows), message="zoom, refreshed")
            await prompt(pilot, "zoomed, away")  # from the zoom too: refused in one line
            await pilot_until(pilot, lambda: sum(away in n for n in notices) == 4,
                              message="the refusal from the zoom")
            assert isinstance(app.screen, ZoomScreen)
            await pilot.press("escape")
        assert not [n for n in notices if n.startswith("zoom")]
        app.focus_agent("near")
        await prompt(pilot, "still here")
        await pilot_until(pilot, lambda: "near:still here" in near_card(), message="near goes on")
        await pilot.press("3")
        await pilot_until(pilot, lambda: "host.unreachable" in drawn(timeline)
                          and "host loop unreachable (retrying)" in drawn(timeline),
                          message="the host alert on the timeline")
        await pilot.press("slash")  # filtered to far: its host's events and alert stay
        await type_text(pilot, "agent:far")
        await pilot.press("enter")
        await pilot_until(pilot, lambda: "host.unreachable" in drawn(timeline)
                          and "host loop unreachable (retrying)" in drawn(timeline),
                          message="far's host events, filtered to far")
        assert not any("near" in r for r in drawn(timeline).splitlines())
        await pilot.press("slash", *["backspace"] * len("agent:far"), "enter")  # no filter

        # the link is back (retried with a growing delay, up to 30 s): far is as before, answers
        await asyncio.to_thread(sshd.start)
        await pilot.press("1")
        await pilot_until(pilot, lambda: state().agents["far"].status != UNREACHABLE
                          and "UNREACHABLE" not in far_card(), tries=1000, message="far back")
        await pilot_until(pilot, lambda: "unreachable" not in header(app), message="header back")
        assert state().agents["far"].pid == pane_pid
        app.focus_agent("far")
        await prompt(pilot, "back again")
        await pilot_until(pilot, lambda: "far:back again" in far_card(), message="far answers again")

        # x kills it, once confirmed: its processes on the host are gone
        procs = [(p.pid, p.start) for p in [pane_proc, *descendants(pane_pid)]]
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot_until(pilot, lambda: not state().agents["far"].alive, message="far killed")
        await pilot_until(pilot, lambda: not any(is_alive(*p) for p in procs), message="far's processes gone")
        assert state().agents["near"].alive
    made.stop_all()
    far = [(type(e), e.source) for e in read_log(daemon.service.log_path)[0]
           if getattr(e, "agent", None) == "far" or getattr(e, "host", None) == "loop"]
    for kind in (ev.AgentPaused, ev.AgentResumed, ev.TaskAssigned, ev.AgentKilled):
        assert (kind, ev.SOURCE_USER) in far, kind  # in the log, as the user's doing
    assert {ev.HostUnreachable, ev.HostReachable} <= {kind for kind, _ in far}
    assert ev.Error not in {kind for kind, _ in far}  # the refused restart tried nothing
    assert [kind for kind, _ in far].count(ev.AgentSpawned) == 1

    # replay of the finished session: far's card with its host and what it printed
    log = daemon.service.log_path
    index = open_index(log)
    try:
        cursor = ReplayCursor(index)
        cursor.end()
        loaded = load_config(made.config)
        replay = ReplayApp(ReplayFleet(loaded.config, cursor, session_id=daemon.service.session_id,
                                       loaded=loaded))
        async with replay.run_test(size=(120, 40)) as pilot:
            grid = replay.main.query_one(AgentGrid)
            await pilot_until(pilot, lambda: set(grid.cards) == {"near", "far"}, message="replayed cards")
            await app_drawn(pilot)
            card = drawn(grid.cards["far"])
            assert card.splitlines()[0].startswith("far@loop")
            assert "far:back again" in card and "EXITED" in card
    finally:
        index.close()
