"""Benchmark of an overlap between two agents' worktrees reaching the log as an alert: from a
file written in one worktree to the ``overlap``/``conflict`` alert. Target (issue 12): p95
<= 1 s with 10 worktrees.

A throwaway git repository with 10 worktrees (``fleet/T0``..``fleet/T9``), each already
changing files of its own, so the overlap rule and ``git merge-tree`` work over 10 live
branches. Each round takes a pair of worktrees: the first writes and commits ``shared_K.py``,
then the measured write: the second writes its own ``shared_K.py`` (so they would conflict) and
commits it; the round ends when the pair's alert is in the log, and the file is removed from
both (the alert clears) before the next round.

Two modes (``--mode``):

- ``events`` (works without the workspace watcher): an in-process daemon on a private tmux
  server; after the write this script does the watcher's git work itself (``git status`` and
  ``git diff --numstat`` against the base) and submits the ``workspace.changed`` event. Gives
  write->alert (this git work, the rules, ``git merge-tree`` on the conflict worker, the log)
  and event->alert (the daemon's share only); the baseline is the git work alone (the write,
  its commit, status and numstat: what any watcher pays before the daemon sees a change).
- ``watcher``: the real daemon process with ``repo:`` set, so its watcher (issue 12's
  worktree part) sees the write: write->alert as a user gets it, including the watcher's
  coalescing. It needs the ``repo:`` setting in fleet.yaml and says so when it is missing.

Prints one JSON object with the load average before and after. Run:
``python bench/overlaps.py [--mode events|watcher] [--rounds 40] [--worktrees 10]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml
from common import ms_summary

from fleet_tui.adapters.eventlog_read import read_log
from fleet_tui.core import events as ev
from fleet_tui.core.overlaps import pair_key
from tests.gitrepo import add_worktree, git, make_repo

P95_TARGET_MS = 1000.0
STAGES = [{"name": "backlog"}, {"name": "in_progress", "roles": ["developer"]}, {"name": "done"}]


def project(folder: Path, worktrees: int) -> tuple[Path, list[Path]]:
    repo, _ = make_repo(folder / "repo", {f"own_{i}.py": "x = 0\n" for i in range(worktrees)})
    return repo, [folder / f"tree-{i}" for i in range(worktrees)]


def write(tree: Path, name: str, text: str | None) -> None:
    """Write (or with None remove) ``name`` in ``tree`` and commit, as an agent does."""
    if text is None:
        (tree / name).unlink()
    else:
        (tree / name).write_text(text)
    git(tree, "add", "-A")
    git(tree, "commit", "-q", "-m", f"edit {name}")


def watcher_view(agent: str, task: str, tree: Path) -> ev.WorkspaceChanged:
    """What the workspace watcher computes for ``tree``: status and numstat against the base."""
    base = git(tree, "merge-base", "HEAD", "main")
    git(tree, "status", "--porcelain")
    files = []
    for line in git(tree, "diff", "--numstat", base).splitlines():
        added, removed, path = line.split("\t", 2)
        files.append(ev.FileChange(path=path, added=int(added) if added != "-" else -1,
                                   removed=int(removed) if removed != "-" else -1))
    return ev.WorkspaceChanged(agent=agent, task=task, branch=f"fleet/{task}",
                               head=git(tree, "rev-parse", "HEAD"), base_commit=base, files=files)


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def run_events(folder: Path, rounds: int, worktrees: int) -> dict[str, Any]:
    from fleet_tui.adapters.tmux import TmuxDriver
    from fleet_tui.config.loader import load_config
    from fleet_tui.daemon.main import Daemon

    os.environ["FLEET_HOME"] = str(folder / "home")
    repo, trees = project(folder, worktrees)
    config = folder / "fleet.yaml"
    config.write_text(yaml.safe_dump({"fleet": "bench", "routing": {"stages": [{"name": "backlog"}]}}))
    socket = f"fleet-bench-overlaps-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    daemon = Daemon(load_config(config), driver=TmuxDriver(socket))
    alerts: list[tuple[float, ev.Alert]] = []
    daemon.service.pipeline.listeners.append(
        lambda e: alerts.append((time.time(), e)) if isinstance(e, ev.Alert) else None)
    daemon.start()
    orch = daemon.service
    try:
        for i, tree in enumerate(trees):
            add_worktree(repo, tree, f"fleet/T{i}")
            orch.submit(ev.WorkspaceCreated(agent=f"a{i}", path=str(tree), repo=str(repo), base="main"))
            write(tree, f"own_{i}.py", f"x = {i + 1}\n")
            orch.submit(watcher_view(f"a{i}", f"T{i}", tree))
        write_to_alert, event_to_alert, git_work, conflicts = [], [], [], 0
        for k in range(rounds):
            i, j = k % worktrees, (k + 1) % worktrees
            name = f"shared_{k}.py"
            write(trees[j], name, "side = 'j'\n")
            orch.submit(watcher_view(f"a{j}", f"T{j}", trees[j]))
            start = time.time()
            write(trees[i], name, "side = 'i'\n")
            event = watcher_view(f"a{i}", f"T{i}", trees[i])
            submitted = time.time()
            orch.submit(event)
            key = pair_key(f"T{i}", f"T{j}")
            alert = _wait(alerts, lambda a, key=key: a.key == key and not a.cleared)
            write_to_alert.append(alert[0] - start)
            event_to_alert.append(alert[0] - submitted)
            git_work.append(submitted - start)
            conflicts += alert[1].kind == ev.ALERT_CONFLICT
            for side, tree in ((i, trees[i]), (j, trees[j])):
                write(tree, name, None)
                orch.submit(watcher_view(f"a{side}", f"T{side}", tree))
            _wait(alerts, lambda a, key=key: a.key == key and a.cleared)
        return {"write_to_alert_ms": ms_summary(write_to_alert),
                "event_to_alert_ms": ms_summary(event_to_alert),
                "baseline_git_work_ms": ms_summary(git_work),
                "alerts_saying_conflict": f"{conflicts}/{rounds}"}
    finally:
        daemon.close()
        TmuxDriver(socket).kill_server()


def _wait(alerts: list[tuple[float, ev.Alert]], match: Any, timeout: float = 10.0) -> tuple[float, ev.Alert]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for index, (when, alert) in enumerate(alerts):
            if match(alert):
                del alerts[: index + 1]
                return when, alert
        time.sleep(0.002)
    raise TimeoutError("no overlap alert within 10 s")


def run_watcher(folder: Path, rounds: int, worktrees: int) -> dict[str, Any]:
    """The daemon's own watcher (a ``FleetService`` in this process, on a private tmux server):
    agents ``a0``.. have their worktrees put on tasks ``T0``.. as before a prompt (``prepare``),
    files are written in them, and the log is read for the alerts."""
    from fleet_tui.adapters import paths
    from fleet_tui.adapters.tmux import TmuxDriver
    from fleet_tui.config.loader import load_config
    from fleet_tui.daemon.service import FleetService

    repo, _ = project(folder, worktrees)
    os.environ["FLEET_HOME"] = str(folder / "home")
    agents = [{"name": f"a{i}", "roles": ["developer"], "command": ["sleep", "100000"], "preset": "none"}
              for i in range(worktrees)]
    tasks = [{"id": f"T{i}", "title": f"task {i}", "column": "in_progress"} for i in range(worktrees)]
    (folder / "fleet.yaml").write_text(yaml.safe_dump({
        "fleet": "overlaps", "repo": str(repo), "base": "main", "defaults": {"cwd": str(repo)},
        "agents": agents, "tasks": tasks,
        "routing": {"stages": STAGES, "auto_route": False}}))
    driver = TmuxDriver(f"fleet-bench-overlaps-{uuid.uuid4().hex[:8]}")
    service = FleetService(load_config(folder / "fleet.yaml"), driver=driver)
    try:
        service.start()
        log = paths.events_path(service.session_id)
        for i in range(worktrees):
            if why := service.workspaces.prepare(f"a{i}", f"T{i}"):
                raise RuntimeError(why)
        trees = [Path(service.state.workspaces[f"a{i}"].path) for i in range(worktrees)]
        times = []
        for k in range(rounds):
            i, j = k % worktrees, (k + 1) % worktrees
            name, key = f"shared_{k}.py", pair_key(f"T{i}", f"T{j}")
            mark = len(_events(log))
            (trees[j] / name).write_text("side = 'j'\n")
            _alert_in_log(log, lambda e, j=j, name=name: isinstance(e, ev.WorkspaceChanged)
                          and e.agent == f"a{j}" and any(f.path == name for f in e.files), mark)
            mark = len(_events(log))
            start = time.time()
            (trees[i] / name).write_text("side = 'i'\n")
            alert = _alert_in_log(log, lambda e, key=key: isinstance(e, ev.Alert) and e.key == key
                                  and not e.cleared, mark)
            times.append(alert.ts - start)
            mark = len(_events(log))
            (trees[i] / name).unlink()
            (trees[j] / name).unlink()
            _alert_in_log(log, lambda e, key=key: isinstance(e, ev.Alert) and e.key == key and e.cleared,
                          mark)
        return {"write_to_alert_ms": ms_summary(times)}
    finally:
        service.stop(kill_agents=True)
        driver.kill_server()


def _events(log: Path) -> list[ev.Event]:
    events, _ = read_log(log, skip_corrupt=True)
    return [e for e in events if isinstance(e, ev.Event)]


def _alert_in_log(log: Path, match: Any, seen: int, timeout: float = 10.0) -> ev.Event:
    """The first event after the log's first ``seen`` that ``match`` takes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = _events(log)
        for event in events[seen:]:
            if match(event):
                return event
        seen = len(events)
        time.sleep(0.005)
    raise TimeoutError("the expected event did not reach the log")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("events", "watcher"), default="events")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--worktrees", type=int, default=10)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fleet-bench-overlaps-"))
    before = loadavg()
    try:
        run = run_events if args.mode == "events" else run_watcher
        result = run(folder, args.rounds, args.worktrees)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result = {"mode": args.mode, "worktrees": args.worktrees, "rounds": args.rounds, **result,
              "p95_target_ms": P95_TARGET_MS, "loadavg_before": before, "loadavg_after": loadavg()}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
