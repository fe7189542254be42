"""``fleet-tui workspaces``: the agents' worktrees (agent, path, branch, task, files +A -D,
clean or dirty), read from git directly, so it works with or without a running daemon; and
``workspaces prune``, which removes only worktrees whose HEAD is in the base branch, whose
trees are clean and whose agents are not running, printing what it kept and why. With a daemon
running, prune goes through it (each removal is then a ``workspace.removed`` event); without
one, it asks the fleet's tmux server which agents still run. Exit codes as ``cli_fleet``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fleet_tui.adapters import control_socket as cs
from fleet_tui.adapters import paths
from fleet_tui.adapters import worktrees as wt
from fleet_tui.adapters.git import GitError
from fleet_tui.adapters.tmux import socket_name_for
from fleet_tui.cli_fleet import EXIT_FAILED, _loaded, _print_json
from fleet_tui.config.loader import LoadedConfig
from fleet_tui.core.branch_names import PREFIX
from fleet_tui.core.sanitize import safe_line


def cmd_workspaces(args: argparse.Namespace) -> int:
    loaded = _loaded(args)
    config = loaded.config
    try:
        fleet_key = socket_name_for(config.fleet, loaded.path)
        repo = wt.fleet_repo(loaded, fleet_key)
        if repo is None:
            print(f"fleet-tui: fleet {config.fleet!r} has no git repository (set repo: in fleet.yaml)",
                  file=sys.stderr)
            return EXIT_FAILED
        folder = paths.worktrees_dir(fleet_key)
        if args.action == "prune":
            return _prune(args, loaded, repo, folder)
        return _list(args, repo, folder)
    except GitError as exc:
        print(f"fleet-tui: {safe_line(str(exc))}", file=sys.stderr)
        return EXIT_FAILED


def _list(args: argparse.Namespace, repo: wt.Repo, folder: Path) -> int:
    rows = [{"agent": r.agent, "path": r.path, "branch": r.branch,
             "task": r.branch.removeprefix(PREFIX) if r.branch.startswith(PREFIX) else "",
             "files": r.files, "added": r.added, "removed": r.removed,
             "state": "dirty" if r.dirty else "clean"} for r in wt.list_fleet(repo, folder)]
    if args.json:
        _print_json(rows)
        return 0
    print(f"{'AGENT':<16} {'BRANCH':<24} {'TASK':<10} {'FILES':>5} {'+A':>6} {'-D':>6} {'STATE':<6} PATH")
    for r in rows:
        agent, branch, task, path = (safe_line(r[k]) for k in ("agent", "branch", "task", "path"))
        print(f"{agent[:16]:<16} {branch[:24] or '(detached)':<24} {task[:10]:<10} {r['files']:>5} "
              f"{'+' + str(r['added']):>6} {'-' + str(r['removed']):>6} {r['state']:<6} {path}")
    return 0


def _prune(args: argparse.Namespace, loaded: LoadedConfig, repo: wt.Repo, folder: Path) -> int:
    from fleet_tui.client.launch import fleet_driver, ping

    driver = fleet_driver(loaded)
    info = ping(driver)
    if info is not None:
        done = cs.call(cs.control_path(info["session"]), cs.Request(op="workspaces_prune", client="cli"))
        removed, kept = [tuple(r) for r in done["removed"]], [tuple(k) for k in done["kept"]]
    else:
        busy = {p.agent for p in driver.list_agent_panes() if not p.dead} if driver.is_running() else set()
        trees, kept = wt.prune_fleet(repo, folder, busy)
        removed = [(Path(t.path).name, t.path) for t in trees]
    if args.json:
        _print_json({"removed": [{"agent": a, "path": p} for a, p in removed],
                     "kept": [{"agent": a, "why": w} for a, w in kept]})
        return 0
    for agent, path in removed:
        print(safe_line(f"removed {agent}: {path}"))
    for agent, why in kept:
        print(safe_line(f"kept {agent}: {why}"))
    if not removed and not kept:
        print("no worktrees")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("workspaces", help="the agents' git worktrees; `prune` removes merged, clean ones")
    p.add_argument("action", nargs="?", choices=["list", "prune"], default="list",
                   help="list (default) or prune: remove worktrees merged into the base and clean")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_workspaces)
