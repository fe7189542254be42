"""Benchmark of an agent's report reaching the user: ``fleet-tui emit`` to state and to screen.

A private tmux server with one idle demo agent, the real Orchestrator inside the real FleetApp
run headless (``App.run_test``), the timeline area shown, the screen tall enough to hold every
event without scrolling. ``--count`` times, a random
``--gap`` apart (so the app's refresh timer is met at every phase), this script runs
``fleet-tui emit task.note --task T1 --note <unique>`` as a subprocess, the way an agent or
its hook does, and measures from the moment that process has returned:

- ``emit_to_state``: until an orchestrator listener gets the event (listeners run right after
  the event is logged and folded into the state, under the same lock);
- ``emit_to_screen``: until a line of the timeline widget, as rendered, shows the note (polled
  every 2 ms on the app's event loop). The app refreshes its view from the state on a timer
  (``REFRESH_HZ``), which adds up to 1/REFRESH_HZ s to the first figure.

Also the run time of the ``emit`` process itself (mostly Python starting), for scale. An
emit→state figure can be negative: the inbox watcher may pick up the file before the emitting
process has exited. Target (the issue): emit→screen p95 <= 150 ms.

Prints one JSON object. Run: ``python bench/latency.py [--count 50] [--gap 0.2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import yaml
from common import ms_summary

from fleet_tui.adapters import paths
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.config.loader import load_config
from fleet_tui.core import events as ev
from fleet_tui.orchestrator import Orchestrator
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


def emit_argv(inbox: Path, note: str) -> list[str]:
    script = Path(sys.executable).with_name("fleet-tui")
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "fleet_tui.cli"]
    return [*cli, "emit", "task.note", "--task", "T1", "--agent", "dev", "--note", note,
            "--inbox", str(inbox)]


class Probe:
    """Listener times of the probe notes, by note text (set on the inbox thread)."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        self.arrived = threading.Condition()

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.TaskNote) and event.text.startswith("probe-"):
            with self.arrived:
                self.seen[event.text] = time.monotonic()
                self.arrived.notify_all()


def on_screen(timeline: Timeline, note: str) -> bool:
    return any(note in timeline.render_line(y).text for y in range(timeline.size.height))


def emit(inbox: Path, note: str) -> tuple[float, float]:
    """Run one emit; (when it returned, how long it ran), monotonic seconds."""
    start = time.monotonic()
    subprocess.run(emit_argv(inbox, note), check=True)
    done = time.monotonic()
    return done, done - start


async def measure(app: FleetApp, orchestrator: Orchestrator, probe: Probe,
                  args: argparse.Namespace) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"emit": [], "emit_to_state": [], "emit_to_screen": []}
    # Tall enough that every event fits: what is measured is the event reaching the screen,
    # not the timeline scrolling to it.
    async with app.run_test(size=(160, args.count + 60)) as pilot:
        while not (orchestrator.session_id and "dev" in orchestrator.state.agents):
            await pilot.pause(0.05)
        await pilot.press("3")  # show the timeline
        inbox = paths.inbox_dir(orchestrator.session_id)
        timeline = app.query_one(Timeline)
        for i in range(-1, args.count):  # -1: a warm-up, not counted
            note = f"probe-{i}-{uuid.uuid4().hex[:6]}"
            returned, took = await asyncio.to_thread(emit, inbox, note)
            deadline = returned + 10
            while not on_screen(timeline, note):
                if time.monotonic() > deadline:
                    raise SystemExit(f"{note} never showed up on the timeline")
                await asyncio.sleep(0.002)
            shown = time.monotonic()
            if i >= 0:
                out["emit"].append(took)
                out["emit_to_state"].append(probe.seen[note] - returned)
                out["emit_to_screen"].append(shown - returned)
            await asyncio.sleep(args.gap + random.uniform(0, 1 / REFRESH_HZ))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between emits (plus jitter)")
    args = parser.parse_args()
    os.environ.pop("TMUX", None)
    folder = Path(tempfile.mkdtemp(prefix="fleet-bench-latency-"))
    os.environ["FLEET_HOME"] = str(folder / "home")
    config = folder / "fleet.yaml"
    config.write_text(yaml.safe_dump(FLEET, sort_keys=False))
    socket = f"fleet-bench-latency-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    orchestrator = Orchestrator(load_config(config))
    orchestrator.socket_name, orchestrator.driver = socket, TmuxDriver(socket)
    probe = Probe()
    orchestrator.add_listener(probe)
    try:
        result = asyncio.run(measure(FleetApp(orchestrator), orchestrator, probe, args))
    finally:
        orchestrator.stop(kill_agents=True)  # and the private tmux server
        shutil.rmtree(folder, ignore_errors=True)
    summary = {name: ms_summary(values) for name, values in result.items()}
    p95 = summary["emit_to_screen"]["p95"]
    print(json.dumps({
        "count": args.count, "refresh_hz": REFRESH_HZ,
        **{f"{name}_ms": value for name, value in summary.items()},
        "target": {"emit_to_screen_p95_ms": SCREEN_P95_TARGET_MS}, "ok": p95 <= SCREEN_P95_TARGET_MS,
    }))


if __name__ == "__main__":
    main()
