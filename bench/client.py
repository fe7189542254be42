"""Benchmark of the fleet as a daemon and its clients (issue 10's speed targets), 30 agents.

A private tmux server with ``--agents`` agents (bench/ui.py's ``lines`` load: each prints a
coloured line every 100 ms while its flag file exists, so this script makes them busy or idle
at will) and the real daemon process in it (``ensure_daemon``, as ``fleet-tui`` does); the
real FleetApp as its client (``LiveFleet``) in this process, rendering every frame to ANSI as
for a terminal (``--width`` x ``--height``), the frames discarded but watched. In order:

- ``idle``: every agent at its prompt, ``--idle-seconds``: CPU of the daemon (target <= 1 %),
  of the UI and of the tmux server;
- ``keys_idle``: ``--presses`` times, focus a card (one of the first ten, in turn), press
  ``p`` (handed to the driver as the input thread would) and time until a frame writes PAUSED
  in that card's badge; press ``p`` again and time until a frame writes another status there.
  Key -> request over the control socket -> the daemon signals the agent and logs the event
  -> the UI folds the log -> the frame. Target p95 <= 100 ms;
- ``busy``: every agent printing, after ``--warmup`` s, ``--seconds``: CPU of daemon + UI,
  frames written and the UI's CPU per frame;
- ``keys``: the same presses with every agent printing (as bench/ui.py presses keys);
- ``emit``: the timeline shown (key ``3``), ``--emits`` times, ``fleet-tui emit task.note``
  run as a subprocess (as an agent's hook does), timed from its return to the frame that
  writes the note (and to the event in the daemon's log). Target p95 <= 150 ms;
- ``baseline``: the single process of before: commit ``--baseline`` (426f298) checked out
  into a temporary git worktree, ITS bench/ui.py run with the same agents, load, size,
  warm-up and length (``--busy 30 --load lines``); the ratio is (daemon + UI) over its
  process, in ``--rounds`` pairs of windows (the first pair uses the busy window above, the
  others a fleet started for it), and the median taken: on a loaded machine a starved UI draws
  fewer frames and so uses less CPU, so each window also reports its frames/s. Target <= 1.2x;
- ``open``: a session log of ``--events`` events (bench/replay.py's writer), opened by a
  client app as ``LiveFleet`` does (``LogFollower.open``: the replay index's snapshot nearest
  the end, then the rest): time from ``App.run`` to the first frame showing the agents, with
  the index built by this open and with it cached. Target <= 2 s.

The machine's own load skews every figure: each window reports the machine's CPU use and how
long the UI's event loop waited for a CPU. Prints one JSON object; progress on stderr.

Run: ``python bench/client.py [--agents 30] [--seconds 20] [--presses 40] [--emits 30]
[--events 1000000] [--skip baseline open ...]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from statistics import median
from typing import Any

from common import DiscardingDriver, ms_summary
from daemon_fleet import BenchFleet, CpuMeter
from frames import FrameDriver, plain_text_has, written_text
from latency import LogProbe, emit
from replay import write_session
from textual import events
from ui import fleet_config, machine_ticks, progress, runqueue_wait

from fleet_tui.adapters import paths
from fleet_tui.client.live import LiveFleet
from fleet_tui.replay.index import index_path
from fleet_tui.ui.agent_card import AgentCard
from fleet_tui.ui.agent_grid import AgentGrid
from fleet_tui.ui.app import REFRESH_HZ, FleetApp

BASELINE = "426f298"
TARGETS = {"key_p95_ms": 100.0, "emit_p95_ms": 150.0, "cpu_ratio": 1.2,
           "idle_daemon_cpu_pct": 1.0, "first_frame_s": 2.0}
REPO = Path(__file__).resolve().parent.parent


def window_extras(start: tuple[tuple[int, int], float, float]) -> dict[str, float]:
    (busy0, all0), wait0, wall0 = start
    busy, total = (a - b for a, b in zip(machine_ticks(), (busy0, all0), strict=True))
    wall = time.perf_counter() - wall0
    return {"machine_busy_pct": round(busy / max(total, 1) * 100, 1),
            "ui_loop_cpu_wait_pct": round((runqueue_wait() - wait0) / wall * 100, 1)}


class LiveBench:
    """The auto-pilot of the live part: idle window, busy window, keys, emits."""

    def __init__(self, app: FleetApp, fleet: BenchFleet, client: LiveFleet,
                 args: argparse.Namespace, busy_only: bool = False) -> None:
        self.app, self.fleet, self.client, self.args = app, fleet, client, args
        self.busy_only = busy_only
        self.names = [f"agent-{i:02d}" for i in range(args.agents)]

    async def drive(self, _pilot: object) -> None:
        try:
            self.app.exit(await self.run())  # type: ignore[arg-type]
        except Exception as exc:
            self.app.exit({"error": f"{type(exc).__name__}: {exc}"})  # type: ignore[arg-type]

    def set_busy(self, busy: bool) -> None:
        for name in self.names:
            flag = self.fleet.folder / f"active-{name}"
            flag.touch() if busy else flag.unlink(missing_ok=True)

    async def window(self, seconds: float) -> dict[str, Any]:
        meter = CpuMeter(self.fleet)
        start = machine_ticks(), runqueue_wait(), time.perf_counter()
        frames, written = FrameDriver.frames, DiscardingDriver.written
        meter.start()
        await asyncio.sleep(seconds)
        cpu = meter.stop()
        frames, written = FrameDriver.frames - frames, DiscardingDriver.written - written
        return {"seconds": seconds, "cpu_pct": cpu, "frames_per_s": round(frames / seconds, 1),
                "output_kb_per_s": round(written / seconds / 1024, 1),
                "ui_cpu_ms_per_frame": round(cpu["ui"] * 10 * seconds / max(frames, 1), 1),
                **window_extras(start)}

    async def run(self) -> dict[str, Any]:
        app, args = self.app, self.args
        grid = app.query_one(AgentGrid)
        deadline = time.monotonic() + 60 + 2 * args.agents
        while len(grid.cards) < args.agents or not all(
                a.screen for a in self.client.state.agents.values()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(grid.cards)} of {args.agents} agents showed output")
            await asyncio.sleep(0.2)
        result: dict[str, Any] = {}
        if self.busy_only:
            self.set_busy(True)
            progress(f"busy: warming up {args.warmup:g} s, window {args.seconds:g} s")
            await asyncio.sleep(args.warmup)
            return {"busy": await self.window(args.seconds)}
        progress(f"{args.agents} cards live; idle window {args.idle_seconds:g} s")
        await asyncio.sleep(args.warmup)
        result["idle"] = await self.window(args.idle_seconds)
        progress(f"idle: pressing p {args.presses} times (pause, then resume)")
        result["keys_idle"] = await self.press_pause(grid)
        self.set_busy(True)
        progress(f"busy: warming up {args.warmup:g} s, window {args.seconds:g} s")
        await asyncio.sleep(args.warmup)
        result["busy"] = await self.window(args.seconds)
        progress(f"busy: pressing p {args.presses} times (pause, then resume)")
        profiler = cProfile.Profile() if args.profile else None
        if profiler is not None:  # the event loop's thread only
            profiler.enable()
        result["keys"] = await self.press_pause(grid)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        progress(f"{args.emits} emits")
        result["emit"] = await self.emits()
        return result

    def press(self, key: str) -> None:
        driver = FrameDriver.current
        assert driver is not None
        driver.process_message(events.Key(key, key if len(key) == 1 else None))

    async def press_pause(self, grid: AgentGrid) -> dict[str, Any]:
        """Pause and resume cards with ``p``; each press timed to the frame, and split: until
        the request left (a worker thread), the request (socket, daemon, tmux, the event
        logged), the reply to the frame (the UI's fold and render)."""
        samples: dict[str, list[float]] = {k: [] for k in (
            "pause", "resume", "to_request", "request", "reply_to_frame", "loop_cpu", "loop_cpu_wait")}
        missed = 0
        calls: list[tuple[float, float]] = []
        call = self.client.call

        def timed_call(op: str, **args: Any) -> Any:  # on the app's worker thread
            began = time.monotonic()
            try:
                return call(op, **args)
            finally:
                calls.append((began, time.monotonic()))

        self.client.call = timed_call  # type: ignore[method-assign]
        cards = [grid.cards[name] for name in self.names[:10]]
        for i in range(self.args.presses):
            card: AgentCard = cards[i % len(cards)]
            grid.focus_agent(card.agent_name)
            await asyncio.sleep(0.3)
            box = card.content_region
            # The badge is "  PAUSED  " after the name and a space: PAUSED starts 2 cells in.
            badge = written_text(box.x + len(card.agent_name) + 3, box.y, len("PAUSED"))
            for wanted, kind in ((lambda s: s == "PAUSED", "pause"),
                                 (lambda s: bool(s) and s != "PAUSED", "resume")):
                watch = FrameDriver.watch(lambda data, w=wanted, b=badge: w(b(data)))
                calls.clear()
                start = time.monotonic(), time.thread_time(), runqueue_wait()
                self.press("p")
                if not await FrameDriver.wait(watch, 5.0):
                    missed += 1
                    continue
                samples[kind].append(watch.at - start[0])
                samples["loop_cpu"].append(watch.cpu - start[1])
                samples["loop_cpu_wait"].append(watch.wait - start[2])
                if calls:
                    sent, replied = calls[0]
                    samples["to_request"].append(sent - start[0])
                    samples["request"].append(replied - sent)
                    samples["reply_to_frame"].append(watch.at - replied)
                await asyncio.sleep(0.1 + (i * 37 % 100) / 1000)  # varied phase of the refresh tick
        self.client.call = call  # type: ignore[method-assign]
        return {
            "measures": "Driver.process_message(Key p) on a focused card to the write of the "
                        "frame showing PAUSED in its badge (pause), then another status (resume)",
            "latency_ms": ms_summary(samples["pause"] + samples["resume"]),
            **{f"{k}_ms": ms_summary(v) for k, v in samples.items()},
            "missed": missed,
        }

    async def emits(self) -> dict[str, Any]:
        self.press("3")  # the timeline
        await asyncio.sleep(0.5)
        inbox = paths.inbox_dir(self.client.session_id)
        log = LogProbe(Path(self.fleet.info["log"]))
        out: dict[str, list[float]] = {k: [] for k in (
            "emit", "emit_to_log", "emit_to_screen", "emit_start_to_screen", "logged_to_screen")}
        missed = 0
        try:
            for i in range(-1, self.args.emits):  # -1: a warm-up, not counted
                note = f"probe-{i}-{uuid.uuid4().hex[:6]}"
                watch = FrameDriver.watch(plain_text_has(note))
                task = asyncio.create_task(asyncio.to_thread(emit, inbox, note, self.names[0]))
                while not task.done():
                    log.check()
                    await asyncio.sleep(0.002)
                returned, took = task.result()
                if not await FrameDriver.wait(watch, 10.0):
                    missed += 1
                    continue
                log.check()
                if i >= 0:
                    out["emit"].append(took)
                    out["emit_to_log"].append(log.seen[note] - returned)
                    out["emit_to_screen"].append(watch.at - returned)
                    out["emit_start_to_screen"].append(watch.at - returned + took)
                    out["logged_to_screen"].append(watch.wall - log.logged[note])
                await asyncio.sleep(self.args.gap + random.uniform(0, 1 / REFRESH_HZ))
        finally:
            log.follower.close()
        return {**{f"{k}_ms": ms_summary(v) for k, v in out.items()}, "missed": missed,
                "measures": "emit_to_screen (the target, as bench/latency.py): from the emit "
                            "process's return to the frame writing the note (negative: the daemon "
                            "took the inbox file before the process ended); emit_start_to_screen: "
                            "from its start (Python starting included); logged_to_screen: from the "
                            "daemon logging the event (its timestamp) to the frame: the client's "
                            "part"}


def run_live(args: argparse.Namespace, busy_only: bool = False) -> dict[str, Any]:
    """The live part: every phase, or (``busy_only``) just the busy CPU window."""
    fleet = BenchFleet("client")
    try:
        config = fleet_config(fleet.folder, args.agents, 0, "lines")
        config["tasks"] = [{"id": "T1", "title": "Latency probe", "column": "backlog"}]
        fleet.write_config(config)
        progress(f"starting the daemon with {args.agents} agents on tmux socket {fleet.socket}")
        started = time.perf_counter()
        fleet.start_daemon()
        daemon_start = time.perf_counter() - started
        client = fleet.client()
        app = FleetApp(client)
        app.driver_class = FrameDriver
        bench = LiveBench(app, fleet, client, args, busy_only)
        try:
            result = app.run(headless=False, size=(args.width, args.height), auto_pilot=bench.drive)
        finally:
            client.stop()
    finally:
        fleet.close()
    if not isinstance(result, dict):
        raise SystemExit(f"the app ended without a result ({result!r})")
    return {"daemon_answered_s": round(daemon_start, 2), **result}


@contextlib.contextmanager
def baseline_tree(commit: str) -> Iterator[Path]:
    """The single-process commit checked out into a temporary git worktree (removed after)."""
    tree = Path(tempfile.mkdtemp(prefix="fleet-bench-base-")) / "tree"
    git = ["git", "-C", str(REPO)]
    subprocess.run([*git, "worktree", "add", "--detach", str(tree), commit], check=True,
                   capture_output=True)
    try:
        yield tree
    finally:
        subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=False,
                       capture_output=True)
        shutil.rmtree(tree.parent, ignore_errors=True)


