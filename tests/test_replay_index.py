"""The replay index on real log files: ``state_at(k)`` equals the fold of the first ``k`` events,
and its cache is reused, extended or rebuilt as the log says, never trusted blindly."""

from __future__ import annotations

import random
import shutil
import zlib
from array import array
from pathlib import Path

import msgspec
import pytest

from fleet_tui.adapters.eventlog import EventLogError, open_log
from fleet_tui.adapters.eventlog_read import CorruptLogError, read_log
from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from fleet_tui.core.state import TIMELINE_LIMIT
from fleet_tui.replay.index import MAGIC, ReplayIndex, index_path, open_index

T0 = 1_700_000_000.0
DATA = Path(__file__).parent / "data" / "logs"


def session_events(rounds: int = 120, seed: int = 7) -> list[ev.Event]:
    """A realistic session: two agents with keyframed and diffed output, statuses (a stall),
    tasks that are assigned, moved, noted and reported, approvals, costs, errors, alerts, idle
    gaps, a restart with a new pane, an exit and a lost agent. Times are set; seqs are not."""
    rng = random.Random(seed)
    t = T0
    out: list[ev.Event] = [ev.LogHeader(fleet="demo", session="s1", host="h", ts=t)]
    agents = {"dev-1": "%1", "rev-1": "%2"}
    screens = {a: [f"{a} $" for _ in range(6)] for a in agents}
    for name, pane in agents.items():
        role = "dev" if name.startswith("dev") else "review"
        out.append(ev.AgentSpawned(agent=name, command=["demo", name], role=role, model=f"m-{role}", ts=t))
        out.append(ev.AgentStarted(agent=name, pid=100, pane=pane, width=40, height=6, ts=t))
        out.append(ev.AgentOutput(agent=name, changes=list(enumerate(screens[name])), keyframe=True,
                                  width=40, height=6, pane=pane, ts=t))
    for i in range(1, 5):
        out.append(ev.TaskCreated(task=f"T{i}", title=f"task {i}", source=ev.SOURCE_USER, ts=t))
    for r in range(rounds):
        t += rng.choice((0.0, 0.2, 0.5, 1.5)) + (8.0 if r % 37 == 36 else 0.0)
        name = rng.choice(list(agents))
        task = f"T{rng.randint(1, 4)}"
        roll = rng.random()
        if roll < 0.45:
            row = rng.randrange(6)
            screens[name][row] = f"\x1b[3{r % 7}m{name} line {r}\x1b[0m"
            keyframe = r % 11 == 0
            changes = list(enumerate(screens[name])) if keyframe else [(row, screens[name][row])]
            out.append(ev.AgentOutput(agent=name, changes=changes, keyframe=keyframe, width=40,
                                      height=6 if keyframe else 0, pane=agents[name], ts=t))
        elif roll < 0.55:
            status = rng.choice(("working", "idle", "waiting", "stalled"))
            out.append(ev.AgentStatus(agent=name, status=status, explicit=rng.random() < 0.3, ts=t))
        elif roll < 0.62:
            out.append(ev.TaskAssigned(task=task, agent=name, reason="routing", ts=t))
        elif roll < 0.68:
            out.append(ev.TaskMoved(task=task, column=rng.choice(("in_progress", "review", "done")),
                                    from_column="ready", agent=name, ts=t))
        elif roll < 0.73:
            out.append(ev.TaskNote(task=task, text=f"note {r}", agent=name, source=ev.agent_source(name),
                                   ts=t))
        elif roll < 0.77:
            out.append(ev.TaskReported(task=task, outcome=rng.choice(("done", "blocked")), note=f"report {r}",
                                       agent=name, source=ev.agent_source(name), ts=t))
        elif roll < 0.81:
            approval = f"A{r}"
            out.append(ev.ApprovalRequested(task=task, approval=approval, transition="review->done",
                                            to_column="done", reason="gate", ts=t))
            decided = ev.ApprovalGranted if rng.random() < 0.6 else ev.ApprovalDenied
            out.append(decided(task=task, approval=approval, comment="ok", source=ev.SOURCE_USER, ts=t + 0.1))
        elif roll < 0.88:
            out.append(ev.CostReported(agent=name, task=task, model="m", input_tokens=rng.randint(1, 900),
                                       output_tokens=rng.randint(1, 300), usd=rng.random() / 10, ts=t))
        elif roll < 0.91:
            out.append(ev.Error(message=f"oops {r}", agent=name, ts=t))
        elif roll < 0.94:
            out.append(ev.Alert(kind="budget", message=f"budget {r}", agent=name, key="usd", ts=t))
        else:
            out.append(ev.AgentPrompted(agent=name, text=f"do {task}", task=task, ts=t))
        if r == rounds // 2:  # dev-1 exits and is started again in a new pane
            out.append(ev.AgentExited(agent="dev-1", code=1, pane=agents["dev-1"], ts=t))
            agents["dev-1"] = "%3"
            out.append(ev.AgentSpawned(agent="dev-1", command=["demo"], role="dev", model="m-dev", ts=t))
            out.append(ev.AgentStarted(agent="dev-1", pane="%3", width=40, height=6, ts=t))
    out.append(ev.AgentLost(agent="rev-1", reason="tmux session gone", ts=t + 1))
    out.append(ev.AgentExited(agent="dev-1", code=0, pane=agents["dev-1"], ts=t + 2))
    return out


