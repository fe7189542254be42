"""Benchmark: what reading one captured screen costs the pane monitor; prints JSON.

``python bench/screen_match.py``: for every real screen in ``tests/data/screens/`` (with
ANSI), the microseconds of ``match_screen`` (best of 5 runs) with its CLI's preset (the monitor runs it once
per screen change of an agent), and the mean and max over all of them.
"""

from __future__ import annotations

import json
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fleet_tui.config.presets import PRESETS, patterns_for
from fleet_tui.core.status_rules import compile_from, match_screen

SCREENS = Path(__file__).resolve().parent.parent / "tests" / "data" / "screens"
PRESET_OF = {"bash": "shell"}


def main() -> None:
    per_screen: dict[str, float] = {}
    for path in sorted(SCREENS.glob("*/*.ansi.txt")):
        cli = path.parent.name
        preset = PRESET_OF.get(cli, cli if cli in PRESETS else "none")
        patterns = compile_from(patterns_for(preset))
        rows = path.read_text(encoding="utf-8").split("\n")
        runs = 200
        seconds = min(timeit.repeat(lambda rows=rows, p=patterns: match_screen(rows, p),
                                    number=runs, repeat=5))  # the least disturbed run
        per_screen[f"{cli}/{path.name.removesuffix('.ansi.txt')}"] = round(seconds / runs * 1e6, 1)
    values = list(per_screen.values())
    print(json.dumps({"screens": len(values), "mean_us": round(sum(values) / len(values), 1),
                      "max_us": max(values), "per_screen_us": per_screen}, indent=1))


if __name__ == "__main__":
    main()
