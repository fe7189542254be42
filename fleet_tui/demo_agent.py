"""An offline stand-in for a coding agent, so the demo fleet runs with no logins.

``python -m fleet_tui.demo_agent --role developer --pace 1 --seed 3`` behaves like a coding
agent in a terminal: a coloured header, a spinner ("working… esc to interrupt"), tool calls
that print diffs and test runs, a permission question that waits for y/n, handoff notes, and
then an idle ``demo>`` prompt that takes the next prompt. Some runs fail and exit non-zero
(``--fail-rate``). ``--pace 0`` runs as fast as it can (tests); the seed makes runs repeatable.
``--steps N`` sets how many steps a run takes (the role's script, cut short or padded with more
work). The role picks the script: a planner writes a plan, a developer edits files, a reviewer
reviews, a releaser tags a release. Standard library only.

With ``--git`` it also does real work in its working directory, but only when that is a
worktree on a fleet-tui task branch (``fleet/<task>``): a developer adds its task's module, a
test and a route (at the task's marker line in ``src/app.py``, so two developers touch the
same file without conflicting), a planner writes ``PLAN.md``, a releaser ``CHANGELOG.md``;
each run's work is committed at its handoff.

It reports to fleet-tui the way a real agent's hooks would (``Reporter``: ``fleet-tui emit``
into ``$FLEET_INBOX``): status changes, and ``task.done`` / ``task.blocked`` for the task its
prompt names.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import select
import shutil
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
RED = "\x1b[31m"
GREEN = "\x1b[32m"
YELLOW = "\x1b[33m"
BLUE = "\x1b[34m"
MAGENTA = "\x1b[35m"
CYAN = "\x1b[36m"

BRACKETED_PASTE_ON = "\x1b[?2004h"
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"

TASK_RE = re.compile(r"\bTask ([A-Za-z0-9_.-]+):")

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


#: Work a run repeats when ``--steps`` asks for more steps than the role's script has.
EXTRA_WORK: dict[str, list[tuple[str, str]]] = {
    "planner": [("think", "refining the plan"), ("write", "PLAN.md")],
    "developer": [("edit", ""), ("test", "")],
    "reviewer": [("read", "diff"), ("think", "checking edge cases")],
    "releaser": [("run", "git log --oneline"), ("read", "CHANGELOG.md")],
}


def script_for(role: str, steps: int = 0) -> list[tuple[str, str]]:
    """The role's steps; with ``steps`` > 0 exactly that many, always ending with the handoff."""
    script = SCRIPTS[role]
    if steps <= 0:
        return list(script)
    body, handoff = list(script[:-1]), script[-1]
    extra = EXTRA_WORK[role]
    while len(body) < steps - 1:
        body.append(extra[len(body) % len(extra)])
    return [*body[: max(0, steps - 1)], handoff]


