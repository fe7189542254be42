"""Benchmark of the agent grid: 30 live cards whose panes change at 10 Hz.

Runs the real Textual pipeline (layout, compositor, ANSI output) into a driver that discards
what it is given, for each scenario: none, 5 of 30 and all 30 panes scrolling one coloured
line per tick. Prints JSON: process CPU %, changed cards per second (the time-in-status text
alone changes each card once a second), repainted card rows per second, terminal output per
second, and the CPU cost per changed card above the idle run.

Run: ``python bench/render.py [--seconds 10] [--width 240 --height 60]``. The default size
shows all 30 cards at once (6 columns of 5 rows), so every changed card really repaints.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from common import DiscardingDriver
from textual.app import App, ComposeResult
from textual.strip import Strip

from fleet_tui.core.state import AgentState, FleetState
from fleet_tui.ui.agent_card import AgentCard
from fleet_tui.ui.agent_grid import AgentGrid

AGENTS = 30
TICK = 0.1


def pane_line(agent: int, n: int) -> str:
    """An 80-column row with a few colour changes, like an agent's transcript."""
    return (f"\x1b[1;3{agent % 7 + 1}m● \x1b[0mstep {n:05d} \x1b[38;5;{n % 200 + 16}mreading "
            f"src/module_{n % 97}.py\x1b[0m \x1b[2m" + "lorem ipsum " * 4 + f"\x1b[0m \x1b[32m✓ {n}\x1b[0m")


class BenchApp(App[dict]):
    def __init__(self, seconds: float) -> None:
        super().__init__(driver_class=DiscardingDriver)
        self.seconds = seconds
        self.state = FleetState(fleet="bench")
        start = time.time()
        for i in range(AGENTS):
            name = f"agent-{i:02d}"
            self.state.agents[name] = AgentState(
                name=name, role="dev", model="opus", status="working", status_since=start,
                tasks=[f"T-{i}"], screen=[pane_line(i, n) for n in range(24)])
        self.active = 0
        self.tick_no = 0
        self.changed = 0
        self.rows = 0

    def compose(self) -> ComposeResult:
        yield AgentGrid()

    def on_mount(self) -> None:
        original = AgentCard.slot_line

        def counted(card: AgentCard, y: int) -> Strip:
            self.rows += 1
            return original(card, y)

        AgentCard.slot_line = counted  # type: ignore[method-assign]  # count repainted card rows
        self.set_interval(TICK, self.tick)
        self.run_worker(self.scenarios())

    def tick(self) -> None:
        self.tick_no += 1
        for agent in list(self.state.agents.values())[: self.active]:
            agent.screen = [*agent.screen[1:], pane_line(self.tick_no, self.tick_no * AGENTS)]
        self.changed += self.query_one(AgentGrid).sync(self.state, time.time())

    async def measure(self, active: int) -> dict:
        self.active = active
        await asyncio.sleep(1.0)  # settle: caches warm, first full repaint done
        self.changed = self.rows = DiscardingDriver.written = 0
        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.sleep(self.seconds)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return {
            "changing_panes": active,
            "cpu_percent": round(100 * cpu / wall, 1),
            "changed_cards_per_s": round(self.changed / wall, 1),
            "card_rows_repainted_per_s": round(self.rows / wall),
            "output_kb_per_s": round(DiscardingDriver.written / wall / 1024, 1),
            "cpu_s": cpu,
            "changed_cards": self.changed,
        }

    async def scenarios(self) -> None:
        results = [await self.measure(active) for active in (0, 5, AGENTS)]
        idle_cpu_per_s = results[0]["cpu_s"] / self.seconds
        for result in results:
            extra = result.pop("cpu_s") - idle_cpu_per_s * self.seconds
            changed = result.pop("changed_cards")
            if result["changing_panes"]:
                result["ms_per_changed_card"] = round(1000 * extra / changed, 2)
        self.exit({"size": list(self.size), "columns": self.query_one(AgentGrid).columns,
                   "seconds_each": self.seconds, "tick_s": TICK, "scenarios": results})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--width", type=int, default=240)
    parser.add_argument("--height", type=int, default=60)
    args = parser.parse_args()
    app = BenchApp(args.seconds)
    result = app.run(headless=False, size=(args.width, args.height))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
