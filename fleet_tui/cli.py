"""The ``fleet-tui`` command: argparse front door to every subcommand.

User errors (bad config, locked or corrupt log, bad arguments) print one line and exit 1; an
unexpected crash prints one line and keeps the traceback in ``$FLEET_HOME/crash.log``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import msgspec

from fleet_tui.adapters import paths
from fleet_tui.adapters.control_socket import ControlError
from fleet_tui.adapters.crashlog import write_crash_report
from fleet_tui.adapters.eventlog import EventLogError
from fleet_tui.cli_fleet import EXIT_NO_DAEMON, NoFleet, add_parsers
from fleet_tui.cli_workspaces import add_parsers as add_workspace_parsers
from fleet_tui.config.errors import ConfigError
from fleet_tui.config.loader import find_config, load_config
from fleet_tui.config.programs import missing_programs
from fleet_tui.config.resolve import describe_agents
from fleet_tui.config.schema import FleetConfig
from fleet_tui.config.starter import STARTER_YAML
from fleet_tui.core.sanitize import safe_line, safe_text

#: Where ``fleet-tui serve`` also takes a token of one's own (out of sight of ``ps``).
SERVE_TOKEN_ENV = "FLEET_SERVE_TOKEN"


class UserError(Exception):
    """Something the user can fix; shown as one line."""


def _version() -> str:
    try:
        return version("fleet-tui")
    except PackageNotFoundError:
        return "unknown"


def cmd_run(args: argparse.Namespace) -> int:
    from fleet_tui.ui.run import run_app  # Textual is imported only when the app runs

    loaded = load_config(find_config(args.config))
    return run_app(loaded, spawn=not args.no_spawn, skip_corrupt=args.skip_corrupt,
                   read_only=args.read_only, client=args.client)


def cmd_serve(args: argparse.Namespace) -> int:
    """The UI in a browser: checks first, then the port, then the daemon (started if needed)."""
    import secrets

    from fleet_tui.client.launch import DaemonError, ensure_daemon
    from fleet_tui.ui.serve import ServeError, check_exposure, check_token, run_server

    own = args.token or os.environ.pop(SERVE_TOKEN_ENV, "")  # not passed on to the apps
    loaded = load_config(find_config(args.config))
    try:
        if not 0 <= args.port <= 65535:
            raise ServeError(f"--port must be 0 to 65535, not {args.port}")
        check_exposure(args.host, bool(own), args.public_url)
        token = check_token(own) if own else secrets.token_urlsafe(32)
        fleet = safe_line(loaded.config.fleet)
        mode = " read-only" if args.read_only else ""

        def say(text: str) -> None:
            print(f"fleet-tui: {text}", flush=True)

        run_server(loaded.path, f"fleet-tui: {fleet}", args.host, args.port, token, args.public_url,
                   args.read_only, lambda: ensure_daemon(loaded, progress=say),
                   lambda url: say(f"serving fleet {fleet!r}{mode} at {url}\n"
                                   "ctrl+c stops serving; the fleet goes on"))
    except (ServeError, DaemonError) as exc:
        raise UserError(str(exc)) from None
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    loaded = load_config(find_config(args.file or args.config))
    agents = sum(max(1, a.replicas) for a in loaded.config.agents)
    print(f"ok: {agents} agents, {len(loaded.config.tasks)} tasks")
    for line in describe_agents(loaded.config):
        print(line)
    for warning in missing_programs(loaded.config, loaded.base_dir):
        print(f"fleet-tui: warning: {warning}", file=sys.stderr)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    schema = msgspec.json.schema(FleetConfig)
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(schema), indent=2).decode() + "\n")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    target = Path(args.path)
    if target.is_dir():
        target = target / "fleet.yaml"
    try:
        paths.write_new_private(target, STARTER_YAML)
    except FileExistsError:
        raise UserError(f"{target} already exists; not overwriting it") from None
    except OSError as exc:
        raise UserError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(f"wrote {target}: edit it, then run `fleet-tui validate {target}` and `fleet-tui`")
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    from fleet_tui.adapters.sessions import list_sessions
    from fleet_tui.core.summary import elapsed

    sessions = list_sessions()
    if not sessions:
        print(f"no sessions yet under {paths.sessions_dir()}")
        return 0
    print(f"{'SESSION':<22} {'FLEET':<14} {'STARTED':<19} {'DURATION':>9} {'AGENTS':>6} {'EVENTS':>9}")
    for s in sessions:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s.started)) if s.started else "?"
        live = "  (live)" if s.live else ""
        print(f"{s.id:<22} {safe_line(s.fleet)[:14]:<14} {started:<19} {elapsed(s.duration):>9} "
              f"{s.agents:>6} {s.events:>9}{live}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from fleet_tui.replay.export import ExportError
    from fleet_tui.ui.replay_run import ReplayError, run_replay

    try:
        return run_replay(args.session, skip_corrupt=args.skip_corrupt)
    except (ExportError, ReplayError) as exc:
        raise UserError(str(exc)) from None


def cmd_export(args: argparse.Namespace) -> int:
    """Bad input (no such log, session or agent) is one line and exit code 2."""

    from fleet_tui.replay.export import ExportError, export

    try:
        warnings = export(args.log, args.format, sys.stdout, agent=args.agent,
                          skip_corrupt=args.skip_corrupt)
        sys.stdout.flush()
    except (ExportError, EventLogError) as exc:
        print(f"fleet-tui: {safe_text(str(exc))}", file=sys.stderr)
        return 2
    for warning in warnings:
        print(f"fleet-tui: warning: {safe_line(warning)}", file=sys.stderr)
    return 0


def cmd_emit(args: argparse.Namespace) -> int:
    """From an agent, a message into its inbox carrying the agent's token; from a person
    outside any agent, the same message as a request to the running fleet's daemon."""

    from fleet_tui.adapters.agent_tokens import TOKEN_ENV
    from fleet_tui.adapters.inbox import new_message_id
    from fleet_tui.adapters.remote_inbox import deliver
    from fleet_tui.core.inbox_rules import InboxMessage

    inbox = args.inbox or os.environ.get("FLEET_INBOX")
    token = os.environ.get(TOKEN_ENV, "")
    in_agent = bool(inbox or os.environ.get("FLEET_AGENT"))
    if in_agent and not token:
        raise UserError(f"{TOKEN_ENV} is not set: fleet-tui takes messages only from its agents "
                        "(run this in the agent's pane)")
    data: dict[str, str] = {}
    for item in args.data:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"--data takes KEY=VALUE, got {item!r}")
        data[key] = value
    if args.value is not None:
        data.setdefault("status" if args.type == "status" else "value", args.value)
    msg = InboxMessage(
        id=new_message_id(), type=args.type, agent=args.agent or os.environ.get("FLEET_AGENT", ""),
        task=args.task or os.environ.get("FLEET_TASK") or None, note=args.note or "", data=data,
        ts=time.time(), hook=args.hook or "", token=token,
    )
    if not in_agent:  # a person: through the daemon, which checks it is not an agent
        from fleet_tui.cli_fleet import _request

        _request(args, "emit", message=msgspec.to_builtins(msg))
        return 0
    try:
        deliver(inbox, msg)
    except OSError as exc:
        raise UserError(str(exc)) from None
    return 0