def record_session(path: Path, rounds: int = 120, seed: int = 7) -> list[ev.Event | ev.UnknownEvent]:
    """Write ``session_events`` with the log writer; return the events as read back."""
    with open_log(path) as writer:
        writer.append_many(session_events(rounds, seed))
    return read_log(path)[0]


def assert_fidelity(index: ReplayIndex, events: list, ks: list[int]) -> None:
    for k in ks:
        expected = fold_all(events[:k])
        got = index.state_at(k)
        assert got == expected, f"state_at({k}) differs from the fold"
        assert got.timeline.maxlen == TIMELINE_LIMIT


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "s1" / "events.jsonl"


def test_state_at_every_k_equals_the_fold(log: Path) -> None:
    events = record_session(log)
    index = open_index(log, every=7)
    assert len(index) == len(events) > 130
    assert index.origin == "built" and index.warnings == []
    assert_fidelity(index, events, list(range(len(events) + 1)))
    assert index.state_at(len(events)).agents["dev-1"].screen  # screens really were rebuilt
    index.close()


def test_timeline_longer_than_its_limit_is_rebuilt_exactly(log: Path) -> None:
    events = record_session(log, rounds=5000, seed=3)
    index = open_index(log, every=500)
    rng = random.Random(5)
    ks = [len(events), *rng.sample(range(len(events)), 12)]
    assert_fidelity(index, events, ks)
    assert len(index.state_at(len(events)).timeline) == TIMELINE_LIMIT
    index.close()


def test_index_lists_times_agents_trouble_and_gaps(log: Path) -> None:
    events = record_session(log)
    index = open_index(log, every=7)
    assert list(index.ts) == sorted(index.ts) and index.ts[0] == T0
    assert list(index.seqs) == [e.seq for e in events]
    for name in ("dev-1", "rev-1"):
        mine = [i for i, e in enumerate(events) if getattr(e, "agent", None) == name]
        assert list(index.by_agent[name]) == mine
    trouble = [type(events[i]) for i in index.trouble]
    assert {ev.Error, ev.Alert, ev.AgentExited, ev.AgentLost, ev.AgentStatus} <= set(trouble)
    assert all(events[i].status == "stalled" for i in index.trouble if isinstance(events[i], ev.AgentStatus))
    assert index.gaps and all(index.ts[j] - index.ts[j - 1] > 5 for j in index.gaps)
    assert index.event(5) == events[5]
    index.close()


def test_cache_is_reused_then_extended_when_the_log_grows(log: Path) -> None:
    events = record_session(log)
    open_index(log, every=7).close()
    cached = open_index(log, every=7)
    assert cached.origin == "cached"
    assert_fidelity(cached, events, [0, 1, 50, len(events)])
    cached.close()
    with open_log(log) as writer:
        writer.append_many(session_events(rounds=40, seed=9))
    grown = read_log(log)[0]
    extended = open_index(log, every=7)
    assert extended.origin == "extended" and len(extended) == len(grown)
    assert_fidelity(extended, grown, list(range(len(events) - 10, len(grown) + 1)))
    extended.close()
    assert open_index(log, every=7).origin == "cached"


def test_refresh_follows_a_live_log(log: Path) -> None:
    with open_log(log) as writer:
        writer.append_many(session_events(rounds=30))
        writer.flush()
        index = open_index(log, every=5)
        before = len(index)
        assert index.refresh() == 0
        writer.append_many(session_events(rounds=20, seed=2))
        writer.flush()
        added = index.refresh()
    events = read_log(log)[0]
    assert added == len(events) - before > 0
    assert_fidelity(index, events, [before - 1, before, before + 1, len(events)])
    index.close()


def test_a_rewritten_log_is_reindexed(log: Path) -> None:
    record_session(log)
    open_index(log, every=7).close()
    data = log.read_bytes()
    log.write_bytes(data.replace(b'"oops', b'"OOPS'))  # same size, other content
    rebuilt = open_index(log, every=7)
    assert rebuilt.origin == "built"
    assert any(e.message.startswith("OOPS") for e in rebuilt.read(0, len(rebuilt)) if isinstance(e, ev.Error))
    rebuilt.close()


