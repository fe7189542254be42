"""Where fleet-tui keeps its files: the state home, session folders, config search path.

State lives under ``$FLEET_HOME`` (default ``$XDG_STATE_HOME/fleet-tui``, i.e.
``~/.local/state/fleet-tui``): ``sessions/<id>/events.jsonl`` and ``sessions/<id>/inbox/``;
the agents' git worktrees in ``worktrees/<fleet's tmux socket name>/<agent>`` (kept across
sessions, outside the user's repository).
Folders are created 0700 (missing parents too) and files 0600: logs hold prompts and agent
output.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

EVENTS_FILE = "events.jsonl"
INBOX_DIR = "inbox"


def fleet_home() -> Path:
    explicit = os.environ.get("FLEET_HOME")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "fleet-tui"


def config_home() -> Path:
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(xdg) / "fleet-tui"


def make_private_dirs(path: Path) -> Path:
    """Create ``path`` and each missing parent as 0700 (``Path.mkdir(parents=True)`` would
    make the parents 0777 less the umask); folders that exist are left as they are."""
    missing = []
    folder = path
    while not folder.is_dir() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    return path


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700; tighten it if it already exists."""
    make_private_dirs(path)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def replace_private(path: Path, data: bytes) -> None:
    """Write ``path`` atomically: a 0600 temporary file beside it, renamed over it. OSError if
    it cannot (the temporary file is removed)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            os.fchmod(fd, 0o600)  # a leftover temporary file keeps its own mode
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def write_new_private(path: Path, text: str) -> None:
    """Create the file ``path`` (0600) holding ``text``; FileExistsError if it is there."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def sessions_dir() -> Path:
    return fleet_home() / "sessions"


def session_dir(session_id: str) -> Path:
    return sessions_dir() / session_id


def events_path(session_id: str) -> Path:
    return session_dir(session_id) / EVENTS_FILE


def inbox_dir(session_id: str) -> Path:
    return session_dir(session_id) / INBOX_DIR


def worktrees_dir(fleet_key: str) -> Path:
    """Where the agents of the fleet ``fleet_key`` (its tmux socket name) have their worktrees."""
    return fleet_home() / "worktrees" / fleet_key


def demo_repo_dir(fleet_key: str) -> Path:
    """Where the fleet ``fleet_key`` keeps its throwaway demo project (``repo: "@demo"``)."""
    return fleet_home() / "demo" / fleet_key


def new_session_id(now: float | None = None) -> str:
    """A sortable, unique id: ``YYYYmmdd-HHMMSS-xxxx`` (UTC)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(2)}"


def create_session_dir(session_id: str) -> Path:
    ensure_private_dir(fleet_home())
    ensure_private_dir(sessions_dir())
    path = ensure_private_dir(session_dir(session_id))
    ensure_private_dir(path / INBOX_DIR)
    return path
