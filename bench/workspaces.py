"""Bench: from a file write (or a commit) in one of 10 agents' worktrees to its
``workspace.changed`` event, and from a write in all 10 at once to each one's event, through
the real daemon service (watchfiles, coalescing, git status + merge-base + numstat against the
base), on a private tmux server and FLEET_HOME, a throwaway repository with 200 files. The
baseline is one ``inspect`` of a worktree (the git calls alone). Prints JSON.

    python bench/workspaces.py [--worktrees 10] [--writes 60] [--bursts 10]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import ms_summary

from fleet_tui.adapters import worktrees as wt
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.config.loader import load_config
from fleet_tui.core import events as ev
from fleet_tui.daemon.service import FleetService
from tests.gitrepo import git, make_repo


class Arrivals:
    """When each agent's ``workspace.changed`` events arrive (a pipeline listener)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.seen: list[tuple[float, ev.WorkspaceChanged]] = []

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.WorkspaceChanged):
            with self.cond:
                self.seen.append((time.perf_counter(), event))
                self.cond.notify_all()

    def wait(self, since: int, match, timeout: float = 10.0) -> float:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for at, event in self.seen[since:]:
                    if match(event):
                        return at
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no workspace.changed")
                self.cond.wait(left)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worktrees", type=int, default=10)
    parser.add_argument("--writes", type=int, default=60)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--bursts", type=int, default=10)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="fleet-bench-ws-"))
    os.environ["FLEET_HOME"] = str(root / "home")
    socket = f"fleet-bench-ws-{uuid.uuid4().hex[:8]}"
    driver = TmuxDriver(socket)
    make_repo(root / "proj", {f"pkg{i % 10}/mod{i}.py": "".join(f"line {j}\n" for j in range(50))
                              for i in range(args.files)})
    agents = [{"name": f"a{i}", "command": ["sleep", "100000"], "preset": "none"}
              for i in range(args.worktrees)]
    (root / "fleet.yaml").write_text(yaml.safe_dump({"fleet": "bench", "repo": "proj",
                                                     "defaults": {"cwd": "proj"}, "agents": agents}))
    service = FleetService(load_config(root / "fleet.yaml"), driver=driver)
    arrivals = Arrivals()
    try:
        service.start()
        service.pipeline.listeners.append(arrivals)
        trees = {name: Path(w.path) for name, w in service.state.workspaces.items()}
        writes, commits, inspects = [], [], []
        for i in range(args.writes):
            name = f"a{i % args.worktrees}"
            tree = trees[name]
            start = time.perf_counter()
            wt.inspect(tree, "main")
            inspects.append(time.perf_counter() - start)
            mark = len(arrivals.seen)
            path = f"pkg{i % 10}/mod{i % args.files}.py"
            start = time.perf_counter()
            with open(tree / path, "a") as f:
                f.write(f"change {i}\n")
            at = arrivals.wait(mark, lambda e, n=name, p=path: e.agent == n
                               and any(f.path == p for f in e.files))
            writes.append(at - start)
            if i % 3 == 0:  # a commit changes only the worktree's git dir
                git(tree, "add", "-A")  # staged or not, the tree is as dirty: no event
                mark = len(arrivals.seen)
                head = git(tree, "rev-parse", "HEAD")
                start = time.perf_counter()
                git(tree, "commit", "-q", "-m", f"c{i}")
                at = arrivals.wait(mark, lambda e, n=name, h=head: e.agent == n and e.head != h
                                   and not e.dirty)
                commits.append(at - start)
        bursts = []
        for i in range(args.bursts):  # every worktree written at once: refreshes queue up
            mark = len(arrivals.seen)
            path = f"burst{i}.txt"
            start = time.perf_counter()
            for tree in trees.values():
                (tree / path).write_text("burst\n")
            for name in trees:
                at = arrivals.wait(mark, lambda e, n=name, p=path: e.agent == n
                                   and any(f.path == p for f in e.files))
                bursts.append(at - start)
        print(json.dumps({
            "worktrees": args.worktrees, "files_in_repo": args.files,
            "write_to_changed_ms": ms_summary(writes),
            "commit_to_changed_ms": ms_summary(commits),
            "write_in_all_to_each_changed_ms": ms_summary(bursts),
            "baseline_inspect_ms": ms_summary(inspects),
            "events": len(arrivals.seen),
            "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        }))
    finally:
        service.stop(kill_agents=True)
        driver.kill_server()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
