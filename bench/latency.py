"""Benchmark of an agent's report reaching the user: ``fleet-tui emit`` to state and to screen.

A private tmux server with one idle demo agent and the real daemon process in it (started by
``ensure_daemon``, as ``fleet-tui`` does); the real FleetApp as its client (``LiveFleet``) run
headless (``App.run_test``) in this process, the timeline area shown, the screen tall enough to
hold every event without scrolling. ``--count`` times, a random ``--gap`` apart (so the app's
refresh timer is met at every phase), this script runs
``fleet-tui emit task.note --task T1 --note <unique>`` as a subprocess, the way an agent or
its hook does, and measures from the moment that process has returned:

- ``emit_to_log``: until the daemon has written the event to the session's log (a second
  ``LogFollower`` of this script reads it; polled every 2 ms on the app's event loop);
- ``emit_to_screen``: until a line of the timeline widget, as rendered, shows the note (polled
  the same way). The app folds the log and refreshes its view on a timer (``REFRESH_HZ``),
  which adds up to 1/REFRESH_HZ s to the first figure.

Also the run time of the ``emit`` process itself (mostly Python starting), for scale. An
emit→log figure can be negative: the daemon's inbox watcher may pick up the file before the
emitting process has exited. Target (the issue): emit→screen p95 <= 150 ms.

Prints one JSON object. Run: ``python bench/latency.py [--count 50] [--gap 0.2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

from common import ms_summary
from daemon_fleet import BenchFleet

from fleet_tui.adapters import paths
from fleet_tui.adapters.agent_tokens import TOKEN_ENV, AgentTokens
from fleet_tui.client.follower import LogFollower
from fleet_tui.client.live import LiveFleet
from fleet_tui.core import events as ev
from fleet_tui.ui.app import REFRESH_HZ, FleetApp
from fleet_tui.ui.timeline import Timeline

SCREEN_P95_TARGET_MS = 150.0

FLEET = {
    "fleet": "latency",
    "agents": [{"name": "dev", "roles": ["developer"], "preset": "demo",
                "command": ["python", "-m", "fleet_tui.demo_agent", "--pace", "0"]}],
    "tasks": [{"id": "T1", "title": "Latency probe", "column": "backlog"}],
    "routing": {"stages": [{"name": "backlog"}, {"name": "in_progress", "roles": ["developer"]},
                           {"name": "done"}]},
}


def emit_argv(inbox: Path, note: str, agent: str = "dev") -> list[str]:
    script = Path(sys.executable).with_name("fleet-tui")
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "fleet_tui.cli"]
    return [*cli, "emit", "task.note", "--task", "T1", "--agent", agent, "--note", note,
            "--inbox", str(inbox)]


class LogProbe:
    """When each probe note first showed up in the daemon's log (read by ``check``)."""

    def __init__(self, log: Path) -> None:
        self.follower = LogFollower(log)
        self.follower.open()
        self.seen: dict[str, float] = {}
        #: The event's own time (the daemon's clock when it logged it), wall clock.
        self.logged: dict[str, float] = {}

    def check(self) -> None:
        now = time.monotonic()
        for event in self.follower.read():
            if isinstance(event, ev.TaskNote) and event.text.startswith("probe-"):
                self.seen.setdefault(event.text, now)
                self.logged.setdefault(event.text, event.ts)


def on_screen(timeline: Timeline, note: str) -> bool:
    return any(note in timeline.render_line(y).text for y in range(timeline.size.height))


def emit(inbox: Path, note: str, agent: str = "dev") -> tuple[float, float]:
    """Run one emit of a note on task T1 as ``agent`` (with the token the daemon gives that
    agent at spawn); (when it returned, how long it ran), monotonic seconds."""
    env = {**os.environ, TOKEN_ENV: AgentTokens.for_session(inbox.parent).token(agent)}
    start = time.monotonic()
    subprocess.run(emit_argv(inbox, note, agent), check=True, env=env)
    done = time.monotonic()
    return done, done - start


async def measure(app: FleetApp, client: LiveFleet, probe: LogProbe,
                  args: argparse.Namespace) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"emit": [], "emit_to_log": [], "emit_to_screen": []}
    # Tall enough that every event fits: what is measured is the event reaching the screen,
    # not the timeline scrolling to it.
    async with app.run_test(size=(160, args.count + 60)) as pilot:
        while not (client.session_id and "dev" in client.state.agents):
            await pilot.pause(0.05)
        await pilot.press("3")  # show the timeline
        inbox = paths.inbox_dir(client.session_id)
        timeline = app.query_one(Timeline)
        for i in range(-1, args.count):  # -1: a warm-up, not counted
            note = f"probe-{i}-{uuid.uuid4().hex[:6]}"
            returned, took = await asyncio.to_thread(emit, inbox, note)
            deadline = returned + 10
            while True:
                probe.check()
                if on_screen(timeline, note):
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"{note} never showed up on the timeline")
                await asyncio.sleep(0.002)
            shown = time.monotonic()
            if i >= 0:
                out["emit"].append(took)
                out["emit_to_log"].append(probe.seen[note] - returned)
                out["emit_to_screen"].append(shown - returned)
            await asyncio.sleep(args.gap + random.uniform(0, 1 / REFRESH_HZ))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between emits (plus jitter)")
    args = parser.parse_args()
    fleet = BenchFleet("latency")
    try:
        fleet.write_config(FLEET)
        info = fleet.start_daemon()
        probe = LogProbe(Path(info["log"]))
        client = fleet.client()
        try:
            result = asyncio.run(measure(FleetApp(client), client, probe, args))
        finally:
            client.stop()
            probe.follower.close()
    finally:
        fleet.close()  # the daemon, the agents and the private tmux server
    summary = {name: ms_summary(values) for name, values in result.items()}
    p95 = summary["emit_to_screen"]["p95"]
    print(json.dumps({
        "count": args.count, "refresh_hz": REFRESH_HZ,
        **{f"{name}_ms": value for name, value in summary.items()},
        "target": {"emit_to_screen_p95_ms": SCREEN_P95_TARGET_MS}, "ok": p95 <= SCREEN_P95_TARGET_MS,
    }))


if __name__ == "__main__":
    main()
