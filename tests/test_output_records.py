"""Pane output's compact log records: what they hold, that they read back as the events written
(the fold the same at every step, panes of replaced agents still told apart), malformed ones
refused, and logs of schema 1 (every ``agent.output`` an object) read, replay and export as
before.

``data/logs/schema1/`` was written by the log writer of commit 47cc266 (schema 1), and its
``export.*`` files are what that commit's ``fleet-tui export`` printed for it (``LOG`` standing
for the log's path in the report)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from fleet_tui.adapters.eventlog import EventRefused, open_log
from fleet_tui.adapters.eventlog_read import CorruptLogError, read_log
from fleet_tui.adapters.sessions import summarise
from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from fleet_tui.replay.export import export
from fleet_tui.replay.index import open_index

SCHEMA1 = Path(__file__).parent / "data" / "logs" / "schema1"
EXPORTS = (("csv", None, "csv"), ("markdown", None, "md"), ("asciicast", "dev", "dev.cast"),
           ("asciicast", "rev", "rev.cast"))


def _exports_match_schema1(log: Path) -> None:
    for fmt, agent, name in EXPORTS:
        out = io.StringIO()
        assert export(str(log), fmt, out, agent=agent) == []
        expected = (SCHEMA1 / f"export.{name}").read_bytes().decode().replace("LOG", str(log))
        assert out.getvalue() == expected, name


def _replays_like_the_fold(log: Path, events: list) -> None:
    index = open_index(log, every=5)
    try:
        assert index.warnings == []
        for k in range(len(events) + 1):
            assert index.state_at(k) == fold_all(events[:k]), k
    finally:
        index.close()


@pytest.fixture
def schema1(tmp_path: Path) -> Path:
    log = tmp_path / "s1" / "events.jsonl"
    log.parent.mkdir()
    shutil.copy(SCHEMA1 / "events.jsonl", log)
    return log


def test_a_schema_1_log_reads_replays_and_exports_as_before(schema1: Path) -> None:
    events, warnings = read_log(schema1)
    assert warnings == [] and len(events) == 45
    assert events[0].schema == 1  # type: ignore[union-attr]
    state = fold_all(events)
    assert state.agents["dev"].screen == ["resized", "resized", "", "after resize"]
    assert "late line" not in "".join(state.agents["dev"].screen)  # the replaced pane's output
    assert state.agents["rev"].screen == ["> looking", "ok", "approved", "", "", ""]
    _replays_like_the_fold(schema1, events)
    _exports_match_schema1(schema1)


def test_rewritten_compactly_it_folds_at_every_step_and_exports_the_same(
        schema1: Path, tmp_path: Path) -> None:
    old, _ = read_log(schema1)
    log = tmp_path / "s2" / "s1" / "events.jsonl"
    with open_log(log) as writer:
        for event in old:
            writer.append(event)  # the same seq, and ts already to the millisecond
    events, warnings = read_log(log)
    assert warnings == [] and len(events) == len(old)
    assert log.stat().st_size < 0.8 * schema1.stat().st_size
    for k in range(len(old) + 1):
        assert fold_all(events[:k]) == fold_all(old[:k]), k
    _replays_like_the_fold(log, events)
    _exports_match_schema1(log)
    assert summarise(log).events == len(old)


def test_records_name_the_pane_on_keyframes_and_when_it_changes(tmp_path: Path) -> None:
    log = tmp_path / "s1" / "events.jsonl"
    keyframe = ev.AgentOutput(agent="dev", changes=[(0, "\x1b[31mhi\x1b[0m"), (1, "")],
                              keyframe=True, width=40, height=2, pane="%1", ts=1.23456789)
    scrolled = ev.AgentOutput(agent="dev", changes=[(1, "next")], scroll=1, pane="%1", ts=2.0)
    other = ev.AgentOutput(agent="dev", changes=[(1, "old pane")], pane="%0", ts=3.0)
    back = ev.AgentOutput(agent="dev", changes=[(0, "x")], pane="%1", ts=4.0)
    by_user = ev.AgentOutput(agent="dev", changes=[(0, "y")], pane="%1", ts=5.0,
                             source=ev.SOURCE_USER, client="ui-1")
    deleted = ev.AgentOutput(agent="dev", changes=[(0, "\x1bz\x7f")], pane="%1", ts=6.0)
    written = [keyframe, scrolled, other, back, by_user, deleted]
    with open_log(log) as writer:
        writer.append_many(written)
    assert keyframe.ts == 1.235  # what the log holds, so the daemon folds what replay reads
    assert log.read_text().splitlines() == [
        '["o",1,1.235,"dev",[[0,"\x7f[31mhi\x7f[0m"],[1,""]],0,"%1",true,40,2]',  # ESC as DEL
        '["o",2,2.0,"dev",[[1,"next"]],1]',
        '["o",3,3.0,"dev",[[1,"old pane"]],0,"%0"]',
        '["o",4,4.0,"dev",[[0,"x"]],0,"%1"]',
        '{"type":"agent.output","agent":"dev","changes":[[0,"y"]],"pane":"%1","seq":5,"ts":5.0,'
        '"source":"user","client":"ui-1"}',
        r'{"type":"agent.output","agent":"dev","changes":[[0,"\u001bz\u007f"]],"pane":"%1","seq":6,'
        '"ts":6.0}',  # DEL in the text: in full, the DEL escaped (a raw one is an ESC)
    ]
    read, _ = read_log(log)
    assert [e.pane for e in read] == ["%1", "", "%0", "%1", "%1", "%1"]  # type: ignore[union-attr]
    assert read[1] == ev.AgentOutput(agent="dev", changes=[(1, "next")], scroll=1, seq=2, ts=2.0)
    assert read[0].changes == keyframe.changes and read[5] == deleted  # type: ignore[union-attr]
    for k in range(len(written) + 1):
        assert fold_all(read[:k]) == fold_all(written[:k])


def test_a_reopened_log_names_the_pane_again_and_continues_the_seq(tmp_path: Path) -> None:
    log = tmp_path / "s1" / "events.jsonl"
    with open_log(log) as writer:
        writer.append_many([ev.AgentSpawned(agent="dev"), ev.AgentStarted(agent="dev", pane="%1")])
        writer.append(ev.AgentOutput(agent="dev", changes=[(0, "a")], pane="%1"))
    with open_log(log) as writer:
        assert writer.last_seq == 3
        writer.append(ev.AgentOutput(agent="dev", changes=[(0, "b")], pane="%1"))
        writer.append(ev.AgentOutput(agent="dev", changes=[(0, "c")], pane="%1"))
    read, _ = read_log(log)
    assert [(e.seq, e.pane) for e in read[1:]] == [(2, "%1"), (3, "%1"), (4, "%1"), (5, "")]  # type: ignore[union-attr]
    assert fold_all(read).agents["dev"].screen == ["c"]


def test_a_late_report_of_a_replaced_pane_is_ignored_in_replay(tmp_path: Path) -> None:
    log = tmp_path / "s1" / "events.jsonl"
    written = [
        ev.AgentSpawned(agent="dev"), ev.AgentStarted(agent="dev", pane="%1"),
        ev.AgentOutput(agent="dev", changes=[(0, "first")], keyframe=True, height=1, pane="%1"),
        ev.AgentSpawned(agent="dev"), ev.AgentStarted(agent="dev", pane="%2"),
        ev.AgentOutput(agent="dev", changes=[(0, "late")], pane="%1"),  # before %2 shows
        ev.AgentOutput(agent="dev", changes=[(0, "second")], keyframe=True, height=1, pane="%2"),
        ev.AgentOutput(agent="dev", changes=[(0, "later")], pane="%1"),
    ]
    with open_log(log) as writer:
        writer.append_many(written)
    read, _ = read_log(log)
    assert read[5].pane == "" and read[7].pane == "%1"  # type: ignore[union-attr]
    assert fold_all(read).agents["dev"].screen == ["second"] == fold_all(written).agents["dev"].screen


@pytest.mark.parametrize("line", [
    '["o","1",1.0,"dev",[]]',  # a seq that is not a number
    '["o",1,1.0,"dev"]',  # no changes
    '["o",1,1.0,"dev",[[0,1]]]',  # a row's text not text
    '["o",1,1.0,"dev",[],1,"%1",true,40,6,"more"]',  # a field too many
    '["x",1,1.0,"dev",[]]',  # not an output record
    '["o",1,1.0,"dev",[],true]',  # scroll true
])
def test_a_malformed_record_is_a_corrupt_line(tmp_path: Path, line: str) -> None:
    log = tmp_path / "events.jsonl"
    good = '["o",3,1.0,"dev",[[0,"ok"]]]'
    log.write_text('{"type":"log.header","seq":1}\n' + line + "\n" + good + "\n")
    with pytest.raises(CorruptLogError, match=r"events.jsonl:2: corrupt event record"):
        read_log(log)
    events, warnings = read_log(log, skip_corrupt=True)
    assert [e.seq for e in events] == [1, 3] and len(warnings) == 1


def test_a_refused_output_leaves_nothing_behind(tmp_path: Path) -> None:
    log = tmp_path / "s1" / "events.jsonl"
    with open_log(log) as writer:
        writer.append(ev.AgentOutput(agent="dev", changes=[(0, "a")], pane="%1"))
        with pytest.raises(EventRefused):
            writer.append(ev.AgentOutput(agent="dev", changes=[(0, "\ud800")], pane="%2"))
        writer.append(ev.AgentOutput(agent="dev", changes=[(0, "b")], pane="%2"))
    read, _ = read_log(log)
    assert [(e.seq, e.pane) for e in read] == [(1, "%1"), (2, "%2")]  # type: ignore[union-attr]


def test_del_stands_for_esc_only_in_logs_of_schema_2(schema1: Path, tmp_path: Path) -> None:
    note = "\x1b[1mbold\x7f"
    new = tmp_path / "s2" / "events.jsonl"
    for log in (schema1, new):
        with open_log(log, ev.LogHeader(fleet="f")) as writer:
            writer.append(ev.TaskNote(task="T1", text=note))
            writer.append(ev.AgentOutput(agent="dev", changes=[(0, "\x1b[1mx")], pane="%3", ts=1.5))
            writer.append(ev.AgentOutput(agent="dev", changes=[(0, "\x1b[1my")], pane="%3",
                                         ts=1.0001))
    old_lines = schema1.read_bytes().splitlines()
    assert old_lines[-3].count(b"\x7f") == 1 and old_lines[-2].startswith(b'{"type":"agent.output"')
    assert b'"ts":1.0001' in old_lines[-1]  # a schema-1 log goes on in schema 1
    new_lines = new.read_bytes().splitlines()
    assert b'"schema":2' in new_lines[0] and b"\\u007f" in new_lines[1]
    assert new_lines[2:] == [b'["o",3,1.5,"dev",[[0,"\x7f[1mx"]],0,"%3"]',
                             b'["o",4,1.0,"dev",[[0,"\x7f[1my"]]]']
    for log in (schema1, new):
        events, warnings = read_log(log)
        assert warnings == []
        assert events[-3].text == note  # type: ignore[union-attr]
        assert [e.changes for e in events[-2:]] == [[(0, "\x1b[1mx")], [(0, "\x1b[1my")]]  # type: ignore[union-attr]
