"""The inbox: what agents may say, atomic drops, watching, rejecting, idempotence."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from fleet_tui.adapters.agent_tokens import TOKEN_ENV, AgentTokens
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
    (msg("cost", data={"usd": "nan"}), r"usd must be a finite number within 0\.\.1000000\.0, got 'nan'",
     False),
    (msg("cost", data={"usd": "inf"}), "usd must be a finite number", False),
    (msg("cost", data={"usd": "1e400"}), "usd must be a finite number", False),
    (msg("cost", data={"usd": "-100"}), "usd must be a finite number", False),
    (msg("cost", data={"usd": "1e7"}), "usd must be a finite number", False),
    (msg("cost", data={"input_tokens": "-5"}), r"input_tokens must be within 0\.\.", False),
    (msg("cost", data={"output_tokens": "9" * 30}), r"output_tokens must be within 0\.\.", False),
    (msg("cost", data={"output_tokens": "9" * 5000}), "whole number", False),
    (msg("status", ts=float("nan"), data={"status": "idle"}), "ts must be a finite time", False),
])
def test_bad_messages_are_rejected(message: InboxMessage, reason: str, security: bool) -> None:
    with pytest.raises(InboxRejected, match=reason) as info:
        message_to_events(message)
    assert info.value.security is security


class Collector:
    def __init__(self) -> None:
        self.messages: list[InboxMessage] = []
        self.rejected: list[tuple[str, str, bool]] = []

        self.errors: list[str] = []

    def on_message(self, m: InboxMessage) -> None:
        message_to_events(m)  # the real rules: raises InboxRejected
        self.messages.append(m)

    def on_reject(self, path: Path, reason: str, security: bool) -> None:
        self.rejected.append((path.name, reason, security))

    def on_error(self, message: str) -> None:
        self.errors.append(message)

    def watcher(self, inbox: Path) -> InboxWatcher:
        return InboxWatcher(inbox, self.on_message, self.on_reject, tokens(inbox), self.on_error)


def tokens(inbox: Path) -> AgentTokens:
    """The session's tokens (the session folder is the inbox's parent, as in a real session)."""
    return AgentTokens.for_session(inbox.parent)


def signed(inbox: Path, message: InboxMessage) -> InboxMessage:
    message.token = tokens(inbox).token(message.agent)
    return message


def test_watcher_takes_old_and_new_files_and_rejects_bad_ones(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    drop_message(inbox, signed(inbox, msg("status", id="m1", data={"status": "idle"})))  # while "down"
    got = Collector()
    watcher = got.watcher(inbox)
    watcher.start()
    try:
        retry_until(lambda: [m.id for m in got.messages] == ["m1"], message="start-up scan")
        drop_message(inbox, signed(inbox, msg("task.note", id="m2", task="T1", note="n")))
        retry_until(lambda: [m.id for m in got.messages] == ["m1", "m2"], message="live file")
        (inbox / "garbage.json").write_text("{not json")
        drop_message(inbox, signed(inbox, msg("approval.granted", id="m3", task="T1")))
        retry_until(lambda: len(got.rejected) == 2, message="rejections")
    finally:
        watcher.stop()
    assert sorted(r[2] for r in got.rejected) == [False, True]
    assert sorted(p.name for p in (inbox / REJECTED).iterdir()) == sorted(r[0] for r in got.rejected)
    assert [p.name for p in inbox.iterdir()] == [REJECTED]  # handled files are removed


def test_a_file_seen_twice_is_handled_once(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = drop_message(inbox, signed(inbox, msg("status", id="m1", data={"status": "idle"})))
    got = Collector()
    watcher = got.watcher(inbox)
    threads = [threading.Thread(target=watcher.handle, args=(path,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [m.id for m in got.messages] == ["m1"]


def test_emit_writes_one_message_and_returns_without_a_running_fleet(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    env = {**os.environ, "FLEET_INBOX": str(inbox), "FLEET_AGENT": "dev",
           TOKEN_ENV: tokens(inbox).token("dev")}
    out = subprocess.run([sys.executable, "-m", "fleet_tui.cli", "emit", "task.done", "--task", "T1",
                          "--note", "ready for review", "--data", "kind=handoff"],
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    [path] = list(inbox.iterdir())
    assert path.suffix == ".json" and path.stat().st_mode & 0o777 == 0o600
    got = Collector()
    got.watcher(inbox).handle(path)
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


def test_emit_without_a_token_is_a_one_line_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    env.update(FLEET_INBOX=str(tmp_path), FLEET_AGENT="dev")
    out = subprocess.run([sys.executable, "-m", "fleet_tui.cli", "emit", "status", "idle"],
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and f"{TOKEN_ENV} is not set" in out.stderr
    assert out.stderr.count("\n") == 1 and list(tmp_path.iterdir()) == []


def test_tokens_are_per_agent_and_the_same_after_a_restart(tmp_path: Path) -> None:
    first = AgentTokens.for_session(tmp_path)
    assert (tmp_path / "secret").stat().st_mode & 0o777 == 0o600
    again = AgentTokens.for_session(tmp_path)  # a restarted fleet-tui: no map stored
    assert first.token("dev") == again.token("dev") != first.token("rev")
    assert again.matches("dev", first.token("dev")) and not again.matches("rev", first.token("dev"))
    assert not again.matches("dev", "") and not again.matches("dev", "\udcff")
    (tmp_path / "other").mkdir()
    other = AgentTokens.for_session(tmp_path / "other")
    assert other.token("dev") != first.token("dev")  # another session, other tokens


def _socket(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    return sock


def _hostile_corpus(inbox: Path, outside: Path, tag: str) -> list[str]:
    """Drop every kind of bad entry into ``inbox``; returns their names."""
    outside.mkdir(exist_ok=True)
    (outside / f"real-{tag}.json").write_bytes(msgspec.json.encode(signed(inbox, msg(
        "task.note", id=f"out-{tag}", task="T1", note="via a link"))))
    entries: dict[str, Callable[[Path], object]] = {
        "malformed": lambda p: p.write_text('{"id": "x", "type": '),
        "empty": lambda p: p.write_bytes(b""),
        "binary": lambda p: p.write_bytes(bytes(range(256)) * 4),
        "big": lambda p: p.write_bytes(b" " * (10 << 20)),
        "dir": lambda p: (p.mkdir(), (p / "inner.json").write_text("{}")),
        "fifo": lambda p: os.mkfifo(p),
        "socket": lambda p: _socket(p),
        "link-out": lambda p: p.symlink_to(outside / f"real-{tag}.json"),
        "link-in": lambda p: p.symlink_to(inbox / f"{tag}-malformed.json"),
        "dangling": lambda p: p.symlink_to(inbox / "nowhere.json"),
        "hardlink": lambda p: os.link(outside / f"real-{tag}.json", p),
        "no-token": lambda p: p.write_bytes(msgspec.json.encode(msg("status", id=f"nt-{tag}",
                                                                    data={"status": "idle"}))),
        "impostor": lambda p: p.write_bytes(msgspec.json.encode(msg(
            "status", id=f"imp-{tag}", agent="rev", token=tokens(inbox).token("dev"),
            data={"status": "idle"}))),
        "nan-cost": lambda p: p.write_bytes(msgspec.json.encode(signed(inbox, msg(
            "cost", id=f"nan-{tag}", data={"usd": "nan"})))),
        "negative-cost": lambda p: p.write_bytes(msgspec.json.encode(signed(inbox, msg(
            "cost", id=f"neg-{tag}", data={"usd": "-100"})))),
        "inf-tokens": lambda p: p.write_bytes(msgspec.json.encode(signed(inbox, msg(
            "cost", id=f"inf-{tag}", data={"input_tokens": "inf"})))),
        "surrogate": lambda p: p.write_bytes(b'{"id":"s","type":"task.note","note":"\\ud800"}'),
    }
    names = []
    for kind, make in entries.items():
        name = f"{tag}-{kind}.json"
        make(inbox / name)
        names.append(name)
    os.close(os.open(os.path.join(os.fsencode(inbox), f"{tag}-\xff".encode("latin-1") + b".json"),
                     os.O_CREAT | os.O_WRONLY, 0o600))  # a name that is not UTF-8
    names.append(f"{tag}-\ufffd.json")  # as it is shown and kept in rejected/
    return names


def test_the_hostile_corpus_never_stops_the_inbox(tmp_path: Path) -> None:
    inbox = tmp_path / "session" / "inbox"
    inbox.mkdir(parents=True)
    at_start = _hostile_corpus(inbox, tmp_path / "outside", "early")  # the start-up scan meets them
    got = Collector()
    watcher = got.watcher(inbox)
    watcher.start()
    try:
        retry_until(lambda: len(got.rejected) == len(at_start), message="start-up scan rejections")
        live = _hostile_corpus(inbox, tmp_path / "outside", "late")  # and the live watcher too
        retry_until(lambda: len(got.rejected) == len(at_start) + len(live), message="live rejections")
        drop_message(inbox, signed(inbox, msg("status", id="valid", data={"status": "idle"})))
        retry_until(lambda: [m.id for m in got.messages] == ["valid"], message="the valid message")
        assert watcher._thread is not None and watcher._thread.is_alive()
    finally:
        watcher.stop()
    reasons = {name: (reason, security) for name, reason, security in got.rejected}
    assert set(reasons) == set(at_start + live)
    for tag in ("early", "late"):
        assert reasons[f"{tag}-dir.json"][0] == "is a directory"
        assert reasons[f"{tag}-fifo.json"][0] == "is a FIFO"
        assert reasons[f"{tag}-socket.json"][0] == "is a socket"
        for link in ("link-out", "link-in", "dangling"):
            assert reasons[f"{tag}-{link}.json"][0] == "is a symbolic link (links are not followed)"
        assert reasons[f"{tag}-big.json"][0].endswith("over the 65536-byte limit")
        assert reasons[f"{tag}-hardlink.json"][0].startswith("has other hard links")
        assert reasons[f"{tag}-impostor.json"] == (
            "its token is not agent 'rev''s: only that agent may speak for it", True)
        assert reasons[f"{tag}-no-token.json"][1] is True
        assert "usd must be a finite number" in reasons[f"{tag}-nan-cost.json"][0]
        assert "usd must be a finite number" in reasons[f"{tag}-negative-cost.json"][0]
        assert "whole number" in reasons[f"{tag}-inf-tokens.json"][0]
    assert all("\n" not in reason for reason, _ in reasons.values())
    assert all(name.encode() for name in reasons)  # every name can be logged
    # watchfiles itself fails on the name that is not UTF-8: the watcher says so and goes on
    assert all(e.endswith("; watching again") for e in got.errors) and len(got.errors) <= 1
    assert sorted(p.name for p in inbox.iterdir()) == [REJECTED]  # nothing left behind
    assert sorted(p.name for p in (inbox / REJECTED).iterdir()) == sorted(reasons)
    assert (tmp_path / "outside" / "real-early.json").exists()  # a link's target is untouched


def test_an_unexpected_failure_is_reported_and_the_file_kept(tmp_path: Path) -> None:
    inbox = tmp_path / "session" / "inbox"
    inbox.mkdir(parents=True)
    got = Collector()

    def broken(m: InboxMessage) -> None:
        raise RuntimeError("the fleet is not started")

    watcher = InboxWatcher(inbox, broken, got.on_reject, tokens(inbox), got.on_error)
    path = drop_message(inbox, signed(inbox, msg("status", id="m1", data={"status": "idle"})))
    watcher.handle(path)
    assert got.errors == [f"inbox file {path.name} not handled: RuntimeError: the fleet is not started"]
    assert path.exists() and got.rejected == []  # kept for the next start


def test_a_file_in_place_of_the_rejected_folder_is_replaced(tmp_path: Path) -> None:
    inbox = tmp_path / "session" / "inbox"
    inbox.mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (inbox / REJECTED).symlink_to(tmp_path / "elsewhere")
    got = Collector()
    (inbox / "bad.json").write_text("nope")
    got.watcher(inbox).handle(inbox / "bad.json")
    assert (inbox / REJECTED).is_dir() and not (inbox / REJECTED).is_symlink()
    assert [p.name for p in (inbox / REJECTED).iterdir()] == ["bad.json"]
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_file_whose_handling_failed_is_taken_again_by_the_next_scan(tmp_path: Path) -> None:
    inbox = tmp_path / "session" / "inbox"
    inbox.mkdir(parents=True)
    got = Collector()
    failures = ["the fleet is not started"]

    def flaky(m: InboxMessage) -> None:
        if failures:
            raise RuntimeError(failures.pop())
        got.on_message(m)

    watcher = InboxWatcher(inbox, flaky, got.on_reject, tokens(inbox), got.on_error)
    watcher.start()
    try:
        drop_message(inbox, signed(inbox, msg("status", id="m1", data={"status": "idle"})))
        retry_until(lambda: [m.id for m in got.messages] == ["m1"], message="taken on a rescan")
    finally:
        watcher.stop()
    assert len(got.errors) == 1 and "RuntimeError: the fleet is not started" in got.errors[0]
    assert [p.name for p in inbox.iterdir()] == []


def test_an_inbox_removed_under_the_watcher_comes_back(tmp_path: Path) -> None:
    inbox = tmp_path / "session" / "inbox"
    inbox.mkdir(parents=True)
    got = Collector()
    watcher = got.watcher(inbox)
    watcher.start()
    try:
        retry_until(lambda: watcher._thread is not None and watcher._thread.is_alive(), message="up")
        shutil.rmtree(inbox)

        def dropped() -> bool:
            try:
                drop_message(inbox, signed(inbox, msg("status", id="m1", data={"status": "idle"})))
            except FileNotFoundError:
                return False
            return True

        retry_until(dropped, message="the inbox made again")
        retry_until(lambda: [m.id for m in got.messages] == ["m1"], message="the message after")
    finally:
        watcher.stop()
    assert inbox.stat().st_mode & 0o777 == 0o700