def run_baseline(tree: Path, args: argparse.Namespace, presses: int) -> dict[str, Any]:
    """The previous design's bench/ui.py, from its own tree, with this run's load."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("FLEET_HOME", "FLEET_TMUX_SOCKET", "TMUX", "TMUX_PANE")}
    env["PYTHONPATH"] = str(tree)  # its fleet_tui, ahead of this checkout's editable install
    argv = [sys.executable, str(tree / "bench" / "ui.py"), "--busy", str(args.agents),
            "--agents", str(args.agents), "--load", "lines", "--seconds", str(args.seconds),
            "--warmup", str(args.warmup), "--presses", str(presses),
            "--width", str(args.width), "--height", str(args.height)]
    progress(f"baseline: {args.baseline}'s bench/ui.py in {tree}")
    proc = subprocess.run(argv, env=env, cwd=tree, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"baseline failed: {proc.stderr.strip().splitlines()[-1:]}")
    base = json.loads(proc.stdout.strip().splitlines()[-1])
    out = {key: base.get(key) for key in (
        "cpu_pct", "threads_cpu_pct", "tmux_server_cpu_pct", "loop_thread_cpu_wait_pct",
        "machine_busy_pct", "frames_per_s", "output_kb_per_s")}
    out["loop_cpu_ms_per_frame"] = round(
        base["threads_cpu_pct"].get("MainThread", 0.0) * 10 / max(base["frames_per_s"], 0.1), 1)
    if presses:
        out["key_focus_latency_ms"] = base["keys"]["latency_ms"]
    return out


def cpu_rounds(args: argparse.Namespace, first: dict[str, Any] | None) -> dict[str, Any]:
    """``--rounds`` pairs of busy windows, ours then the baseline's, one after the other (the
    machine's load drifts): daemon + UI over the single process, per pair and the median."""
    rounds = []
    with baseline_tree(args.baseline) as tree:
        for r in range(args.rounds):
            ours = first if r == 0 and first is not None else run_live(args, busy_only=True)["busy"]
            theirs = run_baseline(tree, args, args.baseline_presses if r == 0 else 0)
            rounds.append({
                "ratio": round(ours["cpu_pct"]["ui_plus_daemon"] / max(theirs["cpu_pct"], 0.1), 2),
                "ours": {"cpu_pct": ours["cpu_pct"], "frames_per_s": ours["frames_per_s"],
                         "ui_cpu_ms_per_frame": ours["ui_cpu_ms_per_frame"],
                         "ui_loop_cpu_wait_pct": ours["ui_loop_cpu_wait_pct"]},
                "baseline": theirs,
            })
    return {"commit": args.baseline, "seconds": args.seconds,
            "ratio_median": median(r["ratio"] for r in rounds), "rounds": rounds}


