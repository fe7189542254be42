"""The event log on real files: permissions, one writer, group commit, torn and corrupt lines,
and crash safety under SIGKILL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from fleet_tui.adapters import paths
from fleet_tui.adapters.eventlog import LogLockedError, broken_path, open_log
from fleet_tui.adapters.eventlog_read import CorruptLogError, read_log
from fleet_tui.core import events as ev
from tests.helpers import retry_until


def _log(tmp_path: Path) -> Path:
    return tmp_path / "s1" / "events.jsonl"


def test_session_dirs_are_private_and_log_is_0600(fleet_home: Path) -> None:
    sid = paths.new_session_id(0)
    assert sid.startswith("19700101-000000-")
    path = paths.create_session_dir(sid)
    assert path == fleet_home / "sessions" / sid
    for d in (fleet_home, fleet_home / "sessions", path, path / "inbox"):
        assert d.stat().st_mode & 0o777 == 0o700
    with open_log(paths.events_path(sid), ev.LogHeader(fleet="f")) as w:
        w.append(ev.Error(message="x"))
    assert paths.events_path(sid).stat().st_mode & 0o777 == 0o600


def test_header_first_and_seq_monotonic_across_reopen(tmp_path: Path) -> None:
    path = _log(tmp_path)
    with open_log(path, ev.LogHeader(fleet="f", session="s1")) as w:
        w.append(ev.AgentOutput(agent="a", changes=[(0, "x")]))
        w.append(ev.TaskCreated(task="T1", title="t"))
    with open_log(path, ev.LogHeader(fleet="ignored")) as w:
        assert w.last_seq == 3
        w.append(ev.TaskNote(task="T1", text="n"))
    events, warnings = read_log(path)
    assert warnings == []
    assert isinstance(events[0], ev.LogHeader) and events[0].fleet == "f"
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert all(e.ts > 0 for e in events)


def test_second_writer_gets_a_clear_error(tmp_path: Path) -> None:
    path = _log(tmp_path)
    with open_log(path, ev.LogHeader(fleet="f")), pytest.raises(
        LogLockedError, match=r"another fleet-tui \(pid \d+\) is writing"
    ):
        open_log(path)
    with open_log(path) as w:  # free again once the first writer closed
        w.append(ev.Error(message="ok"))


def test_durable_events_are_on_disk_when_append_returns(tmp_path: Path) -> None:
    path = _log(tmp_path)
    with open_log(path, ev.LogHeader(fleet="f")) as w:
        w.append(ev.AgentOutput(agent="a", changes=[(0, "chatty")]))
        w.append(ev.TaskCreated(task="T1", title="durable"))
        data = path.read_bytes()  # read while the writer is open: no flush was asked for
        assert b"durable" in data and b"chatty" in data


def test_chatty_events_reach_disk_within_200ms_without_a_flush(tmp_path: Path) -> None:
    path = _log(tmp_path)
    with open_log(path, ev.LogHeader(fleet="f")) as w:
        start = time.monotonic()
        w.append(ev.AgentOutput(agent="a", changes=[(0, "chatty")]))
        retry_until(lambda: b"chatty" in path.read_bytes(), timeout=1.0, interval=0.005)
        assert time.monotonic() - start < 1.0


def test_torn_last_line_is_cut_off_and_kept(tmp_path: Path) -> None:
    path = _log(tmp_path)
    with open_log(path, ev.LogHeader(fleet="f")) as w:
        w.append(ev.Error(message="whole"))
    with open(path, "ab") as f:
        f.write(b'{"type":"task.created","task":"T9","ti')
    events, warnings = read_log(path)
    assert [type(e) for e in events] == [ev.LogHeader, ev.Error]
    assert len(warnings) == 1 and "events.jsonl:3: torn last line" in warnings[0]
    assert b'"T9"' in broken_path(path).read_bytes()
    assert path.read_bytes().endswith(b"\n")
    assert read_log(path)[1] == []  # repaired: reads clean now


def test_corrupt_line_in_the_middle_names_file_and_line(tmp_path: Path) -> None:
    path = _log(tmp_path)
    with open_log(path, ev.LogHeader(fleet="f")) as w:
        w.append(ev.Error(message="one"))
    with open(path, "ab") as f:
        f.write(b"this is not json\n")
        f.write(b'{"type":"agent.exited","agent":12}\n')
    with open_log(path) as w:
        w.append(ev.Error(message="after"))
    with pytest.raises(CorruptLogError, match=r"events\.jsonl:3: corrupt event record"):
        read_log(path)
    events, warnings = read_log(path, skip_corrupt=True)
    assert [e.message for e in events if isinstance(e, ev.Error)] == ["one", "after"]
    assert [w.split(": skipped")[0].rsplit(":", 1)[1] for w in warnings] == ["3", "4"]


def test_unknown_types_are_kept(tmp_path: Path) -> None:
    path = _log(tmp_path)
    with open_log(path, ev.LogHeader(fleet="f")) as w:
        w.append(ev.Error(message="one"))
    with open(path, "ab") as f:
        f.write(b'{"type":"from.the.future","seq":3,"ts":5.0,"x":[1]}\n')
    events, warnings = read_log(path)
    assert warnings == []
    assert isinstance(events[-1], ev.UnknownEvent)
    assert events[-1].type_name == "from.the.future" and events[-1].seq == 3


def test_reading_in_small_blocks_gives_the_same_events(tmp_path: Path) -> None:
    from fleet_tui.adapters.eventlog_read import LogReader

    path = _log(tmp_path)
    with open_log(path, ev.LogHeader(fleet="f")) as w:
        for i in range(500):
            w.append(ev.AgentOutput(agent="a", changes=[(i % 5, "é" * (i % 7))]))
    whole = read_log(path)[0]
    small = list(LogReader(path, block_size=97))
    assert small == whole and len(whole) == 501


WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from fleet_tui.adapters.eventlog import open_log
    from fleet_tui.core import events as ev
    w = open_log(Path(sys.argv[1]), ev.LogHeader(fleet="crash"))
    i = 0
    while True:
        i += 1
        if i % 4:
            w.append(ev.AgentOutput(agent="a", changes=[(0, "x" * (i % 300))]))
        else:
            e = w.append(ev.TaskNote(task="T1", text="n" * (i % 500)))
            sys.stdout.write(f"{e.seq}\\n")
            sys.stdout.flush()
""")


def test_sigkill_at_random_points_keeps_every_acknowledged_event(tmp_path: Path) -> None:
    rng = random.Random(1234)
    path = _log(tmp_path)
    acked: set[int] = set()
    for _ in range(50):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        for _ in range(rng.randint(1, 40)):
            line = proc.stdout.readline()
            if not line:
                break
            acked.add(int(line))
        time.sleep(rng.random() * 0.01)  # land the kill anywhere in the write loop
        os.kill(proc.pid, signal.SIGKILL)
        acked.update(int(x) for x in proc.stdout.read().split())
        proc.wait()
        events, _warnings = read_log(path)  # must always read (torn tail repaired)
        seqs = [e.seq for e in events]
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
        missing = acked - set(seqs)
        assert not missing, f"acknowledged events lost: {sorted(missing)[:5]}"
    assert len(acked) > 50
