"""Benchmark: spawn N agents on a private tmux server with the TmuxDriver; prints JSON.

``python bench/spawn.py [--agents 30] [-- COMMAND...]`` (default command: ``sleep 600``).
Measures the wall time of the ``spawn`` calls (what the orchestrator waits for), the time
until every supervisor has handed the terminal to its agent, ``list_agent_panes`` and killing
the server. Not a timed test: the target is 30 agents in <= 3 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fleet_tui.adapters.procs import read_proc
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.config.resolve import AgentLaunch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=30)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND...")
    args = parser.parse_args()
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    args.command = args.command or ["sleep", "600"]
    os.environ.pop("TMUX", None)
    driver = TmuxDriver(f"fleet-bench-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    cwd = tempfile.mkdtemp(prefix="fleet-bench-")
    per_call = []
    try:
        start = time.perf_counter()
        for i in range(args.agents):
            t = time.perf_counter()
            driver.spawn(AgentLaunch(name=f"agent-{i}", template="agent", command=args.command,
                                     cwd=cwd, width=120, height=40), "bench", {})
            per_call.append(time.perf_counter() - t)
        spawned = time.perf_counter() - start

        def running() -> int:
            count = 0
            for pane in driver.list_agent_panes():
                sup = read_proc(pane.pid)
                if sup is not None and sup.tpgid > 0 and sup.tpgid != sup.pgrp:
                    count += 1
            return count

        while running() < args.agents and time.perf_counter() - start < 30:
            time.sleep(0.01)
        all_running = time.perf_counter() - start
        t = time.perf_counter()
        panes = driver.list_agent_panes()
        list_ms = (time.perf_counter() - t) * 1000
    finally:
        t = time.perf_counter()
        driver.kill_server()
        kill_s = time.perf_counter() - t
    print(json.dumps({
        "agents": args.agents,
        "command": args.command,
        "spawn_total_s": round(spawned, 3),
        "spawn_per_agent_ms": {
            "mean": round(statistics.mean(per_call) * 1000, 2),
            "p50": round(statistics.median(per_call) * 1000, 2),
            "max": round(max(per_call) * 1000, 2),
        },
        "all_agents_running_s": round(all_running, 3),
        "list_agent_panes_ms": round(list_ms, 2),
        "panes_listed": len(panes),
        "kill_server_s": round(kill_s, 3),
        "cpus": os.cpu_count(),
    }, indent=2))


if __name__ == "__main__":
    main()
