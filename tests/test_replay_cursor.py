"""Replay moves: seek parsing, the cursor arithmetic over plain lists, and a cursor over a
recorded log whose state always equals the fold, whatever order it is moved in."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from fleet_tui.replay.cursor import (
    SPEEDS,
    ReplayCursor,
    bucket_counts,
    change_speed,
    last_before,
    next_after,
    play_clock,
)
from fleet_tui.replay.index import IDLE_GAP, ReplayIndex, open_index
from fleet_tui.replay.seek import Offset, Relative, SeekError, Seq, parse_seek
from tests.test_replay_index import record_session


@pytest.mark.parametrize(("text", "target"), [
    ("#1234", Seq(1234)),
    ("1234", Seq(1234)),
    (" #7 ", Seq(7)),
    ("12:30", Offset(750)),
    ("0:05", Offset(5)),
    ("1:02:03", Offset(3723)),
    ("12:30.5", Offset(750.5)),
    ("90s", Offset(90)),
    ("1m30s", Offset(90)),
    ("2h", Offset(7200)),
    ("+90s", Relative(90)),
    ("-10s", Relative(-10)),
    ("+1:30", Relative(90)),
    ("-2m", Relative(-120)),
    ("+90", Relative(90)),
    ("-1h1s", Relative(-3601)),
])
def test_parse_seek(text: str, target: object) -> None:
    assert parse_seek(text) == target


@pytest.mark.parametrize("text", ["", "+", "-", "#", "abc", "12:60", "1:60:00", "10x", "#-3", "1.5",
                                  "--10s", "s", "+-5s", "1:2:3:4"])
def test_parse_seek_rejects(text: str) -> None:
    with pytest.raises(SeekError, match="expected #SEQ"):
        parse_seek(text)


def test_speeds_and_their_steps() -> None:
    assert SPEEDS[0] == 0.25 and SPEEDS[-1] == 64
    assert change_speed(1.0, 1) == 2.0
    assert change_speed(1.0, -2) == 0.25
    assert change_speed(64, 1) == 64
    assert change_speed(3.0, 1) in (4.0, 8.0)


def test_next_after_and_last_before() -> None:
    idx = [2, 5, 9]
    assert next_after(idx, -1) == 2 and next_after(idx, 2) == 5 and next_after(idx, 9) is None
    assert last_before(idx, 9) == 5 and last_before(idx, 10) == 9 and last_before(idx, 2) is None
    assert next_after([], 0) is None and last_before([], 5) is None


def test_play_clock_skips_idle_gaps() -> None:
    ts = [0.0, 1.0, 2.0, 100.0, 101.0, 300.0]
    gaps = [3, 5]  # the events that end a gap longer than IDLE_GAP
    assert play_clock(ts, gaps, 0.0, 50.0, skip_idle=False) == 50.0
    assert play_clock(ts, gaps, 0.0, 1.5, skip_idle=True) == 1.5
    # 2 s to the gap, IDLE_GAP of it, then the jump to 100: 3 s left over from 10
    assert play_clock(ts, gaps, 0.0, 10.0, skip_idle=True) == pytest.approx(100.0 + 10 - 2 - IDLE_GAP)
    # two gaps in one step
    assert play_clock(ts, gaps, 0.0, 20.0, skip_idle=True) == pytest.approx(300.0 + 20 - 2 - 1 - 2 * IDLE_GAP)
    # a clock already deep in a gap (after a seek) jumps at once
    assert play_clock(ts, gaps, 50.0, 1.0, skip_idle=True) == pytest.approx(101.0)
    assert play_clock(ts, gaps, 300.0, 4.0, skip_idle=True) == 304.0


def test_bucket_counts() -> None:
    ts = [0.0, 0.0, 1.0, 4.9, 5.0, 9.0, 10.0]
    assert bucket_counts(ts, 2) == [4, 3]
    assert bucket_counts(ts, 5) == [3, 0, 2, 0, 2]
    assert sum(bucket_counts(ts, 7)) == len(ts)
    assert bucket_counts(ts, 2, indices=[3, 6]) == [1, 1]
    assert bucket_counts([3.0, 3.0], 4) == [2, 0, 0, 0]
    assert bucket_counts([], 3) == [0, 0, 0] and bucket_counts(ts, 0) == []


def _index() -> tuple[ReplayIndex, list[ev.Event]]:
    t = 1000.0
    events: list[ev.Event] = [ev.LogHeader(fleet="f", ts=t)]
    events += [ev.AgentSpawned(agent=a, ts=t) for a in ("a", "b")]
    for i in range(20):
        t += 1.0 if i != 10 else 60.0  # one idle minute after the 10th
        name = "a" if i % 3 else "b"
        events.append(ev.AgentOutput(agent=name, changes=[(0, f"{name} {i}")], keyframe=True, height=1, ts=t))
        if i in (4, 15):
            events.append(ev.Error(message="x", agent=name, ts=t))
        if i == 8:
            events.append(ev.AgentStatus(agent="b", status="stalled", ts=t))
    for seq, e in enumerate(events, 1):
        e.seq = seq * 10
    return ReplayIndex.from_events(events, every=4), events


def test_cursor_moves_by_events_and_by_time() -> None:
    index, events = _index()
    cursor = ReplayCursor(index)
    assert cursor.position == 0 and cursor.current is None and cursor.clock == 1000.0
    assert cursor.step() == 1 and cursor.current == 0
    assert cursor.step(5) == 6 and cursor.clock == events[5].ts
    assert cursor.step(-100) == 0
    assert cursor.end() == len(events) and cursor.at_end
    assert cursor.home() == 0
    cursor.seek_time(1003.0)
    assert [e.ts for e in events[: cursor.position]][-1] == 1003.0
    assert all(e.ts > 1003.0 for e in events[cursor.position:])
    before = cursor.position
    assert cursor.jump_seconds(10) > before and cursor.clock == 1013.0
    assert cursor.jump_seconds(-10) == before
    assert cursor.seek_seq(60) == 6 and cursor.current == 5
    assert cursor.seek_seq(65) == 6 and cursor.current == 5  # no seq 65: just before seq 70
    assert cursor.seek_target(parse_seek("#30")) == 3
    assert cursor.seek_target(parse_seek("0:05")) == cursor.seek_time(1005.0)
    cursor.seek_time(1005.0)
    assert cursor.seek_target(parse_seek("+2s")) == ReplayCursor(index).seek_time(1007.0)
    assert cursor.seek_fraction(1.0) == len(events)
    assert cursor.seek_fraction(0) == 3  # the events of the first instant have happened


def test_cursor_finds_agent_and_trouble_events() -> None:
    index, events = _index()
    cursor = ReplayCursor(index)
    i = cursor.agent_event("b")
    assert i is not None and events[i].agent == "b"
    assert all(getattr(e, "agent", None) != "b" for e in events[:i])
    cursor.seek_event(i)
    assert cursor.agent_event("b", forward=False) is None
    j = cursor.agent_event("b")
    assert j is not None and j > i and events[j].agent == "b"
    cursor.seek_event(j)
    assert cursor.agent_event("b", forward=False) == i
    assert cursor.agent_event("nobody") is None
    cursor.home()
    found = []
    while (k := cursor.trouble_event()) is not None:
        found.append(type(events[k]))
        cursor.seek_event(k)
    assert found == [ev.Error, ev.AgentStatus, ev.Error]
    assert cursor.trouble_event(forward=False) is not None
    assert sum(cursor.ticks(10, only=index.trouble)) == 3
    assert sum(cursor.ticks(10)) == len(events)


def test_advance_plays_at_speed_and_skips_idle_time() -> None:
    index, events = _index()
    cursor = ReplayCursor(index)
    cursor.advance(1.0, 2.0)
    assert cursor.clock == 1002.0
    assert cursor.position == sum(1 for e in events if e.ts <= 1002.0)
    cursor.seek_time(1011.0)  # the last event before the idle minute
    cursor.advance(0.5, 16.0)  # 8 s of play: still inside the 60 s gap
    assert cursor.clock == 1019.0
    cursor.seek_time(1011.0)
    cursor.advance(0.5, 16.0, skip_idle=True)  # 5 s of the gap, the jump, 3 s more
    assert cursor.clock == pytest.approx(1071.0 + 3.0)
    cursor.advance(1000, 64.0)
    assert cursor.at_end and cursor.clock == events[-1].ts


def test_cursor_state_equals_the_fold_in_any_order(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    events = record_session(log)
    index = open_index(log, every=9)
    cursor = ReplayCursor(index)
    rng = random.Random(11)
    moves = [lambda: cursor.step(1), lambda: cursor.step(-1), lambda: cursor.step(rng.randint(1, 30)),
             lambda: cursor.seek(rng.randrange(len(events) + 1)), lambda: cursor.jump_seconds(-10),
             lambda: cursor.jump_seconds(10), lambda: cursor.advance(0.1, 8.0, skip_idle=True),
             lambda: cursor.end(), lambda: cursor.home()]
    for _ in range(150):
        rng.choice(moves)()
        assert cursor.state == fold_all(events[: cursor.position]), cursor.position
    k = rng.randrange(len(events))
    assert cursor.state_at(k) == fold_all(events[:k]) and cursor.position == k
    index.close()