class Reporter:
    """Tells fleet-tui what the demo does, the way a real agent's hooks would: by running
    ``fleet-tui emit`` (only when ``$FLEET_INBOX`` is set and ``fleet-tui`` is on PATH).
    A prompt naming a task (``Task T2: ...``) makes the handoff a ``task.done`` for it; a
    reviewer sends each task back once, with a note, at random (seeded)."""

    def __init__(self, agent: str, role: str, rng: random.Random) -> None:
        self.agent = agent
        self.role = role
        self.rng = rng
        self.inbox = os.environ.get("FLEET_INBOX", "")
        self.emit_argv = [shutil.which("fleet-tui") or ""] if self.inbox else [""]
        self.task = ""
        self.sent_back: set[str] = set()

    def emit(self, *args: str) -> None:
        if not self.emit_argv[0]:
            return
        subprocess.run([*self.emit_argv, "emit", *args], check=False, timeout=10,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def report(self, kind: str, text: str = "") -> None:
        """``kind``: ``run.started``, ``question``, ``answered``, ``handoff``, ``run.done``,
        ``run.failed``."""
        if kind == "run.started":
            found = TASK_RE.search(text)
            self.task = found[1] if found else ""
            self.emit("status", "working")
        elif kind == "question":
            self.emit("status", "waiting", "--data", f"reason={text}")
        elif kind == "answered":
            self.emit("status", "working")
        elif kind == "handoff" and self.task:
            if self.role == "reviewer" and self.task not in self.sent_back and self.rng.random() < 0.5:
                self.sent_back.add(self.task)
                self.emit("task.blocked", "--task", self.task, "--note",
                          "please add a test for the empty-input case")
            else:
                self.emit("task.done", "--task", self.task, "--note", text)
        elif kind == "run.done":
            self.emit("status", "idle")


class Project:
    """The real files a ``--git`` demo agent writes and commits (see the module docstring)."""

    AUTHOR = ["-c", "user.name=demo agent", "-c", "user.email=demo@fleet-tui.invalid"]

    def __init__(self, enabled: bool, role: str) -> None:
        self.enabled = enabled
        self.role = role

    def _git(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], capture_output=True, text=True, timeout=30,
                              check=False, stdin=subprocess.DEVNULL)

    def task_branch(self) -> str:
        """The fleet task branch the working directory is on, or "" (then nothing is written)."""
        if not self.enabled:
            return ""
        branch = self._git("rev-parse", "--abbrev-ref", "HEAD").stdout.strip()
        return branch if branch.startswith("fleet/") else ""

    def work(self, task: str, step: int, prompt: str) -> str:
        """Write this step's file for ``task``; the path written, or "" when there is none."""
        if not task or not self.task_branch():
            return ""
        name = re.sub(r"[^a-z0-9]", "_", task.lower())
        if self.role == "planner":
            return self._append("PLAN.md", f"- {task}: {prompt[:60]}\n")
        if self.role == "releaser":
            return self._append("CHANGELOG.md", f"- {task}: release notes\n")
        if self.role != "developer":
            return ""
        if step == 0:
            self._write(f"src/{name}.py", f'"""Task {task}."""\n\n\ndef {name}_handler(value: str) -> str:\n'
                        f'    if not value:\n        raise ValueError("empty value")\n'
                        f'    return value.strip()\n')
            app = Path("src/app.py")
            if app.exists():
                lines = app.read_text().splitlines(keepends=True)
                marker = f"    # {task}:"
                lines = [f'    "/{name}": "{name}_handler",  # {task}\n' if ln.startswith(marker) else ln
                         for ln in lines]
                app.write_text("".join(lines))
            return f"src/{name}.py"
        return self._write(f"tests/test_{name}.py", (
            f"import unittest\n\nfrom src.{name} import {name}_handler\n\n\n"
            f"class {name.title()}Test(unittest.TestCase):\n"
            f"    def test_strips(self) -> None:\n"
            f"        self.assertEqual({name}_handler(' x '), 'x')\n\n"
            f"    def test_empty_input(self) -> None:\n"
            f"        with self.assertRaises(ValueError):\n            {name}_handler('')\n"))

    def _write(self, path: str, text: str) -> str:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
        return path

    def _append(self, path: str, line: str) -> str:
        with open(path, "a") as f:
            f.write(line)
        return path

    def commit(self, task: str, message: str) -> bool:
        if not task or not self.task_branch():
            return False
        self._git("add", "-A")
        done = self._git(*self.AUTHOR, "commit", "-q", "-m", f"{task}: {message}")
        return done.returncode == 0


