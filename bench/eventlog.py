"""Benchmark of the event log: group-commit append rate, and read + fold of a 1M-event log.

Prints JSON. Run: ``python bench/eventlog.py [--events 1000000]``. ``*_schema1`` are the same
events read from a log of schema 1 (every event an object), from the same run.
Targets (2-core machine): append >= 200,000 output events/s (also given per CPU second, which
other load on the machine changes less); read+fold of 1M events <= 2.0 s
and <= 3x the time msgspec alone takes to decode the same file.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import msgspec

from fleet_tui.adapters.eventlog import open_log
from fleet_tui.adapters.eventlog_read import LogReader, line_blocks
from fleet_tui.adapters.output_records import LINE_TYPE
from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from fleet_tui.core.state import FleetState


def _sample_events(n: int) -> list[ev.Event]:
    """A realistic mix: mostly pane output, some status, a few lifecycle and task events."""
    agents = [f"agent-{i}" for i in range(30)]
    out: list[ev.Event] = [ev.LogHeader(fleet="bench", session="bench")]
    out += [ev.AgentSpawned(agent=a, command=["demo"], roles=["dev"]) for a in agents]
    out += [ev.TaskCreated(task=f"T{i}", title=f"task {i}") for i in range(50)]
    i = 0
    while len(out) < n:
        a = agents[i % 30]
        k = i % 100
        if k < 90:
            out.append(ev.AgentOutput(agent=a, changes=[(i % 24, f"\x1b[32mline {i}\x1b[0m ok")]))
        elif k < 98:
            out.append(ev.AgentStatus(agent=a, status="working" if k % 2 else "idle"))
        elif k == 98:
            out.append(ev.CostReported(agent=a, task=f"T{i % 50}", input_tokens=10, usd=0.01))
        else:
            out.append(ev.TaskNote(task=f"T{i % 50}", text="handoff note", agent=a))
        i += 1
    return out[:n]


def bench_append(path: Path, n: int) -> dict[str, float]:
    events = [ev.AgentOutput(agent="a", changes=[(i % 24, f"line {i}")]) for i in range(n)]
    writer = open_log(path, ev.LogHeader(fleet="bench"))
    start, start_cpu = time.perf_counter(), time.process_time()
    for event in events:
        writer.append(event)
    writer.flush()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    writer.close()
    durable = [ev.TaskNote(task="T1", text="n") for _ in range(2000)]
    writer = open_log(path)
    start = time.perf_counter()
    for event in durable:
        writer.append(event)
    durable_elapsed = time.perf_counter() - start
    writer.close()
    return {
        "append_output_events_per_s": round(n / elapsed),
        # CPU time of the whole process (flusher included): steadier on a loaded machine
        "append_output_events_per_cpu_s": round(n / cpu),
        "append_fsynced_events_per_s": round(len(durable) / durable_elapsed),
    }


def bench_read_fold(path: Path, n: int) -> dict[str, float]:
    writer = open_log(path)
    writer.append_many(_sample_events(n))
    writer.close()
    size = path.stat().st_size

    start = time.perf_counter()
    decoder = msgspec.json.Decoder(LINE_TYPE)  # pane output's compact records as lists
    count = 0
    for block, _rest in line_blocks(path):
        count += len(decoder.decode_lines(block))
    decode_only = time.perf_counter() - start
    assert count == n, (count, n)

    read_fold, cpu = _read_fold(path, n)
    schema1 = path.with_name("schema1.jsonl")
    with open(schema1, "wb") as f:
        for block in LogReader(path).blocks():
            for event in block:
                if isinstance(event, ev.LogHeader):
                    event.schema = 1
                f.write(msgspec.json.encode(event) + b"\n")
    read_fold_schema1, cpu_schema1 = _read_fold(schema1, n)
    return {
        "events": n,
        "file_mb": round(size / 1e6, 1),
        "file_mb_schema1": round(schema1.stat().st_size / 1e6, 1),
        "decode_only_s": round(decode_only, 3),
        "read_fold_s": round(read_fold, 3),
        "read_fold_cpu_s": round(cpu, 3),
        "read_fold_schema1_s": round(read_fold_schema1, 3),
        "read_fold_cpu_schema1_s": round(cpu_schema1, 3),
        "read_fold_over_decode": round(read_fold / decode_only, 2),
    }


def _read_fold(path: Path, n: int) -> tuple[float, float]:
    """Seconds (and CPU seconds) to read the log at ``path`` and fold it."""
    start, start_cpu = time.perf_counter(), time.process_time()
    state = FleetState()
    for block in LogReader(path).blocks():
        fold_all(block, state)
    assert state.events == n, (state.events, n)
    return time.perf_counter() - start, time.process_time() - start_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--append-events", type=int, default=300_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = {
            **bench_append(Path(tmp) / "append" / "events.jsonl", args.append_events),
            **bench_read_fold(Path(tmp) / "fold" / "events.jsonl", args.events),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
