"""Benchmark of agents on a remote host over SSH, against the same agents on a local server,
with a real sshd on 127.0.0.1 (the test fixture's: throw-away keys, its own HOME and
TMUX_TMPDIR, so the "remote" tmux server is another server).

Prints one JSON object:

- ``latency_ms``: from an agent printing a line (its own ``time.time()``) to the
  ``AgentOutput`` event carrying it, p50/p95/max, for ``--agents`` agents each printing a line
  every 100 ms for ``--seconds``: ``remote`` (pane monitor over the link) and ``local``
  (the same agents on a local server, same run);
- ``drop``: over ``--drops`` cycles of the link dropping (sshd and its connections killed; the
  remote tmux server and agents live on) and sshd coming back: ``to_unreachable_ms`` (drop
  to the host reported down; every other cycle the connections first go silent, stopped,
  instead: ``silent_to_unreachable_ms``, the keep-alive's time), ``to_link_ms`` (sshd
  listening again to the link reopened: the reconnect backoff), ``to_readopt_ms`` (sshd
  listening to the monitor back and adopting), ``to_screen_ms`` (sshd listening to the first
  fresh screen of an agent);
- ``transcript_poll_ms``: ``--polls`` polls of one agent's Claude Code transcript (and its
  sub-agents' folder), with nothing new and with one new line each: ``remote`` (one round trip
  over the link, ``python -I -m fleet_tui.adapters.remote_files`` on the host) and ``local``
  (the same file, read here); ``ssh_true``: the floor, ``true`` run on the host over the link.

Run: ``python bench/remote.py [--agents 5] [--seconds 10] [--drops 5] [--polls 30]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from common import AGENT, ms_summary
from monitor import Latency

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.sshd

from fleet_tui.adapters.hosts import Host
from fleet_tui.adapters.monitor import PaneMonitor
from fleet_tui.adapters.remote import RemotePaneMonitor
from fleet_tui.adapters.remote_files import LOCAL
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.adapters.transcripts import ClaudeFollower
from fleet_tui.config.presets import PRESETS
from fleet_tui.config.resolve import AgentLaunch
from fleet_tui.config.schema import HostSpec
from fleet_tui.core import events as ev
from fleet_tui.daemon.remote import RECONNECT_POLL
from tests.sshd import SSHD, Sshd


def spawn_all(driver: TmuxDriver, names: list[str], folder: Path) -> None:
    driver.ensure_monitor()
    for name in names:
        driver.spawn(AgentLaunch(name=name, template="agent", width=80, height=24, cwd=str(folder),
                                 command=[sys.executable, "-c", AGENT, name, str(folder)]), "bench")


def watch_latency(monitor_of, folder: Path, names: list[str], seconds: float) -> dict:
    latency = Latency()

    def emit(event: ev.Event) -> None:
        if isinstance(event, ev.AgentOutput):
            latency.rows(event.agent, [t for _, t in event.changes], time.time())

    monitor = monitor_of(emit)
    monitor.start()
    if not monitor.wait_connected(15):
        raise SystemExit("monitor did not connect")
    for name in names:
        (folder / f"active-{name}").touch()
    time.sleep(1.5)  # warm-up: first screens
    latency.reset(True)
    time.sleep(seconds)
    result = latency.summary()
    for name in names:
        (folder / f"active-{name}").unlink()
    monitor.stop()
    return result


def drops(sshd: Sshd, host: Host, cycles: int, name: str) -> dict:
    changes: list[tuple[bool, float]] = []
    back = threading.Event()
    marks: dict[str, float] = {}
    host.on_change = lambda _h, up, _r, _g: changes.append((up, time.monotonic()))

    def emit(event: ev.Event) -> None:
        if isinstance(event, ev.AgentOutput) and event.agent == name and "fresh" not in marks \
                and "readopt" in marks:
            marks["fresh"] = time.monotonic()

    def on_reconnect() -> None:
        marks["readopt"] = time.monotonic()
        back.set()

    monitor = RemotePaneMonitor(host.driver, emit, on_reconnect=on_reconnect,
                                ready=lambda: host.ready, patterns=lambda _a: PRESETS["demo"],
                                stall_after=None, reconnect_interval=RECONNECT_POLL)
    monitor.start()
    monitor.wait_connected(15)
    host.start()
    out: dict[str, list[float]] = {"to_unreachable": [], "to_link": [], "to_readopt": [],
                                   "to_screen": [], "silent_to_unreachable": []}
    for cycle in range(cycles):
        silent = cycle % 2 == 1  # every other drop: the link goes silent first
        changes.clear()
        marks.clear()
        back.clear()
        dropped = time.monotonic()
        sshd.freeze() if silent else sshd.drop()
        while not changes and time.monotonic() - dropped < 30:
            time.sleep(0.005)
        out["silent_to_unreachable" if silent else "to_unreachable"].append(changes[0][1] - dropped)
        sshd.drop()
        sshd.start()
        listening = time.monotonic()
        back.wait(60)
        while ("fresh" not in marks or not any(is_up for is_up, _ in changes)) \
                and time.monotonic() - listening < 30:
            time.sleep(0.005)  # (the monitor may attach before the keeper has said "up")
        up = next((t for is_up, t in changes if is_up), float("nan"))
        out["to_link"].append(up - listening)
        out["to_readopt"].append(marks["readopt"] - listening)
        out["to_screen"].append(marks.get("fresh", float("nan")) - listening)
    monitor.stop()
    return {f"{k}_ms": ms_summary(v) for k, v in out.items()}


def transcript_polls(host: Host, folder: Path, polls: int) -> dict:
    path = folder / "transcript" / "session.jsonl"
    path.parent.mkdir()
    line = ('{"type":"assistant","message":{"id":"m%d","model":"claude-sonnet-4-5","usage":'
            '{"input_tokens":3,"output_tokens":%d}}}\n')
    path.write_text("".join(line % (i, i) for i in range(200)))
    out = {}
    for run, (name, files) in enumerate((("remote", host.files), ("local", LOCAL)), 1):
        follower = ClaudeFollower("bench", path, files=files)
        follower.poll()
        idle, grown = [], []
        for i in range(polls):
            start = time.perf_counter()
            follower.poll()
            idle.append(time.perf_counter() - start)
            with open(path, "a") as f:
                f.write(line % (1000 * run + i, i))
            start = time.perf_counter()
            if len(follower.poll()) != 1:
                raise SystemExit(f"{name}: the new line was not counted once")
            grown.append(time.perf_counter() - start)
        out[name] = {"nothing_new": ms_summary(idle), "one_new_line": ms_summary(grown)}
    floor = []
    for _ in range(polls):
        start = time.perf_counter()
        host.link.run(["true"])
        floor.append(time.perf_counter() - start)
    out["ssh_true"] = ms_summary(floor)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--drops", type=int, default=5)
    parser.add_argument("--polls", type=int, default=30)
    args = parser.parse_args()
    if SSHD is None:
        raise SystemExit("sshd is not installed (apt-get install openssh-server)")
    root = Path(tempfile.mkdtemp(prefix="fl-bench-ssh-"))
    os.environ["FLEET_HOME"] = str(root / "fleet-home")
    folder = root / "agents"
    folder.mkdir()
    sshd = Sshd(root)
    sshd.start()
    socket = f"fleet-bench-remote-{uuid.uuid4().hex[:6]}"
    spec = HostSpec(name="loopback", ssh=sshd.target.destination, port=sshd.port,
                    identity=sshd.target.identity, python=sys.executable)
    host = Host(spec, socket, lambda *_a: None, sshd.target.options)
    local = TmuxDriver(socket)
    names = [f"agent-{i}" for i in range(args.agents)]
    result: dict[str, object] = {"agents": args.agents, "seconds": args.seconds,
                                 "loadavg_before": Path("/proc/loadavg").read_text().split()[:3]}
    try:
        if not host.connect():
            raise SystemExit(f"cannot connect: {host.error}")
        host.ready = True  # (as the daemon's RemoteHosts.connect makes a host up at start)
        spawn_all(host.driver, names, folder)
        spawn_all(local, names, folder)
        result["latency_ms"] = {
            "remote": watch_latency(lambda emit: RemotePaneMonitor(
                host.driver, emit, patterns=lambda _a: PRESETS["demo"], stall_after=None),
                folder, names, args.seconds),
            "local": watch_latency(lambda emit: PaneMonitor(
                socket, emit, patterns=lambda _a: PRESETS["demo"], stall_after=None),
                folder, names, args.seconds),
        }
        result["transcript_poll_ms"] = transcript_polls(host, folder, args.polls)
        (folder / f"active-{names[0]}").touch()  # one agent goes on printing through the drops
        result["drop"] = drops(sshd, host, args.drops, names[0])
    finally:
        host.stop()
        if host.connect():
            host.driver.kill_server()
            host.link.close()
        local.kill_server()
        sshd.stop()
        shutil.rmtree(root, ignore_errors=True)
    result["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
