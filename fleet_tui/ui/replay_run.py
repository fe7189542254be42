"""Opens a past session for replay (the ``fleet-tui replay`` command): pick the session, index
its log (with progress on stderr the first time), find its fleet config, start ReplayApp."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from fleet_tui.adapters.sessions import SessionSummary, list_sessions
from fleet_tui.config.errors import ConfigError
from fleet_tui.config.loader import LoadedConfig, load_config
from fleet_tui.config.schema import FleetConfig
from fleet_tui.core import events as ev
from fleet_tui.core.sanitize import safe_line
from fleet_tui.replay.cursor import ReplayCursor
from fleet_tui.replay.export import resolve_log
from fleet_tui.replay.index import ReplayIndex, open_index
from fleet_tui.ui.replay_app import ReplayApp, ReplayFleet


class ReplayError(Exception):
    """Nothing to replay, or no choice made; shown as one line."""


def choose_session(sessions: list[SessionSummary]) -> str:
    """Ask on the terminal which session to replay (newest first)."""
    if not sessions:
        raise ReplayError("no sessions to replay yet (run a fleet first)")
    shown = sorted(sessions, key=lambda s: s.started, reverse=True)[:20]
    for i, s in enumerate(shown, 1):
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(s.started)) if s.started else "?"
        fleet = safe_line(s.fleet)[:14]
        print(f"{i:>3}  {s.id:<22} {fleet:<14} {started}  {s.events:>8} events", file=sys.stderr)
    if not sys.stdin.isatty():
        raise ReplayError("name a session to replay: fleet-tui replay SESSION_ID (listed above)")
    answer = input(f"replay which session? [1-{len(shown)}, enter for 1] ").strip() or "1"
    if not answer.isdigit() or not 1 <= int(answer) <= len(shown):
        raise ReplayError(f"no session {answer!r} in the list")
    return shown[int(answer) - 1].id


def _progress(done: int, total: int) -> None:
    print(f"\rindexing the log: {done * 100 // max(total, 1):3d}%", end="", file=sys.stderr, flush=True)


def _config(index: ReplayIndex) -> tuple[FleetConfig, LoadedConfig | None, list[str]]:
    """The fleet config the session ran with, if it is still there; else a plain one."""
    header = index.event(0) if len(index) else None
    if not isinstance(header, ev.LogHeader):
        return FleetConfig(fleet="fleet"), None, []
    if header.config_path and Path(header.config_path).is_file():
        try:
            loaded = load_config(header.config_path)
            return loaded.config, loaded, []
        except ConfigError as exc:
            note = f"the session's fleet.yaml no longer loads ({exc}); showing default columns"
            return FleetConfig(fleet=header.fleet or "fleet"), None, [note]
    return FleetConfig(fleet=header.fleet or "fleet"), None, []


def run_replay(name: str | None, skip_corrupt: bool = False) -> int:
    path = resolve_log(name or choose_session(list_sessions()))
    size = path.stat().st_size
    index = open_index(path, skip_corrupt=skip_corrupt, progress=_progress if size > 1 << 24 else None)
    if size > 1 << 24:
        print(file=sys.stderr)
    try:
        config, loaded, notes = _config(index)
        cursor = ReplayCursor(index)
        cursor.seek(1)  # the log's header: the fleet's name, the session's start
        header = index.event(0) if len(index) else None
        session = header.session if isinstance(header, ev.LogHeader) and header.session else path.parent.name
        warnings = [*index.warnings, *notes]
        for warning in warnings:  # also shown in the app, as notices
            print(f"fleet-tui: warning: {safe_line(warning)}", file=sys.stderr)
        fleet = ReplayFleet(config, cursor, session_id=session, loaded=loaded, warnings=warnings)
        return ReplayApp(fleet).run() or 0
    finally:
        index.close()
