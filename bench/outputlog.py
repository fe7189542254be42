"""Benchmark of the log's cost of pane output: bytes logged per new line of a scrolling agent.

A real agent in a private tmux server (80x24) fills its screen, then prints coloured lines of
about 80 characters at a steady rate, watched by the real ``PaneMonitor``; the output events
of that steady state are written with the real log writer (compact records, schema 2), plus
each line's share of the keyframe logged every 30 s. From the same run: the same events as
schema 1 records (``schema1_*``: every ``agent.output`` a JSON object, ts to the full float),
and the captures logged the way the monitor did before scrolls were detected (``baseline_*``:
every changed row again, ``diff_screens`` against the previous screen, schema 1 records).

Prints JSON (with the load average): for each rate (lines/s), the lines printed and how many
were logged (on a loaded machine captures come late, and a line that scrolled off between two
is never seen), the line's own size (bytes, with its colour codes), and for each way bytes
logged per line printed, the ratio to the line's size, and bytes a minute for an agent
printing at that rate. The log's seq starts at 2: a long session's 7-digit seq adds 5 bytes a
line. Target: <= 2x the line's own size (the issue's figure for the baseline: ~1.2 KB a line).

Run: ``python bench/outputlog.py [--seconds 6] [--rates 5,20,100]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import msgspec

from fleet_tui.adapters.eventlog import open_log
from fleet_tui.adapters.monitor import PaneMonitor
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.config.resolve import AgentLaunch
from fleet_tui.core import events as ev
from fleet_tui.core.sanitize import strip_ansi
from fleet_tui.core.screen import diff_screens, scroll_screen

#: Fills the screen, waits for ``go``, prints ``count`` lines at ``rate`` a second, then
#: touches ``done``.
PRINTER = r"""
import os, sys, time
go, done, count, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
for i in range(30):
    print(f"warming up {i}", flush=True)
while not os.path.exists(go):
    time.sleep(0.01)
start = time.monotonic()
for i in range(count):
    print(LINE.format(i=i, colour=31 + i % 6), flush=True)
    time.sleep(max(0.0, start + (i + 1) / rate - time.monotonic()))
open(done, "w").close()
time.sleep(3600)
"""
LINE = "\x1b[{colour}m{i:05d}\x1b[0m compiling src/module_{i}.py: 42 passed, 0 failed, 3 skipped ok"
NUMBER = re.compile(r"(\d{5}) compiling")


def _screens(outputs: list[ev.AgentOutput]) -> list[list[str]]:
    """The screen after each output event, rebuilt as the fold does."""
    screens, screen = [], []
    for e in outputs:
        screen = [""] * e.height if e.keyframe else scroll_screen(screen, e.scroll)
        for row, text in e.changes:
            screen[row] = text
        screens.append(list(screen))
    return screens


def _log_bytes(path: Path, events: list[ev.Event]) -> tuple[int, int]:
    """Bytes ``events`` take in a new log (after its header) written by the log writer, and as
    schema 1 records (``msgspec.json.encode`` of each event, as the writer of schema 1 did)."""
    schema1 = sum(len(msgspec.json.encode(msgspec.structs.replace(e, seq=seq))) + 1
                  for seq, e in enumerate(events, 2))
    writer = open_log(path, ev.LogHeader(fleet="bench"))
    start = path.stat().st_size if path.exists() else 0
    writer.append_many(events)
    writer.close()
    return path.stat().st_size - start, schema1


def run_rate(rate: float, seconds: float, folder: Path) -> dict[str, float]:
    socket = f"fleet-bench-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    driver = TmuxDriver(socket)
    driver.ensure_monitor()
    outputs: list[ev.AgentOutput] = []
    lock = threading.Lock()

    def emit(event: ev.Event) -> None:
        if isinstance(event, ev.AgentOutput):
            with lock:
                outputs.append(event)

    count = max(30, int(rate * seconds))
    go, done = folder / f"go-{rate}", folder / f"done-{rate}"
    command = [sys.executable, "-c", f"LINE = {LINE!r}\n{PRINTER}", str(go), str(done),
               str(count), str(rate)]
    monitor = PaneMonitor(socket, emit)
    try:
        driver.spawn(AgentLaunch(name="scroller", template="scroller", command=command,
                                 cwd=str(folder), width=80, height=24), "bench")
        monitor.start()
        monitor.wait_connected()
        while not any("warming up 29" in row for e in list(outputs) for _, row in e.changes):
            threading.Event().wait(0.05)  # a full screen: from here on every line scrolls
        with lock:
            warm_up = len(outputs)
        go.touch()
        while not done.exists():
            threading.Event().wait(0.05)
        threading.Event().wait(0.5)  # the last captures
    finally:
        monitor.stop()
        driver.kill_server()
    with lock:
        events = list(outputs)
    screens = _screens(events)
    measured: list[ev.Event] = []
    baseline: list[ev.Event] = []
    for i in range(warm_up, len(events)):
        event = events[i]
        measured.append(event)
        baseline.append(event if event.keyframe else ev.AgentOutput(
            agent=event.agent, changes=diff_screens(screens[i - 1], screens[i]), ts=event.ts,
            pane=event.pane, seq=event.seq))
    now_bytes, schema1_bytes = _log_bytes(folder / f"now-{rate}" / "events.jsonl", measured)
    _, base_bytes = _log_bytes(folder / f"base-{rate}" / "events.jsonl", baseline)
    line_bytes = sum(len(LINE.format(i=i, colour=31 + i % 6).encode()) for i in range(count)) / count
    # A keyframe (the whole screen) at least every 30 s, shared by the lines printed meanwhile.
    keyframe = ev.AgentOutput(agent="scroller", changes=list(enumerate(screens[-1])),
                              keyframe=True, width=80, height=24, ts=events[-1].ts, pane="%1")
    key_bytes, key_schema1 = _log_bytes(folder / f"key-{rate}" / "events.jsonl", [keyframe])
    logged = {m.group(1) for e in measured for _, text in e.changes  # type: ignore[attr-defined]
              if (m := NUMBER.match(strip_ansi(text)))}
    result: dict[str, float] = {"rate_lines_per_s": rate, "lines": count, "lines_logged": len(logged),
                                "events": len(measured), "line_bytes": round(line_bytes, 1)}
    for name, logged, key in (("", now_bytes, key_bytes), ("schema1_", schema1_bytes, key_schema1),
                              ("baseline_", base_bytes, key_schema1)):
        per_line = logged / count + key / (30 * rate)
        result[f"{name}bytes_per_line"] = round(per_line, 1)
        result[f"{name}ratio"] = round(per_line / line_bytes, 2)
        result[f"{name}bytes_per_minute"] = round(per_line * rate * 60)
    result["keyframe_share_bytes_per_line"] = round(key_bytes / (30 * rate), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--rates", default="5,20,100")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = [run_rate(float(r), args.seconds, Path(tmp)) for r in args.rates.split(",")]
    print(json.dumps({"loadavg": Path("/proc/loadavg").read_text().split()[:3],
                      "rates": results}, indent=2))


if __name__ == "__main__":
    main()