class SessionFleet(LiveFleet):
    """A LiveFleet over a given session log and no daemon: the client's reading path only
    (``start`` follows the log as ``LiveFleet.start`` does once the daemon answered)."""

    def __init__(self, loaded: Any, session: str, log: Path) -> None:
        super().__init__(loaded, driver=None)
        self._info = {"session": session, "log": str(log)}
        self.opened = (0.0, 0.0)

    def start(self, progress: Callable[[str], None] = lambda text: None) -> None:
        began = time.monotonic()
        self._follow(self._info, progress)
        self.opened = (began, time.monotonic())

    def check(self) -> str:
        return ""  # no daemon to look for


def first_frame(loaded: Any, session: str, log: Path, args: argparse.Namespace) -> dict[str, float]:
    fleet = SessionFleet(loaded, session, log)
    app = FleetApp(fleet)
    app.driver_class = FrameDriver
    watch = FrameDriver.watch(plain_text_has("agent-29"))

    async def wait(_pilot: object) -> None:
        await FrameDriver.wait(watch, 120.0)
        app.exit(0)

    start = time.monotonic()
    try:
        app.run(headless=False, size=(args.width, args.height), auto_pilot=wait)
    finally:
        fleet.stop()
    if not watch.seen.is_set():
        raise SystemExit("the session's first frame never came")
    began, opened = fleet.opened
    return {"first_frame_s": round(watch.at - start, 3), "app_to_open_s": round(began - start, 3),
            "open_s": round(opened - began, 3), "open_to_frame_s": round(watch.at - opened, 3)}


