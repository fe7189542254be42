"""An offline stand-in for a coding agent, so the demo fleet runs with no logins.

``python -m fleet_tui.demo_agent --role developer --pace 1 --seed 3`` behaves like a coding
agent in a terminal: a coloured header, a spinner ("working… esc to interrupt"), tool calls
that print diffs and test runs, a permission question that waits for y/n, handoff notes, and
then an idle ``demo>`` prompt that takes the next prompt. Some runs fail and exit non-zero
(``--fail-rate``). ``--pace 0`` runs as fast as it can (tests); the seed makes runs repeatable.
Standard library only.
"""

from __future__ import annotations

import argparse
import os
import random
import select
import sys
import time
from collections.abc import Callable

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
RED = "\x1b[31m"
GREEN = "\x1b[32m"
YELLOW = "\x1b[33m"
BLUE = "\x1b[34m"
MAGENTA = "\x1b[35m"
CYAN = "\x1b[36m"

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

FILES = ["src/app.py", "src/models.py", "src/routes.py", "tests/test_app.py", "README.md"]

SCRIPTS: dict[str, list[tuple[str, str]]] = {
    "planner": [("read", "README.md"), ("think", "splitting the work"), ("write", "PLAN.md"),
                ("handoff", "plan ready: 3 tasks for developers")],
    "developer": [("read", "src/app.py"), ("think", "designing the change"), ("edit", ""),
                  ("ask", "run the test suite"), ("test", ""), ("edit", ""), ("test", ""),
                  ("handoff", "implemented, tests pass; ready for review")],
    "reviewer": [("read", "diff"), ("think", "checking edge cases"), ("test", ""),
                 ("handoff", "looks good; one nit left as a note")],
    "releaser": [("read", "CHANGELOG.md"), ("ask", "tag and push the release"),
                 ("run", "git tag v0.1.0"), ("handoff", "released v0.1.0")],
}


