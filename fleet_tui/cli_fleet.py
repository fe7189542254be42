"""The headless commands: clients of a running fleet's daemon, for scripts and quick looks.

``daemon`` runs the daemon itself; ``stop`` ends it; ``ls``, ``tasks`` and ``tail`` read the
session's log; the rest send one request each. ``--json`` prints machine-readable output.
Exit codes: 0 ok, 1 refused or failed (one line on stderr), 2 usage, 3 no daemon running for
this fleet.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import msgspec

from fleet_tui.adapters import control_socket as cs
from fleet_tui.adapters.ssh_advice import unreachable
from fleet_tui.config.loader import LoadedConfig, find_config, load_config
from fleet_tui.core.sanitize import safe_line
from fleet_tui.core.state import FleetState
from fleet_tui.core.summary import elapsed, subject, summarize

EXIT_FAILED = 1
EXIT_NO_DAEMON = 3
#: Seconds between reads of the log for ``tail -f``.
FOLLOW_INTERVAL = 0.2


class NoFleet(Exception):
    """No daemon runs for this fleet (exit code 3)."""


def _loaded(args: argparse.Namespace) -> LoadedConfig:
    return load_config(find_config(args.config))


def _info(loaded: LoadedConfig) -> dict[str, Any]:
    from fleet_tui.client.launch import fleet_driver, ping

    info = ping(fleet_driver(loaded))
    if info is None:
        raise NoFleet(f"no daemon is running for fleet {loaded.config.fleet!r} "
                      f"(start it with `fleet-tui` or `fleet-tui daemon`)")
    return info


def _request(args: argparse.Namespace, op: str, **fields: Any) -> Any:
    info = _info(_loaded(args))
    try:
        return cs.call(cs.control_path(info["session"]), cs.Request(op=op, args=fields, client="cli"))
    except cs.NoDaemon as exc:
        raise NoFleet(str(exc)) from None


def _state(args: argparse.Namespace) -> tuple[FleetState, dict[str, Any]]:
    from fleet_tui.client.follower import LogFollower

    info = _info(_loaded(args))
    follower = LogFollower(Path(info["log"]))
    try:
        return follower.open(), info
    finally:
        follower.close()


def _print_json(data: Any) -> None:
    sys.stdout.write(msgspec.json.encode(data).decode() + "\n")


# --- the daemon ---------------------------------------------------------------------------------


def cmd_daemon(args: argparse.Namespace) -> int:
    from fleet_tui.daemon.main import run_daemon

    return run_daemon(_loaded(args), spawn=not args.no_spawn, skip_corrupt=args.skip_corrupt)


def cmd_stop(args: argparse.Namespace) -> int:
    _request(args, "stop", kill_agents=not args.keep_agents)
    print("the fleet is stopping" + (" (agents keep running)" if args.keep_agents else ""))
    return 0


# --- reading ------------------------------------------------------------------------------------


def cmd_ls(args: argparse.Namespace) -> int:
    state, _ = _state(args)
    now = time.time()
    rows = [{"agent": a.name, "host": a.host, "status": a.status, "task": a.task or "", "model": a.model,
             "usd": round(a.cost.usd, 4), "tokens": a.cost.tokens,
             "in_status": round(now - a.status_since, 1) if a.status_since else 0.0,
             "exit_code": a.exit_code}
            for a in state.agents.values()]
    if args.json:
        _print_json(rows)
        return _hosts_down(state)
    print(f"{'AGENT':<16} {'STATUS':<9} {'TASK':<8} {'MODEL':<18} {'COST':>8} {'FOR':>6}")
    for r in rows:
        cost = f"${r['usd']:.2f}"
        agent, task, model = (safe_line(r[k]) for k in ("agent", "task", "model"))
        agent += f"@{r['host']}" if r["host"] else ""  # as its card says
        print(f"{agent[:16]:<16} {r['status'][:9]:<9} {task[:8]:<8} {model[:18]:<18} "
              f"{cost:>8} {elapsed(r['in_status']):>6}")
    return _hosts_down(state)


def _hosts_down(state: FleetState) -> int:
    """After the list, on stderr: each host the daemon cannot reach (its agents are not
    started, so not listed), with what to do."""
    sys.stdout.flush()
    for host, why in state.hosts_down.items():
        print(f"fleet-tui: {safe_line(unreachable(host, why))}", file=sys.stderr)
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    state, _ = _state(args)
    rows = [{"task": t.id, "column": t.column, "title": t.title, "assignee": t.assignee or "",
             "approvals": [a.id for a in t.pending_approvals], "usd": round(t.cost.usd, 4)}
            for t in state.tasks.values()]
    if args.json:
        _print_json(rows)
        return 0
    print(f"{'TASK':<6} {'COLUMN':<12} {'ASSIGNEE':<14} TITLE")
    for r in rows:
        gate = "  [approval waiting]" if r["approvals"] else ""
        task, column, assignee, title = (safe_line(r[k]) for k in ("task", "column", "assignee", "title"))
        print(f"{task[:6]:<6} {column[:12]:<12} {assignee[:14]:<14} {title}{gate}")
    return 0


def _wanted(event: Any, args: argparse.Namespace) -> bool:
    if args.type and not event.type_name.startswith(args.type):
        return False
    return not args.agent or getattr(event, "agent", None) == args.agent


def _show(event: Any, args: argparse.Namespace) -> None:
    if args.json:
        sys.stdout.write(msgspec.json.encode(event).decode() + "\n")
    else:
        stamp = time.strftime("%H:%M:%S", time.localtime(event.ts))
        print(f"{stamp} #{event.seq:<6} {event.type_name:<18} {subject(event):<14} {summarize(event)}")


def cmd_tail(args: argparse.Namespace) -> int:
    from fleet_tui.client.follower import LogFollower

    info = _info(_loaded(args))
    follower = LogFollower(Path(info["log"]))
    try:
        state = follower.open()
        for event in [e for e in state.timeline if _wanted(e, args)][-args.lines:]:
            _show(event, args)
        sys.stdout.flush()
        while args.follow:
            for event in follower.read():
                if getattr(event, "in_timeline", False) and _wanted(event, args):
                    _show(event, args)
            sys.stdout.flush()
            time.sleep(FOLLOW_INTERVAL)
    finally:
        follower.close()
    return 0


# --- acting -------------------------------------------------------------------------------------


def cmd_send(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text in (None, "-") else args.text
    delivered = _request(args, "prompt", name=args.agent, text=text)
    if not delivered:
        print(f"fleet-tui: the prompt did not show up in {args.agent}'s pane", file=sys.stderr)
        return EXIT_FAILED
    return 0


def cmd_spawn(args: argparse.Namespace) -> int:
    name = _request(args, "spawn", template=args.template, name=args.name or "", prompt=args.prompt or "")
    print(safe_line(name))
    return 0


def cmd_agent(args: argparse.Namespace) -> int:
    """pause, resume, kill, restart."""
    _request(args, args.op, name=args.agent)
    return 0


def cmd_task(args: argparse.Namespace) -> int:
    if args.task_op == "add":
        task = _request(args, "task_add", title=args.title, role=args.role or "",
                        description=args.description or "", column=args.column or "")
        print(safe_line(task))
    elif args.task_op == "move":
        _request(args, "task_move", task=args.task, column=args.column)
    else:
        _request(args, "task_assign", task=args.task, agent=args.agent)
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    done = _request(args, args.op, task=args.task or "", approval=args.approval or "",
                    comment=args.comment or "")
    verb = "approved" if args.op == "approve" else "denied"
    print(json.dumps(done) if args.json else safe_line(f"{verb} {done['approval']} on {done['task']}"))
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    daemon = sub.add_parser("daemon", help="run the fleet's daemon in this terminal (fleet-tui starts "
                            "it for you, in the fleet's tmux server)")
    daemon.add_argument("--no-spawn", action="store_true", help="adopt running agents, start none")
    daemon.add_argument("--skip-corrupt", action="store_true", help="skip corrupt log records")
    daemon.set_defaults(func=cmd_daemon)

    stop = sub.add_parser("stop", help="stop the fleet: its agents and its daemon")
    stop.add_argument("--keep-agents", action="store_true", help="stop only the daemon")
    stop.set_defaults(func=cmd_stop)

    for name, func, what in (("ls", cmd_ls, "the agents: status, task, model, cost, time in status"),
                             ("tasks", cmd_tasks, "the tasks: column, assignee, approvals waiting")):
        p = sub.add_parser(name, help=what)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(func=func)

    tail = sub.add_parser("tail", help="the fleet's events (live with -f)")
    tail.add_argument("-f", "--follow", action="store_true", help="keep printing new events")
    tail.add_argument("-n", "--lines", type=int, default=20, help="events shown first (default 20)")
    tail.add_argument("--type", help="only events whose type starts with this (e.g. task, alert)")
    tail.add_argument("--agent", help="only events about this agent")
    tail.add_argument("--json", action="store_true", help="one JSON event per line")
    tail.set_defaults(func=cmd_tail)

    send = sub.add_parser("send", help="type a prompt into an agent")
    send.add_argument("agent")
    send.add_argument("text", nargs="?", help="the prompt (default or '-': standard input)")
    send.set_defaults(func=cmd_send)

    spawn = sub.add_parser("spawn", help="start an agent from one of fleet.yaml's agents")
    spawn.add_argument("template")
    spawn.add_argument("--name", help="the new agent's name (default: the template's, numbered)")
    spawn.add_argument("--prompt", help="its first prompt")
    spawn.set_defaults(func=cmd_spawn)

    for op in ("pause", "resume", "kill", "restart"):
        p = sub.add_parser(op, help=f"{op} an agent")
        p.add_argument("agent")
        p.set_defaults(func=cmd_agent, op=op)

    task = sub.add_parser("task", help="add, move or assign a task")
    task_sub = task.add_subparsers(dest="task_op", metavar="add|move|assign", required=True)
    add = task_sub.add_parser("add", help="a new task")
    add.add_argument("title")
    add.add_argument("--role")
    add.add_argument("--description")
    add.add_argument("--column", help="where it starts (default backlog)")
    move = task_sub.add_parser("move", help="move a task to a column")
    move.add_argument("task")
    move.add_argument("column")
    assign = task_sub.add_parser("assign", help="give a task to an agent (it is prompted)")
    assign.add_argument("task")
    assign.add_argument("agent")
    task.set_defaults(func=cmd_task)

    for op in ("approve", "deny"):
        p = sub.add_parser(op, help=f"{op} a pending approval gate (a person only, never an agent)")
        p.add_argument("task", nargs="?", help="the task (default: the first one waiting)")
        p.add_argument("--approval", help="which gate of the task (default: its first pending one)")
        p.add_argument("--comment", help="why")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(func=cmd_decide, op=op)
