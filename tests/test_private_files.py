"""Every file and folder fleet-tui creates is private: folders 0700 (missing parents of
FLEET_HOME too), files 0600, whatever the umask; the crash log stays private and small."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet_tui import cli
from fleet_tui.adapters import crashlog, paths
from fleet_tui.adapters.eventlog import lock_path, open_log


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """The common 022 umask: left alone, mkdir(parents=True) makes 0755 parents."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_missing_parents_of_fleet_home_are_created_0700(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "a" / "b" / "home"
    monkeypatch.setenv("FLEET_HOME", str(home))
    session = paths.create_session_dir("s1")
    created = [tmp_path / "a", tmp_path / "a" / "b", home, home / "sessions", session,
               session / paths.INBOX_DIR]
    assert {str(p.relative_to(tmp_path)): mode(p) for p in created} == {
        str(p.relative_to(tmp_path)): 0o700 for p in created}


def test_an_existing_parent_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    paths.make_private_dirs(shared / "x" / "y")
    assert (mode(shared), mode(shared / "x"), mode(shared / "x" / "y")) == (0o755, 0o700, 0o700)


def test_event_log_folders_and_files_are_private(tmp_path: Path) -> None:
    log_path = tmp_path / "p" / "q" / "events.jsonl"
    writer = open_log(log_path)
    writer.close()
    assert mode(tmp_path / "p") == mode(tmp_path / "p" / "q") == 0o700
    assert mode(log_path) == mode(lock_path(log_path)) == 0o600


def _deep(n: int) -> int:
    """Two functions calling each other: a traceback of ~200 KB, as PyYAML's composer gave."""
    return _deeper(n + 1)


def _deeper(n: int) -> int:
    return _deep(n + 1)


def test_crash_log_is_private_and_small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "x" / "home"
    monkeypatch.setenv("FLEET_HOME", str(home))
    try:
        _deep(0)
    except RecursionError as exc:
        where = cli._report_crash(exc)
    log = home / crashlog.CRASH_LOG
    assert where == f" (traceback in {log})"
    assert (mode(tmp_path / "x"), mode(home), mode(log)) == (0o700, 0o700, 0o600)
    text = log.read_text()
    assert len(text) < crashlog.MAX_REPORT + 200
    assert "RecursionError" in text and "characters cut" in text


def test_an_old_wide_crash_log_is_tightened_and_rotated(fleet_home: Path) -> None:
    fleet_home.mkdir(mode=0o755)
    log = fleet_home / crashlog.CRASH_LOG
    log.write_text("x" * crashlog.MAX_LOG)
    log.chmod(0o644)
    crashlog.write_crash_report("--- new report\n")
    assert mode(fleet_home) == 0o700
    assert (mode(log), log.read_text()) == (0o600, "--- new report\n")
    old = log.with_name("crash.log.1")
    assert mode(old) == 0o600 and old.stat().st_size == crashlog.MAX_LOG


def test_a_crash_in_a_command_is_one_line_and_logged_privately(
        fleet_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def explode(args: object) -> int:
        return _deep(0)

    monkeypatch.setattr(cli, "cmd_sessions", explode)
    assert cli.main(["sessions"]) == 70
    err = capsys.readouterr().err
    assert err.startswith("fleet-tui: internal error: RecursionError") and err.count("\n") == 1
    assert mode(fleet_home / crashlog.CRASH_LOG) == 0o600


def test_init_writes_a_private_file_and_reports_a_missing_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "fleet.yaml"
    assert cli.main(["init", str(target)]) == 0
    assert mode(target) == 0o600
    assert cli.main(["init", str(target)]) == 1
    assert cli.main(["init", str(tmp_path / "nope" / "fleet.yaml")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"fleet-tui: {target} already exists; not overwriting it",
                   f"fleet-tui: cannot write {tmp_path / 'nope' / 'fleet.yaml'}: No such file or directory"]


def test_replace_private_writes_0600_even_over_a_wide_leftover(tmp_path: Path) -> None:
    target = tmp_path / "seen"
    leftover = tmp_path / f"seen.{os.getpid()}.tmp"
    leftover.write_text("old")
    leftover.chmod(0o666)
    paths.replace_private(target, b"42\n")
    assert (target.read_bytes(), mode(target), leftover.exists()) == (b"42\n", 0o600, False)
