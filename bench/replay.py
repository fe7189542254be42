"""Benchmark of replay on a long session: building the index, the first frame with and without
a cached index, random seeks (by event and by time) and playback at top speed.

Prints JSON. Run: ``python bench/replay.py [--events 1000000]``.
Targets (2-core machine, 1M events): first frame <= 2 s (cached index; a first open shows
progress while it builds); any seek <= 150 ms. Seeks are timed by the wall clock and, to tell
a busy machine from a slow seek, by the process's CPU time (``seek_cpu_ms``).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import tempfile
import time
from pathlib import Path

from common import ms_summary
from eventlog import _sample_events

from fleet_tui.adapters.eventlog import open_log
from fleet_tui.replay.cursor import ReplayCursor
from fleet_tui.replay.index import SNAPSHOT_EVERY, index_path, open_index

START = 1_700_000_000.0
#: Events a second (1M events is about an hour), with an idle minute every 50,000 events.
RATE = 280.0


def write_session(path: Path, n: int) -> None:
    events = _sample_events(n)
    for i, event in enumerate(events):
        event.ts = START + i / RATE + 60.0 * (i // 50_000)
    with open_log(path) as writer:
        writer.append_many(events)


def first_frame(path: Path, progress_calls: list[int]) -> tuple[float, float, str]:
    """Seconds to open the index, and to show the state at the session's start with it."""
    start = time.perf_counter()
    index = open_index(path, progress=lambda done, total: progress_calls.append(done))
    opened = time.perf_counter() - start
    cursor = ReplayCursor(index)
    cursor.seek_fraction(0)
    assert cursor.state.events == cursor.position
    frame = time.perf_counter() - start
    index.close()
    return opened, frame, index.origin


def seeks(path: Path, count: int, rng: random.Random) -> dict[str, object]:
    index = open_index(path)
    cursor = ReplayCursor(index)
    by_index, by_time, cpu, playback = [], [], [], []
    for _ in range(count):
        k = rng.randrange(len(index) + 1)
        start, start_cpu = time.perf_counter(), time.process_time()
        cursor.seek(k)
        assert cursor.state.events == k
        by_index.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        t = rng.uniform(cursor.start_time, cursor.end_time)
        start, start_cpu = time.perf_counter(), time.process_time()
        cursor.seek_time(t)
        _ = cursor.state
        by_time.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    cursor.seek_fraction(0.5)
    _ = cursor.state
    for _ in range(300):  # 10 s of playback at 30 frames/s and 64x
        start = time.perf_counter()
        cursor.advance(1 / 30, 64.0, skip_idle=True)
        _ = cursor.state
        playback.append(time.perf_counter() - start)
    index.close()
    return {"seek_index_ms": ms_summary(by_index), "seek_time_ms": ms_summary(by_time),
            "seek_cpu_ms": ms_summary(cpu), "playback_frame_64x_ms": ms_summary(playback)}


def extend(path: Path, n: int) -> dict[str, object]:
    """Seconds to reopen the log after ``n`` more events were appended (a live session)."""
    with open_log(path) as writer:
        writer.append_many(_sample_events(n))
    start = time.perf_counter()
    index = open_index(path)
    elapsed = time.perf_counter() - start
    assert index.origin == "extended", index.origin
    index.close()
    return {f"reopen_after_{n}_more_events_s": round(elapsed, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seeks", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        write_session(path, args.events)
        gc.collect()
        progress: list[int] = []
        build_s, uncached_s, origin = first_frame(path, progress)
        assert origin == "built", origin
        cached_open_s, cached_s, origin = first_frame(path, [])
        assert origin == "cached", origin
        result = {
            "events": args.events,
            "log_mb": round(path.stat().st_size / 1e6, 1),
            "snapshot_every": SNAPSHOT_EVERY,
            "index_build_s": round(build_s, 3),
            "progress_calls": len(progress),
            "first_frame_uncached_s": round(uncached_s, 3),
            "index_load_cached_s": round(cached_open_s, 3),
            "first_frame_cached_s": round(cached_s, 3),
            "cache_mb": round(index_path(path).stat().st_size / 1e6, 1),
            **seeks(path, args.seeks, random.Random(1)),
            **extend(path, 1000),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