def run_open(args: argparse.Namespace) -> dict[str, Any]:
    fleet = BenchFleet("open")  # only its folder and config: no daemon
    try:
        fleet.write_config({"fleet": "bench", "agents": []})
        session = paths.new_session_id()
        log = paths.events_path(session)
        paths.ensure_private_dir(log.parent)
        progress(f"writing a session of {args.events} events")
        write_session(log, args.events)
        progress("opening it: index built, then cached")
        built = first_frame(fleet.loaded, session, log, args)
        assert index_path(log).exists()
        cached = first_frame(fleet.loaded, session, log, args)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import fleet_tui.cli, fleet_tui.ui.app"], check=True)
        imports = time.perf_counter() - started
        return {"events": args.events, "log_mb": round(log.stat().st_size / 1e6, 1),
                "index_built": built, "index_cached": cached,
                "python_and_imports_s": round(imports, 3),
                "note": "first_frame_s runs from App.run (this process, imports done) to the frame "
                        "showing the agents; a new fleet-tui adds python_and_imports_s and the "
                        "daemon's ping"}
    finally:
        fleet.close()


def figures(result: dict[str, Any]) -> dict[str, Any]:
    """Each target's figure from the parts that ran: [figure, target, met]."""
    out: dict[str, Any] = {}

    def put(name: str, value: float | None, target: float) -> None:
        if value is not None:
            out[name] = [value, target, value <= target]

    live = result.get("live", {})
    put("key_p95_ms", live.get("keys", {}).get("latency_ms", {}).get("p95"), TARGETS["key_p95_ms"])
    put("key_idle_fleet_p95_ms", live.get("keys_idle", {}).get("latency_ms", {}).get("p95"),
        TARGETS["key_p95_ms"])
    put("emit_p95_ms", live.get("emit", {}).get("emit_to_screen_ms", {}).get("p95"),
        TARGETS["emit_p95_ms"])
    put("idle_daemon_cpu_pct", live.get("idle", {}).get("cpu_pct", {}).get("daemon"),
        TARGETS["idle_daemon_cpu_pct"])
    if "baseline" in result:
        put("cpu_ratio", result["baseline"]["ratio_median"], TARGETS["cpu_ratio"])
    if "open" in result:
        put("first_frame_cached_s", result["open"]["index_cached"]["first_frame_s"],
            TARGETS["first_frame_s"])
        put("first_frame_built_s", result["open"]["index_built"]["first_frame_s"],
            TARGETS["first_frame_s"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=20.0, help="busy CPU window")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--presses", type=int, default=30, help="per load (idle, busy)")
    parser.add_argument("--emits", type=int, default=30)
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between emits (plus jitter)")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--baseline", default=BASELINE, help="the single-process commit")
    parser.add_argument("--baseline-presses", type=int, default=20, help="in its first round")
    parser.add_argument("--rounds", type=int, default=3, help="CPU comparisons (ours, baseline)")
    parser.add_argument("--width", type=int, default=240)
    parser.add_argument("--height", type=int, default=60)
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile the UI's event loop while keys are pressed, stats to FILE")
    parser.add_argument("--skip", nargs="*", default=[], choices=["live", "baseline", "open"])
    args = parser.parse_args()
    result: dict[str, Any] = {"agents": args.agents, "load": "lines", "size": [args.width, args.height],
                              "machine_cpus": os.cpu_count(), "loadavg": os.getloadavg()}
    if "live" not in args.skip:
        result["live"] = run_live(args)
    if "baseline" not in args.skip:
        result["baseline"] = cpu_rounds(args, result.get("live", {}).get("busy"))
    if "open" not in args.skip:
        result["open"] = run_open(args)
    result["figures"] = figures(result)
    result["ok"] = all(met for _, _, met in result["figures"].values())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
