"""The inbox: what agents may say, atomic drops, watching, rejecting, idempotence."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from fleet_tui.adapters.inbox import REJECTED, InboxWatcher, drop_message, new_message_id
from fleet_tui.core import events as ev
from fleet_tui.core.inbox_rules import InboxMessage, InboxRejected, message_to_events
from tests.helpers import retry_until


def msg(type_: str, **kw: object) -> InboxMessage:
    return InboxMessage(id=kw.pop("id", "abcdef123"), type=type_, agent=kw.pop("agent", "dev"),
                        **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("message", "expected"), [
    (msg("status", data={"status": "waiting"}),
     ev.AgentStatus(agent="dev", status="waiting", explicit=True)),
    (msg("task.done", task="T1", note="tests pass"),
     ev.TaskReported(task="T1", outcome="done", agent="dev", note="tests pass")),
    (msg("task.blocked", task="T1", note="spec unclear"),
     ev.TaskReported(task="T1", outcome="blocked", agent="dev", note="spec unclear")),
    (msg("task.note", task="T1", note="decided X", data={"kind": "decision"}),
     ev.TaskNote(task="T1", text="decided X", kind="decision", agent="dev")),
    (msg("task.created", task="T1", note="write docs", data={"role": "writer"}),
     ev.TaskCreated(task="T1-abcdef", title="write docs", role="writer", parent="T1", agent="dev")),
    (msg("cost", task="T1", data={"model": "m", "input_tokens": "10", "output_tokens": "5",
                                  "usd": "0.02"}),
     ev.CostReported(agent="dev", task="T1", model="m", input_tokens=10, output_tokens=5, usd=0.02)),
])
def test_messages_become_events_from_the_agent(message: InboxMessage, expected: ev.Event) -> None:
    expected.source = "agent:dev"
    expected.ref = message.id
    assert message_to_events(message) == [expected]


def test_hook_messages_have_a_hook_source() -> None:
    [event] = message_to_events(msg("status", data={"status": "idle"}, hook="claude"))
    assert event.source == "hook:claude"


@pytest.mark.parametrize(("message", "reason", "security"), [
    (msg("approval.granted", task="T1"), "only the user can decide", True),
    (msg("status", data={"status": "asleep"}), "status must be one of", False),
    (msg("task.done"), "needs a task", False),
    (msg("cost", data={"input_tokens": "many"}), "whole number", False),
    (msg("launch.missiles"), "unknown message type", False),
    (msg("status", agent="", data={"status": "idle"}), "names no agent", False),
])
def test_bad_messages_are_rejected(message: InboxMessage, reason: str, security: bool) -> None:
    with pytest.raises(InboxRejected, match=reason) as info:
        message_to_events(message)
    assert info.value.security is security


class Collector:
    def __init__(self) -> None:
        self.messages: list[InboxMessage] = []
        self.rejected: list[tuple[str, str, bool]] = []

    def on_message(self, m: InboxMessage) -> None:
        if m.type.startswith("approval."):
            raise InboxRejected("nope", security=True)
        self.messages.append(m)

    def on_reject(self, path: Path, reason: str, security: bool) -> None:
        self.rejected.append((path.name, reason, security))


def test_watcher_takes_old_and_new_files_and_rejects_bad_ones(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    drop_message(inbox, msg("status", id="m1", data={"status": "idle"}))  # dropped while "down"
    got = Collector()
    watcher = InboxWatcher(inbox, got.on_message, got.on_reject)
    watcher.start()
    try:
        retry_until(lambda: [m.id for m in got.messages] == ["m1"], message="start-up scan")
        drop_message(inbox, msg("task.note", id="m2", task="T1", note="n"))
        retry_until(lambda: [m.id for m in got.messages] == ["m1", "m2"], message="live file")
        (inbox / "garbage.json").write_text("{not json")
        drop_message(inbox, msg("approval.granted", id="m3", task="T1"))
        retry_until(lambda: len(got.rejected) == 2, message="rejections")
    finally:
        watcher.stop()
    assert sorted(r[2] for r in got.rejected) == [False, True]
    assert sorted(p.name for p in (inbox / REJECTED).iterdir()) == sorted(r[0] for r in got.rejected)
    assert [p.name for p in inbox.iterdir()] == [REJECTED]  # handled files are removed


def test_a_file_seen_twice_is_handled_once(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = drop_message(inbox, msg("status", id="m1", data={"status": "idle"}))
    got = Collector()
    watcher = InboxWatcher(inbox, got.on_message, got.on_reject)
    threads = [threading.Thread(target=watcher.handle, args=(path,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [m.id for m in got.messages] == ["m1"]


def test_emit_writes_one_message_and_returns_without_a_running_fleet(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    env = {**os.environ, "FLEET_INBOX": str(inbox), "FLEET_AGENT": "dev"}
    out = subprocess.run([sys.executable, "-m", "fleet_tui.cli", "emit", "task.done", "--task", "T1",
                          "--note", "ready for review", "--data", "kind=handoff"],
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    [path] = list(inbox.iterdir())
    assert path.suffix == ".json" and path.stat().st_mode & 0o777 == 0o600
    got = Collector()
    InboxWatcher(inbox, got.on_message, got.on_reject).handle(path)
    [m] = got.messages
    assert (m.type, m.agent, m.task, m.note, m.data) == (
        "task.done", "dev", "T1", "ready for review", {"kind": "handoff"})


def test_emit_outside_an_agent_with_no_fleet_running_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text("fleet: idle\nagents: [{name: a, command: [sleep, '9']}]\n")
    env = {k: v for k, v in os.environ.items() if k != "FLEET_INBOX"}
    out = subprocess.run([sys.executable, "-m", "fleet_tui.cli", "emit", "status", "idle"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 3 and "no daemon is running for fleet 'idle'" in out.stderr
    assert out.stderr.count("\n") == 1


def test_new_message_ids_are_unique() -> None:
    assert len({new_message_id() for _ in range(100)}) == 100
