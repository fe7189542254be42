"""Benchmark of the pane monitor against naive polling, on 30 real agents in a private tmux.

Prints JSON lines: the time to spawn 30 agents, then one record per workload with, for the
event-driven ``PaneMonitor`` and for a naive baseline (one ``tmux capture-pane`` subprocess
per pane every 100 ms), in the same run:

- CPU in % of one core: this process (the monitor's threads, or the polling loop and its
  ``tmux`` children), the control-mode client process, and the tmux server, from
  ``/proc/<pid>/stat`` utime+stime;
- latency from an agent writing a line (it prints its own ``time.time()``) to the event that
  carries it (the emit callback compares with ``time.time()``): p50/p95/max ms;
- ``tmux`` processes started per second (``subprocess.Popen`` is wrapped and counted).

Workloads (``--seconds`` each, default 20): ``idle`` (30 agents at a prompt), ``mixed`` (5
print a coloured line every 100 ms, 25 idle), ``busy`` (all 30 every 100 ms), and ``flood``
(one ``yes`` agent next to 5 printing every 100 ms; monitor only).
Targets (2-core machine): idle <= 1 % CPU; mixed <= 0.3x baseline CPU and p95 <= 100 ms;
busy <= baseline CPU and p95 <= 150 ms; flood: the 5 normal agents' p95 <= 200 ms.

Run: ``python bench/monitor.py [--seconds 20] [--agents 30]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import AGENT, ms_summary

from fleet_tui.adapters.monitor import PaneMonitor
from fleet_tui.adapters.procs import cpu_seconds
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.adapters.tmux_cli import clean_env
from fleet_tui.config.presets import PRESETS
from fleet_tui.config.resolve import AgentLaunch
from fleet_tui.core import events as ev


class CountingPopen(subprocess.Popen):  # type: ignore[type-arg]
    """Counts the tmux processes this process starts."""

    tmux_started = 0

    def __init__(self, args, *a, **kw):  # type: ignore[no-untyped-def]
        if isinstance(args, list | tuple) and args and os.path.basename(str(args[0])) == "tmux":
            CountingPopen.tmux_started += 1
        super().__init__(args, *a, **kw)


subprocess.Popen = CountingPopen  # type: ignore[misc]

STAMP = re.compile(r"@(\d+\.\d{6})")


class Latency:
    """Turns screens/rows into latencies: each agent timestamp is counted once, when first seen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latest: dict[str, float] = {}
        self.samples: list[float] = []
        self.enabled = False

    def rows(self, agent: str, texts: list[str], now: float) -> None:
        """Record the stamps in ``texts`` newer than the agent's newest seen (always tracked,
        sampled only while enabled: a scrolled screen repeats lines seen in the warm-up)."""
        with self.lock:
            last = self.latest.get(agent, 0.0)
            newest = last
            for text in texts:
                for m in STAMP.finditer(text):
                    ts = float(m.group(1))
                    if ts > last:
                        if self.enabled:
                            self.samples.append(now - ts)
                        newest = max(newest, ts)
            self.latest[agent] = newest

    def reset(self, enabled: bool) -> None:
        with self.lock:
            self.samples = []
            self.enabled = enabled

    def summary(self) -> dict[str, float | int]:
        with self.lock:
            return ms_summary(self.samples)


def measure(seconds: float, server_pid: int, extra_pids: list[int], children: bool,
            work: threading.Event | None = None) -> dict[str, float]:
    """CPU % of this process (and children), extra pids and the server over ``seconds``."""
    me = os.getpid()
    started = CountingPopen.tmux_started
    c_me, c_srv = cpu_seconds(me, children), cpu_seconds(server_pid)
    c_extra = sum(cpu_seconds(p) for p in extra_pids)
    t0 = time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - t0
    me_pct = (cpu_seconds(me, children) - c_me) / wall * 100
    extra_pct = (sum(cpu_seconds(p) for p in extra_pids) - c_extra) / wall * 100
    srv_pct = (cpu_seconds(server_pid) - c_srv) / wall * 100
    return {
        "cpu_pct": round(me_pct + extra_pct + srv_pct, 2),
        "process_cpu_pct": round(me_pct + extra_pct, 2),
        "tmux_server_cpu_pct": round(srv_pct, 2),
        "tmux_procs_per_s": round((CountingPopen.tmux_started - started) / wall, 2),
    }


def run_monitor(socket: str, seconds: float, server_pid: int, latency: Latency,
                warmup: float = 1.5, **monitor_args: Any) -> dict[str, Any]:
    counts = {"events": 0}

    def emit(event: ev.Event) -> None:
        counts["events"] += 1
        if isinstance(event, ev.AgentOutput):
            latency.rows(event.agent, [t for _, t in event.changes], time.time())

    monitor = PaneMonitor(socket, emit, patterns=lambda _agent: PRESETS["demo"],
                          stall_after=None, **monitor_args)
    monitor.start()
    if not monitor.wait_connected(10):
        raise SystemExit("monitor did not connect")
    time.sleep(warmup)
    latency.reset(True)
    counts["events"] = 0
    captures = monitor.stats.captures
    result: dict[str, Any] = measure(seconds, server_pid, monitor.monitor_pids(), False)
    latency.enabled = False
    result["latency_ms"] = latency.summary()
    result["events_per_s"] = round(counts["events"] / seconds, 1)
    result["captures_per_s"] = round((monitor.stats.captures - captures) / seconds, 1)
    monitor.stop()
    return result


