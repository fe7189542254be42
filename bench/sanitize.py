"""Benchmark of the sanitiser (fleet_tui/core/sanitize.py), which runs on every repaint of every
row that shows text from agents: nanoseconds per call for clean text (the fast path), hostile
text seen before (the cache) and hostile text never seen (the full pass), and for one timeline
row's summary of a typical event.

Run: ``python bench/sanitize.py [--calls 200000]``. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from fleet_tui.core import events as ev
from fleet_tui.core.sanitize import safe_line
from fleet_tui.core.summary import summarize

CLEAN = "T12 Implement the login form: validate e-mail, show errors inline ✓ 日本"
HOSTILE = "done \x1b]52;c;ZXZpbA==\x07\x1b]0;owned\x07\x1b[2J\u202etxt.exe \x1b[31mred\x1b[0m"


def per_call_ns(calls: int, run: Callable[[int], object]) -> float:
    start = time.perf_counter_ns()
    for i in range(calls):
        run(i)
    return round((time.perf_counter_ns() - start) / calls, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    args = parser.parse_args()
    calls = args.calls
    fresh = [f"{HOSTILE} {i}" for i in range(calls)]  # built first: not part of the timing
    note = ev.TaskNote(task="T12", text=CLEAN, kind="note", agent="dev-1")
    result = {
        "calls": calls,
        "empty_loop_ns": per_call_ns(calls, lambda i: CLEAN),
        "clean_ns": per_call_ns(calls, lambda i: safe_line(CLEAN)),
        "hostile_cached_ns": per_call_ns(calls, lambda i: safe_line(HOSTILE)),
        "hostile_uncached_ns": per_call_ns(calls, lambda i: safe_line(fresh[i])),
        "timeline_summary_ns": per_call_ns(calls, lambda i: summarize(note)),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