def cmd_hooks(args: argparse.Namespace) -> int:
    from fleet_tui.config.agent_cli import claude_settings, codex_notify

    if args.tool == "claude":
        print("Agents in a fleet get these hooks by themselves. For a claude you start yourself "
              "(with FLEET_INBOX and FLEET_AGENT set), merge this into the project's "
              ".claude/settings.local.json (only you, only that project):", file=sys.stderr)
        print(json.dumps(claude_settings(), indent=2))
    else:
        print("Agents in a fleet get this by themselves. For a codex you start yourself, pass "
              "it as `codex -c 'notify=...'`, or put the line at the top of ~/.codex/config.toml, "
              "before any [table] (after one it would belong to that table):", file=sys.stderr)
        print(f"notify = {codex_notify()}")
    return 0


def cmd_hook(args: argparse.Namespace) -> int:
    """Called by an agent CLI's hook: never fails the CLI, whatever it is sent."""

    from fleet_tui.adapters.agent_tokens import TOKEN_ENV
    from fleet_tui.adapters.hooks import claude_messages, codex_messages, parse_payload
    from fleet_tui.adapters.inbox import new_message_id
    from fleet_tui.adapters.remote_inbox import deliver

    inbox, agent = os.environ.get("FLEET_INBOX"), os.environ.get("FLEET_AGENT", "")
    token = os.environ.get(TOKEN_ENV, "")
    if not inbox or not agent or not token:
        return 0  # not running under fleet-tui
    try:
        if args.tool == "claude":
            payload = parse_payload(sys.stdin.read())
            messages = claude_messages(payload, agent, new_message_id, time.time())
        else:
            payload = parse_payload(args.payload[-1]) if args.payload else {}
            messages = codex_messages(payload, agent, new_message_id, time.time())
        for msg in messages:
            msg.token = token
            deliver(inbox, msg)
    except Exception:  # a hook must never fail the agent's CLI
        return 0
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fleet-tui",
        description="Run and watch a fleet of AI coding agents in background tmux sessions.",
    )
    parser.add_argument("--version", action="version", version=f"fleet-tui {_version()}")
    parser.add_argument(
        "--config", metavar="FILE",
        help="fleet.yaml to use (else $FLEET_CONFIG, ./fleet.yaml, ~/.config/fleet-tui/fleet.yaml)",
    )
    parser.set_defaults(func=cmd_run, no_spawn=False, skip_corrupt=False, read_only=False, client="ui")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    run = sub.add_parser("run", help="open the fleet (the default when no command is given): "
                         "starts its daemon if none runs, then shows it")
    run.add_argument("--no-spawn", action="store_true",
                     help="if the daemon has to be started, start no agents (adopt running ones)")
    run.add_argument("--skip-corrupt", action="store_true",
                     help="when reopening a session log, skip corrupt records (with a warning)")
    run.add_argument("--read-only", action="store_true",
                     help="watch only: keys that act on agents or tasks are refused with a notice")
    run.add_argument("--client", default="ui", choices=["ui", "web"], help=argparse.SUPPRESS)
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve", help="serve the same UI in a browser (a token in the URL)",
                           description="Serve the fleet's UI to browsers through textual-serve: each "
                           "tab runs its own client of the daemon. Prints the URL to open, with a "
                           "random token; requests without it are refused.")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; beyond localhost needs "
                       "--token or --public-url https://...)")
    serve.add_argument("--port", type=int, default=8420, help="port (default 8420; 0 picks a free one)")
    serve.add_argument("--token", default="",
                       help=f"a token of your own instead of a random one (or ${SERVE_TOKEN_ENV})")
    serve.add_argument("--public-url", default="", metavar="URL",
                       help="the address browsers use, e.g. https://... when TLS is in front")
    serve.add_argument("--read-only", action="store_true",
                       help="browsers may watch only: keys that act are refused with a notice")
    serve.set_defaults(func=cmd_serve)

    validate = sub.add_parser("validate", help="check a fleet.yaml and say what it defines")
    validate.add_argument("file", nargs="?", help="the file (default: the config search path)")
    validate.set_defaults(func=cmd_validate)

    schema = sub.add_parser("schema", help="print the JSON Schema of fleet.yaml")
    schema.set_defaults(func=cmd_schema)

    init = sub.add_parser("init", help="write a commented starter fleet.yaml")
    init.add_argument("path", nargs="?", default="fleet.yaml", help="where (default ./fleet.yaml)")
    init.set_defaults(func=cmd_init)

    sessions = sub.add_parser("sessions", help="list past sessions")
    sessions.set_defaults(func=cmd_sessions)

    export = sub.add_parser("export", help="write a session out: an agent's pane, a report, the timeline",
                            description="Write a session log to stdout as an asciicast v2 recording "
                            "of one agent's pane, a Markdown audit report, or the timeline as CSV.")
    export.add_argument("log", help="a session id (see `fleet-tui sessions`) or an events.jsonl path")
    export.add_argument("--format", choices=["asciicast", "markdown", "csv"], required=True)
    export.add_argument("--agent", help="the agent whose pane to record (needed for asciicast)")
    export.add_argument("--skip-corrupt", action="store_true", help="skip corrupt records, with a warning")
    export.set_defaults(func=cmd_export)

    replay = sub.add_parser("replay", help="replay a past session in the same screen, read-only")
    replay.add_argument("session", nargs="?",
                        help="session id or path to its events.jsonl (default: choose from a list)")
    replay.add_argument("--skip-corrupt", action="store_true", help="skip corrupt records, with a warning")
    replay.set_defaults(func=cmd_replay)

    emit = sub.add_parser(
        "emit", help="(from an agent or hook) tell fleet-tui something: status, task.done, ...",
        description="Drop one event into the fleet's inbox and return at once. Types: status "
        "(working|idle|waiting|done), task.done, task.blocked, task.note, task.created, cost.",
    )
    emit.add_argument("type", help="status, task.done, task.blocked, task.note, task.created, cost")
    emit.add_argument("value", nargs="?", help="for status: working, idle, waiting or done")
    emit.add_argument("--task", help="the task it is about (default $FLEET_TASK)")
    emit.add_argument("--note", help="handoff or decision text")
    emit.add_argument("--data", action="append", default=[], metavar="KEY=VALUE",
                      help="extra fields, e.g. model=... input_tokens=... usd=...")
    emit.add_argument("--agent", help="the agent (default $FLEET_AGENT)")
    emit.add_argument("--inbox", help="the inbox folder (default $FLEET_INBOX)")
    emit.add_argument("--hook", help=argparse.SUPPRESS)
    emit.set_defaults(func=cmd_emit)

    hooks = sub.add_parser("hooks", help="print the settings that make claude or codex report here")
    hooks.add_argument("tool", choices=["claude", "codex"])
    hooks.set_defaults(func=cmd_hooks)

    hook = sub.add_parser("hook", help="(called by claude/codex hooks) forward a hook payload")
    hook.add_argument("tool", choices=["claude", "codex"])
    hook.add_argument("payload", nargs="*", help="codex passes its JSON as the last argument")
    hook.set_defaults(func=cmd_hook)
    add_parsers(sub)
    add_workspace_parsers(sub)
    return parser


def _report_crash(exc: BaseException) -> str:
    try:
        log = write_crash_report(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} fleet-tui {_version()}\n"
                                 + "".join(traceback.format_exception(exc)))
        return f" (traceback in {log})"
    except OSError:
        return ""


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ConfigError as exc:
        print(safe_text(str(exc)), file=sys.stderr)  # already `file:line:col: path: message`
        return 1
    except (EventLogError, UserError, ControlError) as exc:
        print(f"fleet-tui: {safe_text(str(exc))}", file=sys.stderr)
        return 1
    except NoFleet as exc:
        print(f"fleet-tui: {safe_text(str(exc))}", file=sys.stderr)
        return EXIT_NO_DAEMON
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # whoever read the output has what it wanted (`fleet-tui ls | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more at exit
        return 0
    except Exception as exc:
        where = _report_crash(exc)
        print(f"fleet-tui: internal error: {type(exc).__name__}: {safe_text(str(exc))}{where}",
              file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
