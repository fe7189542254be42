"""Helpers shared by the bench scripts: latency percentiles, a test agent that prints coloured
lines, a Textual driver that renders for a terminal but discards (and counts) the output, and
what that output writes where. (Process CPU comes from ``fleet_tui.adapters.procs``.)

Imported as ``common`` (the scripts are run as ``python bench/<name>.py``, so ``bench/`` is on
``sys.path``).
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from textual.drivers.headless_driver import HeadlessDriver

#: A control sequence in Textual's output: parameters and the final letter.
CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")

#: An agent: prints a prompt, then while ``active-<name>`` exists prints a coloured line with
#: its timestamp every 100 ms. Run as ``python -c AGENT NAME FOLDER``.
AGENT = r"""
import os, sys, time
name, folder = sys.argv[1], sys.argv[2]
flag = os.path.join(folder, "active-" + name)
print("demo> ", end="", flush=True)
i = 0
while True:
    time.sleep(0.1)
    if os.path.exists(flag):
        i += 1
        print(f"\n\x1b[3{i % 7 + 1}m{name} @{time.time():.6f} line {i}\x1b[0m", end="", flush=True)
"""


def ms_summary(seconds: list[float]) -> dict[str, float | int]:
    """Count, p50, p95 and max of ``seconds``, in milliseconds."""
    s = sorted(seconds)
    if not s:
        return {"n": 0}

    def pct(p: float) -> float:
        return round(s[min(len(s) - 1, int(len(s) * p))] * 1000, 1)

    return {"n": len(s), "p50": pct(0.50), "p95": pct(0.95), "max": round(s[-1] * 1000, 1)}


class DiscardingDriver(HeadlessDriver):
    """Headless input, but the app renders its output as for a terminal; we count the bytes."""

    written = 0

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        DiscardingDriver.written += len(data.encode())


def row_cells(data: str, y: int) -> dict[int, str]:
    """The characters ``data`` (Textual's output: cursor moves, SGR codes, text) writes on row
    ``y``, by column."""
    cells: dict[int, str] = {}
    cx = cy = -1
    parts = CSI.split(data)  # text, params, final, text, params, final, ..., text
    for i in range(0, len(parts), 3):
        for n, line in enumerate(parts[i].split("\n")):
            if n:
                cy, cx = cy + 1, 0
            if cy == y:
                for ch in line:
                    cells[cx] = ch
                    cx += cell_len(ch)
            else:
                cx += cell_len(line)
        if i + 2 < len(parts) and parts[i + 2] == "H":
            row, _, col = parts[i + 1].partition(";")
            cy, cx = int(row or 1) - 1, int(col or 1) - 1
    return cells
