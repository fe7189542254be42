"""The event log under attack and under a full disk: events that would not read back are
refused, every event type round-trips with extreme values, and a disk that fills up and frees
again (a real 1 MB tmpfs) loses no acknowledged event and never leaves a torn record."""

from __future__ import annotations

import io
import os
import subprocess
import types
import typing
import uuid
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from fleet_tui.adapters import paths
from fleet_tui.adapters.eventlog import EventRefused, open_log
from fleet_tui.adapters.eventlog_read import read_log
from fleet_tui.core import events as ev
from fleet_tui.replay.export import export
from tests.fleets import DEV, Daemons, fleet
from tests.helpers import retry_until

#: One developer and a task it never gets (no routing), as in test_service.py.
SOLO = {"stages": [{"name": "backlog"}, {"name": "in_progress", "roles": ["developer"]}],
        "approvals": []}
IDLE_TASK = {"id": "T1", "title": "Login form", "column": "backlog"}

#: Strings no terminal or JSON codec should be trusted with.
NASTY = ["", "\x00", "\x1b]52;c;aGk=\x07", "\u2028\u2029", "\U0001f600 ok", '"\\', "é" * 3000,
         "\U0010ffff", "\x7f\x9b"]


def _extreme(tp: object, i: int) -> object:
    """An extreme value of a field type (``i`` picks among several)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return None if i % 3 == 2 else _extreme(options[0], i)
    if origin is list:
        return [_extreme(args[0], i + k) for k in range(3)]
    if origin is tuple:
        return tuple(_extreme(a, i + k) for k, a in enumerate(args))
    if tp is str:
        return NASTY[i % len(NASTY)]
    if tp is bool:
        return bool(i % 2)
    if tp is int:
        return [2**63 - 1, -(2**63), 0, 10**30][i % 4]
    if tp is float:
        return [1.7976931348623157e308, 5e-324, -0.0, 123456.789][i % 4]
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return _extremes(tp, i)
    raise AssertionError(f"no extreme value for {tp!r}")


def _extremes(cls: type[msgspec.Struct], i: int) -> msgspec.Struct:
    """An event (or a struct inside one) with extreme values in every field."""
    hints = typing.get_type_hints(cls)
    kwargs = {f.name: _extreme(hints[f.name], i + k) for k, f in enumerate(msgspec.structs.fields(cls))
              if f.name not in ("seq", "ts")}
    if issubclass(cls, ev.Event):
        kwargs["ts"] = [1.0, 4e9, 1e-300][i % 3]
    return cls(**kwargs)


def test_every_event_type_round_trips_with_extreme_values(tmp_path: Path) -> None:
    written = [_extremes(cls, i) for i in range(4) for cls in ev.EVENT_TYPES]
    with open_log(tmp_path / "events.jsonl") as w:
        for event in written:
            w.append(event)
    events, warnings = read_log(tmp_path / "events.jsonl")
    assert warnings == [] and len(events) == len(written)
    for got, want in zip(events, written, strict=True):
        assert got == want, type(want).__name__


@pytest.mark.parametrize(("event", "reason"), [
    (ev.CostReported(agent="a", usd=float("nan")), r"usd.*NaN or infinite"),
    (ev.CostReported(agent="a", usd=float("-inf")), r"usd.*NaN or infinite"),
    (ev.TaskNote(task="T1", text="half a pair \ud800"), "surrogates not allowed"),
    (ev.AgentOutput(agent="a", changes=[(0, "\udcff")]), "surrogates not allowed"),
    (ev.AgentOutput(agent="a", ts=float("nan")), r"ts is nan"),
    (ev.TaskNote(task=12, text="x"), r"Expected `str`, got `int` - at `\$.task`"),  # type: ignore[arg-type]
])
def test_events_that_would_not_read_back_are_refused(tmp_path: Path, event: ev.Event,
                                                     reason: str) -> None:
    path = tmp_path / "events.jsonl"
    with open_log(path, ev.LogHeader(fleet="f")) as w:
        w.append(ev.AgentOutput(agent="a", changes=[(0, "before")]))
        with pytest.raises(EventRefused, match=reason) as info:
            w.append(event)
        assert str(info.value).count("\n") == 0 and "refused a" in str(info.value)
        assert event.seq == 0
        after = w.append(ev.TaskNote(task="T1", text="after"))
    events, warnings = read_log(path)
    assert warnings == [] and [e.seq for e in events] == [1, 2, 3] and events[-1] == after


def test_a_refused_event_in_a_batch_keeps_the_ones_before_it(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with open_log(path) as w, pytest.raises(EventRefused):
        w.append_many([ev.TaskNote(task="T1", text="kept"), ev.CostReported(usd=float("nan")),
                       ev.TaskNote(task="T1", text="not reached")])
    events, _ = read_log(path)
    assert [e.text for e in events] == ["kept"]  # type: ignore[attr-defined]


# --- a full disk --------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs of its own (needs root and mount permission; skipped otherwise)."""
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill (needs root): {out.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(path: Path) -> None:
    """Take every free byte of the file system ``path`` is on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 512, 64, 1):  # down to the last byte
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                continue
    finally:
        os.close(fd)


def test_a_full_disk_keeps_events_in_memory_and_writes_them_when_space_returns(
        small_disk: Path) -> None:
    path = small_disk / "s1" / "events.jsonl"
    told: list[str | None] = []
    writer = open_log(path, ev.LogHeader(fleet="f"), max_pending=200_000, on_problem=told.append)
    acked: list[ev.Event] = []
    try:
        filler = small_disk / "filler"
        for i in range(200):  # fill part of the disk with real records
            acked.append(writer.append(ev.AgentOutput(agent="a", changes=[(i % 24, "x" * 400)])))
        assert writer.flush()
        _fill(filler)
        for i in range(3000):  # now the disk is full: output and durable events keep coming
            event = ev.AgentOutput(agent="a", changes=[(i % 24, f"line {i} " + "y" * 300)]) \
                if i % 10 else ev.TaskNote(task="T1", text=f"note {i}")
            writer.append(event)
            if event.seq:
                acked.append(event)
        assert writer.problem is not None and writer.problem.startswith("disk full: cannot write")
        retry_until(lambda: told == [writer.problem], message="the problem announced")
        assert writer.dropped > 0  # output past max_pending was dropped...
        notes = [e for e in acked if isinstance(e, ev.TaskNote)]
        assert len(notes) == 300  # ...durable events never
        events, warnings = read_log(path, repair=False)  # what is on disk reads cleanly meanwhile
        assert warnings == [] and path.read_bytes().endswith(b"\n")
        assert len(events) < len(acked)

        filler.unlink()  # space returns: the flusher writes everything by itself
        retry_until(lambda: writer.problem is None and writer.pending == 0, timeout=10,
                    message="the log written again")
        retry_until(lambda: told == [told[0], None], message="the problem cleared")
        assert acked[-1].seq == writer.last_seq
    finally:
        writer.close()
    events, warnings = read_log(path)
    assert warnings == []
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[1:] == acked  # every acknowledged event, in order, nothing torn between


def test_the_logs_trouble_is_on_the_fleet_and_in_the_header_until_it_clears() -> None:
    from fleet_tui.core.fold import fold
    from fleet_tui.core.state import FleetState
    from fleet_tui.ui.header import header_text

    state = FleetState()
    fold(state, ev.Alert(kind=ev.ALERT_LOG, key="problem", message="disk full: cannot write /x"))
    assert state.log_problem.startswith("disk full") and "disk full: log not written" in \
        header_text(state).plain
    fold(state, ev.Alert(kind=ev.ALERT_LOG, key="cleared", message="the event log is written again"))
    assert state.log_problem == "" and "log not written" not in header_text(state).plain


def test_a_running_fleet_says_disk_full_at_once_and_logs_again_when_space_returns(
        small_disk: Path, tmp_path: Path, tmux_socket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_HOME", str(small_disk / "home"))
    made = Daemons(tmp_path, tmux_socket)
    orch = made(fleet(DEV, tasks=[IDLE_TASK], **SOLO)).service
    try:
        orch.start()
        retry_until(lambda: orch.state.agents["dev"].screen, timeout=20, message="dev on screen")
        filler = small_disk / "filler"
        _fill(filler)
        notes: list[str] = []

        def note_until_full() -> bool:  # the log file's last page may still have room
            notes.append(f"note {len(notes)} " + "n" * 200)
            orch.submit(ev.TaskNote(task="T1", text=notes[-1]))
            return orch.state.log_problem.startswith("disk full")

        retry_until(note_until_full, message="disk full shown")
        assert orch.state.agents["dev"].alive and orch.driver.exists("dev")  # agents untouched
        filler.unlink()
        retry_until(lambda: orch.state.log_problem == "", timeout=10, message="the problem cleared")
        notes.append("after")
        orch.submit(ev.TaskNote(task="T1", text="after"))
    finally:
        made.stop_all()
    events, warnings = read_log(paths.events_path(orch.session_id))  # no --skip-corrupt needed
    assert warnings == []
    assert [e.text for e in events if isinstance(e, ev.TaskNote)] == notes
    assert [e.key for e in events if isinstance(e, ev.Alert) and e.kind == ev.ALERT_LOG] == [
        "problem", "cleared"]
    for fmt in ("csv", "markdown"):  # export reads it too, without --skip-corrupt
        assert export(str(paths.events_path(orch.session_id)), fmt, io.StringIO()) == []