def run_baseline(socket: str, panes: dict[str, str], seconds: float, server_pid: int,
                 latency: Latency, warmup: float = 0.5) -> dict[str, Any]:
    """The naive way: ``tmux capture-pane`` per pane, every pane, every 100 ms."""
    stop = threading.Event()
    screens: dict[str, list[str]] = {}
    rounds = [0]

    def poll() -> None:
        env = clean_env()
        while not stop.is_set():
            start = time.monotonic()
            for agent, pane in panes.items():
                out = subprocess.run(["tmux", "-L", socket, "capture-pane", "-p", "-e", "-t", pane],
                                     capture_output=True, text=True, env=env, check=False).stdout
                rows = out.split("\n")
                old = screens.get(agent)
                if rows != old:
                    changed = [r for i, r in enumerate(rows) if old is None or i >= len(old)
                               or old[i] != r]
                    latency.rows(agent, changed, time.time())
                    screens[agent] = rows
            rounds[0] += 1
            stop.wait(max(0.0, 0.1 - (time.monotonic() - start)))

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    time.sleep(warmup)
    latency.reset(True)
    r0 = rounds[0]
    result: dict[str, Any] = measure(seconds, server_pid, [], True)
    latency.enabled = False
    result["latency_ms"] = latency.summary()
    result["rounds_per_s"] = round((rounds[0] - r0) / seconds, 1)
    stop.set()
    thread.join()
    return result


def spawn_agents(driver: TmuxDriver, names: list[str], folder: Path) -> float:
    """Start one ``AGENT`` per name (80x24, idle until activated); the seconds it took."""
    t0 = time.perf_counter()
    for name in names:
        driver.spawn(AgentLaunch(name=name, template="agent",
                                 command=[sys.executable, "-c", AGENT, name, str(folder)],
                                 cwd=str(folder), width=80, height=24), "bench")
    return time.perf_counter() - t0


def activate(folder: Path, names: list[str], active: list[str]) -> None:
    """Make the ``active`` agents print (their flag file exists), the others idle."""
    for name in names:
        flag = folder / f"active-{name}"
        if name in active:
            flag.touch()
        else:
            flag.unlink(missing_ok=True)


def compare(socket: str, panes: dict[str, str], seconds: float, server_pid: int,
            latency: Latency, **monitor_args: Any) -> tuple[dict[str, Any], dict[str, Any],
                                                           float | None]:
    """The monitor, then the naive poller, on the same panes: both results and the CPU ratio."""
    mon = run_monitor(socket, seconds, server_pid, latency, **monitor_args)
    base = run_baseline(socket, panes, seconds, server_pid, latency)
    ratio = mon["cpu_pct"] / base["cpu_pct"] if base["cpu_pct"] else None
    return mon, base, ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each workload")
    parser.add_argument("--agents", type=int, default=30)
    parser.add_argument("--only", nargs="*", default=["idle", "mixed", "busy", "flood"])
    args = parser.parse_args()

    socket = f"fleet-bench-monitor-{os.getpid()}"
    driver = TmuxDriver(socket)
    folder = Path(tempfile.mkdtemp(prefix="fleet-bench-monitor-"))
    names = [f"agent-{i:02d}" for i in range(args.agents)]
    try:
        driver.ensure_monitor()
        server_pid = int(driver.run("display-message", "-p", "#{pid}").stdout.strip())
        spawn_s = spawn_agents(driver, names, folder)
        print(json.dumps({"spawn": {"agents": len(names), "seconds": round(spawn_s, 3),
                                    "per_agent_ms": round(spawn_s / len(names) * 1000, 1)}}),
              flush=True)
        panes = {p.agent: p.pane_id for p in driver.list_agent_panes()}
        latency = Latency()

        workloads = {"idle": [], "mixed": names[:5], "busy": names}
        for workload, active in workloads.items():
            if workload not in args.only:
                continue
            activate(folder, names, active)
            mon, base, ratio = compare(socket, panes, args.seconds, server_pid, latency)
            p95 = mon["latency_ms"].get("p95")  # type: ignore[union-attr]
            if workload == "idle":
                target, ok = "cpu <= 1 %", mon["cpu_pct"] <= 1.0  # type: ignore[operator]
            elif workload == "mixed":
                target = "cpu <= 0.3x baseline, p95 <= 100 ms"
                ok = ratio is not None and ratio <= 0.3 and p95 is not None and p95 <= 100
            else:
                target = "cpu <= baseline, p95 <= 150 ms"
                ok = ratio is not None and ratio <= 1.0 and p95 is not None and p95 <= 150
            print(json.dumps({"workload": workload, "seconds": args.seconds,
                              "active_agents": len(active), "monitor": mon, "baseline": base,
                              "cpu_ratio": round(ratio, 3) if ratio is not None else None,
                              "target": target, "ok": bool(ok)}), flush=True)

        if "flood" in args.only:
            activate(folder, names, names[:5])
            driver.spawn(AgentLaunch(name="flood", template="flood", command=["yes"],
                                     cwd=str(folder), width=80, height=24), "bench")
            mon = run_monitor(socket, args.seconds, server_pid, latency)
            # What tmux itself spends on the flood, with no client attached at all.
            alone = measure(min(5.0, args.seconds), server_pid, [], False)
            mon["tmux_server_cpu_pct_without_monitor"] = alone["tmux_server_cpu_pct"]
            p95 = mon["latency_ms"].get("p95")  # type: ignore[union-attr]
            print(json.dumps({"workload": "flood", "seconds": args.seconds,
                              "active_agents": 5, "flooding_agents": 1, "monitor": mon,
                              "target": "p95 <= 200 ms for the 5 normal agents",
                              "ok": p95 is not None and p95 <= 200}), flush=True)
    finally:
        for flag in folder.glob("active-*"):
            flag.unlink(missing_ok=True)
        driver.kill_server()


if __name__ == "__main__":
    main()