class Demo:
    def __init__(self, role: str, pace: float, rng: random.Random, fail_rate: float,
                 out: Callable[[str], None] = sys.stdout.write, steps: int = 0,
                 git: bool = False) -> None:
        self.role = role if role in SCRIPTS else "developer"
        self.pace = pace
        self.rng = rng
        self.fail_rate = fail_rate
        self.out = out
        self.steps = steps
        self.name = os.environ.get("FLEET_AGENT", "demo")
        self.reporter = Reporter(self.name, self.role, rng)
        self.project = Project(git, self.role)

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

    def diff(self, path: str = "") -> None:
        path = path or self.rng.choice(FILES)
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
        result = f"{passed} passed, {failed} failed" if failed else f"{passed} passed"
        self.say(f"  {colour}pytest: {result}{RESET} in {self.rng.uniform(0.3, 4):.2f}s")
        return not failed

    def ask(self, what: str, answer: Callable[[], str]) -> bool:
        self.say(f"{YELLOW}?{RESET} The agent wants to {what}.")
        self.reporter.report("question", what)
        self.out(f"{BOLD}Allow this action? (y/n){RESET} ")
        sys.stdout.flush()
        reply = answer().strip().lower()
        allowed = reply.startswith("y")
        self.reporter.report("answered", reply)
        self.say(f"  {GREEN + 'allowed' if allowed else RED + 'denied'}{RESET}")
        return allowed

    def run(self, prompt: str, answer: Callable[[], str]) -> bool:
        """One run about ``prompt``; False when it fails."""
        self.say(f"{BOLD}>{RESET} {prompt}")
        self.reporter.report("run.started", prompt)
        task, edits = self.reporter.task, 0
        for step, arg in script_for(self.role, self.steps):
            if step == "read":
                self.tool("Read", arg)
                self.wait(0.3)
            elif step == "think":
                self.spin(arg, self.rng.uniform(1, 3))
            elif step == "write":
                self.tool("Write", self.project.work(task, 0, prompt) or arg)
                self.say(f"  {GREEN}+ 1. {prompt[:40]}{RESET}")
            elif step == "edit":
                self.spin("editing", self.rng.uniform(0.5, 2))
                self.diff(self.project.work(task, edits, prompt))
                edits += 1
            elif step == "test":
                self.tests()
            elif step == "run":
                self.project.work(task, 0, prompt)
                self.tool("Bash", arg)
                self.wait(0.5)
            elif step == "ask" and not self.ask(arg, answer):
                self.say(f"{DIM}skipping that step{RESET}")
            elif step == "handoff":
                if self.rng.random() < self.fail_rate:
                    self.say(f"{RED}✗ error: the model returned an invalid tool call; giving up{RESET}")
                    self.reporter.report("run.failed", prompt)
                    return False
                if self.project.commit(task, arg):
                    self.tool("Bash", "git commit")
                self.say(f"{CYAN}handoff:{RESET} {arg}")
                self.reporter.report("handoff", arg)
            self.wait(0.2)
        self.say(f"{GREEN}✓ done{RESET}")
        self.reporter.report("run.done", prompt)
        return True


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fleet_tui.demo_agent",
                                     description="An offline demo coding agent.")
    parser.add_argument("--role", default="developer", choices=sorted(SCRIPTS))
    parser.add_argument("--pace", type=float, default=1.0, help="delay scale; 0 = no delays")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fail-rate", type=float, default=0.15)
    parser.add_argument("--model", default=os.environ.get("FLEET_MODEL", "demo-1"))
    parser.add_argument("--prompt", default="", help="a first prompt to start on at once")
    parser.add_argument("--steps", type=int, default=0,
                        help="steps per run (0 = the role's whole script)")
    parser.add_argument("--runs", type=int, default=0, help="exit after N runs (0 = never)")
    parser.add_argument("--git", action="store_true",
                        help="write and commit real files, on a fleet/<task> branch only")
    parser.add_argument("--auto", type=float, default=0.0, metavar="SECONDS",
                        help="after a run, start another on its own after SECONDS idle (0 = wait)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    # Replicas share a command line: mixing the agent's name into the seed keeps each one
    # repeatable but different from its siblings.
    rng = random.Random(f"{args.seed}/{os.environ.get('FLEET_AGENT', '')}")
    demo = Demo(args.role, args.pace, rng, args.fail_rate, steps=args.steps, git=args.git)

    def read_line() -> str:
        """One line, or one whole bracketed paste (a multi-line prompt) joined into a line."""
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        if PASTE_START in line:
            while PASTE_END not in line:
                more = sys.stdin.readline()
                if not more:
                    break
                line += more
            line = " ".join(line.replace(PASTE_START, "").replace(PASTE_END, "").split())
        return line

    def next_prompt() -> str:
        """The user's next prompt, or (with --auto) a made-up one after the idle time."""
        if args.auto > 0 and not select.select([sys.stdin], [], [], args.auto)[0]:
            work = demo.rng.choice(["next item on the plan", "fix the flaky test",
                                    "tidy the module", "follow up on review notes"])
            demo.say()
            return work
        return read_line().strip()

    if sys.stdout.isatty():
        demo.out(BRACKETED_PASTE_ON)  # like real agent CLIs: pastes arrive marked, as one prompt
    if sys.stdin.isatty():  # echo the paste markers raw (the terminal ignores them), not as ^[[200~
        flags = termios.tcgetattr(sys.stdin)
        flags[3] &= ~termios.ECHOCTL
        termios.tcsetattr(sys.stdin, termios.TCSANOW, flags)
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
