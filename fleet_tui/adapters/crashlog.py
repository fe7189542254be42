"""The crash log, ``$FLEET_HOME/crash.log``: where an unexpected error's traceback is kept.

Private (0600, in a 0700 folder, tightened if an older version left it wider) and small: one
report is cut to its first and last lines past ``MAX_REPORT`` characters (a RecursionError's
traceback is ~200 KB), and the log moves to ``crash.log.1`` (replacing the one before) once it
would pass ``MAX_LOG`` bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

from fleet_tui.adapters.paths import ensure_private_dir, fleet_home

CRASH_LOG = "crash.log"
MAX_REPORT = 24 * 1024
MAX_LOG = 256 * 1024


def _cut(report: str) -> str:
    if len(report) <= MAX_REPORT:
        return report
    head, tail = report[: MAX_REPORT // 3], report[-(MAX_REPORT * 2 // 3):]
    return f"{head}\n... ({len(report) - len(head) - len(tail)} characters cut) ...\n{tail}"


def _open_private(path: Path) -> int:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def write_crash_report(report: str) -> Path:
    """Append ``report`` to the crash log; returns the log's path. Raises OSError."""
    log = ensure_private_dir(fleet_home()) / CRASH_LOG
    data = _cut(report).encode("utf-8", "replace")
    fd = _open_private(log)
    if os.fstat(fd).st_size + len(data) > MAX_LOG:
        os.close(fd)
        os.replace(log, log.with_name(f"{CRASH_LOG}.1"))
        fd = _open_private(log)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    return log