class Demo:
    def __init__(self, role: str, pace: float, rng: random.Random, fail_rate: float,
                 out: Callable[[str], None] = sys.stdout.write) -> None:
        self.role = role if role in SCRIPTS else "developer"
        self.pace = pace
        self.rng = rng
        self.fail_rate = fail_rate
        self.out = out
        self.name = os.environ.get("FLEET_AGENT", "demo")

    def say(self, text: str = "") -> None:
        self.out(text + "\n")
        sys.stdout.flush()

    def wait(self, seconds: float) -> None:
        if self.pace > 0:
            time.sleep(seconds * self.pace)

    def spin(self, what: str, seconds: float) -> None:
        """A spinner line that redraws in place, like real agents' status lines."""
        steps = max(1, int(seconds * 8)) if self.pace > 0 else 1
        for i in range(steps):
            frame = SPINNER[i % len(SPINNER)]
            self.out(f"\r{MAGENTA}{frame}{RESET} {what} working… {DIM}(esc to interrupt){RESET}\x1b[K")
            sys.stdout.flush()
            self.wait(0.125)
        self.out("\r\x1b[K")

    def header(self, model: str) -> None:
        self.say(f"{BOLD}{CYAN}╭─ demo agent {'─' * 29}{RESET}")
        self.say(f"{BOLD}{CYAN}│{RESET} {BOLD}{self.name}{RESET} · role {YELLOW}{self.role}{RESET}"
                 f" · model {BLUE}{model}{RESET}")
        self.say(f"{BOLD}{CYAN}╰{'─' * 42}{RESET}")

    def tool(self, name: str, arg: str) -> None:
        self.say(f"{GREEN}●{RESET} {BOLD}{name}{RESET}({arg})")

    def diff(self) -> None:
        path = self.rng.choice(FILES)
        self.tool("Edit", path)
        line = self.rng.randint(10, 200)
        self.say(f"  {DIM}@@ -{line},3 +{line},4 @@{RESET}")
        self.say(f"  {RED}-    return None{RESET}")
        self.say(f"  {GREEN}+    if not value:{RESET}")
        self.say(f"  {GREEN}+        raise ValueError(\"empty value\"){RESET}")
        self.say(f"  {GREEN}+    return value.strip(){RESET}")

    def tests(self) -> bool:
        self.tool("Bash", "pytest -q")
        self.spin("running tests", 1.5)
        passed = self.rng.randint(8, 40)
        failed = 1 if self.rng.random() < 0.2 else 0
        colour = RED if failed else GREEN
        self.say(f"  {colour}{passed} passed, {failed} failed{RESET} in {self.rng.uniform(0.3, 4):.2f}s")
        return not failed

    def ask(self, what: str, answer: Callable[[], str]) -> bool:
        self.say(f"{YELLOW}?{RESET} The agent wants to {what}.")
        self.out(f"{BOLD}Allow this action? (y/n){RESET} ")
        sys.stdout.flush()
        reply = answer().strip().lower()
        allowed = reply.startswith("y")
        self.say(f"  {GREEN + 'allowed' if allowed else RED + 'denied'}{RESET}")
        return allowed

    def run(self, prompt: str, answer: Callable[[], str]) -> bool:
        """One run about ``prompt``; False when it fails."""
        self.say(f"{BOLD}>{RESET} {prompt}")
        for step, arg in SCRIPTS[self.role]:
            if step == "read":
                self.tool("Read", arg)
                self.wait(0.3)
            elif step == "think":
                self.spin(arg, self.rng.uniform(1, 3))
            elif step == "write":
                self.tool("Write", arg)
                self.say(f"  {GREEN}+ 1. {prompt[:40]}{RESET}")
            elif step == "edit":
                self.spin("editing", self.rng.uniform(0.5, 2))
                self.diff()
            elif step == "test":
                self.tests()
            elif step == "run":
                self.tool("Bash", arg)
                self.wait(0.5)
            elif step == "ask" and not self.ask(arg, answer):
                self.say(f"{DIM}skipping that step{RESET}")
            elif step == "handoff":
                if self.rng.random() < self.fail_rate:
                    self.say(f"{RED}✗ error: the model returned an invalid tool call; giving up{RESET}")
                    return False
                self.say(f"{CYAN}handoff:{RESET} {arg}")
            self.wait(0.2)
        self.say(f"{GREEN}✓ done{RESET}")
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="An offline demo coding agent.")
    parser.add_argument("--role", default="developer", choices=sorted(SCRIPTS))
    parser.add_argument("--pace", type=float, default=1.0, help="delay scale; 0 = no delays")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fail-rate", type=float, default=0.15)
    parser.add_argument("--model", default=os.environ.get("FLEET_MODEL", "demo-1"))
    parser.add_argument("--prompt", default="", help="a first prompt to start on at once")
    parser.add_argument("--runs", type=int, default=0, help="exit after N runs (0 = never)")
    parser.add_argument("--auto", type=float, default=0.0, metavar="SECONDS",
                        help="after a run, start another on its own after SECONDS idle (0 = wait)")
    args = parser.parse_args(argv)

    demo = Demo(args.role, args.pace, random.Random(args.seed), args.fail_rate)

    def read_line() -> str:
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line

    def next_prompt() -> str:
        """The user's next prompt, or (with --auto) a made-up one after the idle time."""
        if args.auto > 0 and not select.select([sys.stdin], [], [], args.auto)[0]:
            work = demo.rng.choice(["next item on the plan", "fix the flaky test",
                                    "tidy the module", "follow up on review notes"])
            demo.say()
            return work
        return read_line().strip()

    demo.header(args.model)
    prompt = args.prompt
    runs = 0
    try:
        while True:
            if not prompt:
                demo.out("demo> ")
                sys.stdout.flush()
                prompt = next_prompt()
                if not prompt:
                    continue
            if not demo.run(prompt, read_line):
                return 1
            runs += 1
            prompt = ""
            if args.runs and runs >= args.runs:
                return 0
    except (EOFError, KeyboardInterrupt):
        demo.say()
        return 0


if __name__ == "__main__":
    sys.exit(main())