def test_a_shorter_log_is_reindexed_and_refresh_refuses_it(log: Path) -> None:
    events = record_session(log)
    index = open_index(log, every=7)
    data = log.read_bytes()
    log.write_bytes(data[: data.index(b"\n", len(data) // 2) + 1])
    with pytest.raises(EventLogError, match="changed since it was indexed"):
        index.refresh()
    index.close()
    shorter = open_index(log, every=7)
    assert shorter.origin == "built" and len(shorter) < len(events)
    shorter.close()


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage", "empty", "bad body", "format"])
def test_a_damaged_cache_is_rebuilt_not_trusted(log: Path, damage: str) -> None:
    events = record_session(log)
    open_index(log, every=7).close()
    cache = index_path(log)
    data = bytearray(cache.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) // 3]
    elif damage == "garbage":
        data = bytearray(b"not an index at all")
    elif damage == "empty":
        data = bytearray()
    elif damage == "bad body":
        body = b"\x93junk"
        data = bytearray(MAGIC + zlib.crc32(body).to_bytes(4, "little") + body)
    else:  # a cache written by another version of the fold
        raw = msgspec.msgpack.decode(bytes(data[len(MAGIC) + 4:]))
        raw["format"] = "0/0/little/old"
        body = msgspec.msgpack.encode(raw)
        data = bytearray(MAGIC + zlib.crc32(body).to_bytes(4, "little") + body)
    cache.write_bytes(bytes(data))
    index = open_index(log, every=7)
    assert index.origin == "built"
    assert_fidelity(index, events, [0, 77, len(events)])
    index.close()
    assert open_index(log, every=7).origin == "cached"  # and the rebuilt cache is good


def test_torn_tail_opens_with_a_warning(log: Path) -> None:
    events = record_session(log)
    with open(log, "ab") as f:
        f.write(b'{"type":"task.note","task":"T1","te')
    torn = log.read_bytes()
    index = open_index(log, every=7)
    assert len(index) == len(events)
    assert len(index.warnings) == 1 and "torn last line" in index.warnings[0]
    assert_fidelity(index, events, [len(events)])
    index.close()
    assert log.read_bytes() == torn  # replay only reads
    again = open_index(log, every=7)
    assert again.origin == "cached" and again.warnings == index.warnings
    again.close()
    with open_log(log) as writer:  # the next writer cuts the torn line off and goes on
        writer.append_many(session_events(rounds=10, seed=4))
    grown = read_log(log)[0]
    extended = open_index(log, every=7)
    assert extended.origin == "extended" and len(extended) == len(grown)
    assert extended.warnings == []  # the torn line is gone
    assert_fidelity(extended, grown, [len(events), len(grown)])
    extended.close()


def test_unknown_types_blank_and_skipped_corrupt_lines(log: Path) -> None:
    record_session(log, rounds=40)
    lines = log.read_bytes().splitlines(keepends=True)
    lines.insert(20, b'{"type":"metrics.sample","seq":999,"ts":1700000001.0,"cpu":1}\n')
    lines.insert(30, b"\n")
    lines.insert(40, b"this is not json\n")
    log.write_bytes(b"".join(lines))
    with pytest.raises(CorruptLogError, match=r"events\.jsonl:41"):
        open_index(log, every=4)
    index = open_index(log, every=4, skip_corrupt=True)
    events = read_log(log, skip_corrupt=True)[0]
    assert len(index) == len(events)
    assert any("metrics.sample" in w for w in index.warnings)
    assert any(":41: skipped corrupt" in w for w in index.warnings)
    assert_fidelity(index, events, list(range(len(events) + 1)))
    index.close()
    assert open_index(log, every=4, skip_corrupt=True).origin == "cached"


def test_older_schema_log_opens_with_a_warning(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    shutil.copy(DATA / "schema0.jsonl", log)
    index = open_index(log, every=3)
    events = read_log(log)[0]
    assert any("event schema 0, older" in w for w in index.warnings)
    assert any("metrics.sample" in w for w in index.warnings)
    assert_fidelity(index, events, list(range(len(events) + 1)))
    index.close()


def test_progress_is_reported_up_to_the_whole_log(log: Path) -> None:
    record_session(log, rounds=3000)  # more than one block of the scan
    seen: list[tuple[int, int]] = []
    open_index(log, every=100, progress=lambda done, total: seen.append((done, total))).close()
    size = log.stat().st_size
    assert len(seen) > 1 and seen[-1] == (size, size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_missing_log_and_unwritable_cache(tmp_path: Path, log: Path) -> None:
    with pytest.raises(EventLogError, match="no such event log"):
        open_index(tmp_path / "nope.jsonl")
    events = record_session(log, rounds=20)
    index_path(log).mkdir()  # the cache cannot be written there
    index = open_index(log, every=5)
    assert any("replay index not saved" in w for w in index.warnings)
    assert_fidelity(index, events, [len(events)])
    index.close()


def test_in_memory_index_matches_the_fold() -> None:
    events: list = [*session_events(rounds=60), ev.UnknownEvent(type_name="x.y", seq=0, ts=T0 + 500)]
    for seq, e in enumerate(events, 1):
        e.seq = seq
    index = ReplayIndex.from_events(events, every=6)
    assert index.origin == "memory" and index.offsets == array("Q")
    assert_fidelity(index, events, list(range(len(events) + 1)))
