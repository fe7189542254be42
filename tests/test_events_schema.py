"""Event encoding: tag first, round trips, and logs written by an older schema still read."""

from __future__ import annotations

import shutil
from pathlib import Path

import msgspec
import pytest

from fleet_tui.adapters.eventlog_read import read_log
from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from fleet_tui.core.state import EXITED

DATA = Path(__file__).parent / "data" / "logs"


@pytest.mark.parametrize("cls", ev.EVENT_TYPES)
def test_every_event_type_round_trips_with_tag_first(cls: type[ev.Event]) -> None:
    sample = {str: "x", bool: True, list[str]: ["x"]}
    required = {f.name: sample.get(f.type, 1) for f in msgspec.structs.fields(cls) if f.required}
    event = cls(**required, seq=7, ts=1.5, source="user")
    line = msgspec.json.encode(event)
    assert line.startswith(b'{"type":"' + cls.__struct_config__.tag.encode() + b'"')
    decoded = msgspec.json.decode(line, type=ev.AnyEvent)
    assert decoded == event
    assert "." in decoded.type_name or decoded.type_name == "error" or decoded.type_name == "alert"


def test_type_names_are_unique_and_dotted_where_required() -> None:
    names = [c.__struct_config__.tag for c in ev.EVENT_TYPES]
    assert len(names) == len(set(names))
    for name in ("log.header", "agent.spawned", "agent.output", "agent.exited", "task.note",
                 "approval.granted", "cost.reported", "config.loaded", "error"):
        assert name in names


def test_log_from_older_schema_reads_and_folds(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    shutil.copy(DATA / "schema0.jsonl", log)
    events, warnings = read_log(log)
    assert warnings == []
    assert len(events) == 9
    unknown = [e for e in events if isinstance(e, ev.UnknownEvent)]
    assert [u.type_name for u in unknown] == ["metrics.sample"]
    spawned = events[1]
    assert isinstance(spawned, ev.AgentSpawned)
    assert spawned.roles == [] and spawned.adopted is False  # fields added later get defaults
    state = fold_all(events)
    assert state.fleet == "old"
    dev = state.agents["dev"]
    assert dev.screen == ["hello", "world"]
    assert dev.status == EXITED and dev.exit_code == 1
    assert dev.cost.usd == pytest.approx(0.25)
    assert state.tasks["T1"].assignee == "dev"
    assert state.events == 8  # the unknown record is skipped
