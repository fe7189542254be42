"""The transcript followers' files read here (``LOCAL``) or on a host over its SSH link
(``RemoteFiles``, with the real sshd of ``tests/sshd.py``): the same events either way,
sub-agent files found there too, offsets kept while the link is down, and a host's answer
checked before anything of it is used (a "python" on the host that answers lies)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from fleet_tui.adapters.remote_files import (
    LOCAL,
    MAX_FOUND,
    READ_LIMIT,
    REMOTE_MODULE,
    Ask,
    Chunk,
    Reading,
    RemoteFiles,
    answer,
    check,
    merge,
    split,
)
from fleet_tui.adapters.ssh import SshLink
from fleet_tui.adapters.transcripts import ClaudeFollower, CodexFollower, TranscriptWatcher
from fleet_tui.core import events as ev
from fleet_tui.core.costs import count_reported
from tests.helpers import retry_until
from tests.sshd import Sshd
from tests.test_transcripts import CLAUDE_MESSAGES, DATA, claude_session, per_message


@pytest.fixture
def link(sshd: Sshd, fleet_home: Path) -> Iterator[SshLink]:
    link = SshLink(sshd.target)
    link.open()
    try:
        yield link
    finally:
        link.close()


def test_answer_reads_past_each_offset_from_0_when_rewritten_and_lists_new_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "sub" / "b.jsonl"
    b.parent.mkdir()
    a.write_bytes(b"one\ntwo\n")
    b.write_bytes(b"sub\n")
    (tmp_path / "sub" / "c.txt").write_text("not a transcript\n")
    (tmp_path / "sub" / os.fsdecode(b"\xff.jsonl")).write_text("a name JSON cannot carry\n")
    ask = Ask([(str(a), 4), (str(tmp_path / "none.jsonl"), 0), ("relative.jsonl", 0)],
              [str(tmp_path), "relative"])
    reading = answer(ask)
    assert reading.chunks == [Chunk(4, b"two\n"), None, None]
    assert reading.found == [{str(b): Chunk(0, b"sub\n")}, {}]  # a.jsonl is named: not "found"
    assert answer(Ask([(str(a), 8)])).chunks == [Chunk(8, b"")]
    assert answer(Ask([(str(a), 99)])).chunks == [Chunk(0, b"one\ntwo\n")]  # shorter: rewritten
    assert answer(ask, budget=3).chunks[0] == Chunk(4, b"two\n")  # the first file, then no more
    assert answer(ask, budget=3).found == [{str(b): None}, {}]  # read from 0 next time
    assert check(ask, reading) == ""


def test_the_hosts_side_answers_an_ask_in_json_and_refuses_anything_else(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"\x00\xff binary\n")
    run = [sys.executable, "-I", "-m", REMOTE_MODULE]
    done = subprocess.run(run, input=msgspec.json.encode(Ask([(str(path), 0)], [str(tmp_path)])),
                          capture_output=True, check=True)
    assert msgspec.json.decode(done.stdout, type=Reading) == Reading([Chunk(0, path.read_bytes())], [{}])
    for bad in (b"", b"{}", b'[[["/a.jsonl", "x"]], []]', b"[1, 2, 3]"):
        done = subprocess.run(run, input=bad, capture_output=True, check=False)
        assert done.returncode == 2 and b"not an ask" in done.stderr and not done.stdout


def test_merged_asks_are_answered_once_and_cut_back() -> None:
    one, two = Ask([("/a.jsonl", 1)], ["/s"]), Ask([("/b.jsonl", 2), ("/c.jsonl", 3)], [])
    both = merge([one, two])
    assert both == Ask([("/a.jsonl", 1), ("/b.jsonl", 2), ("/c.jsonl", 3)], ["/s"])
    reading = Reading([Chunk(1, b"a"), None, Chunk(3, b"c")], [{"/s/x.jsonl": None}])
    assert split([one, two], reading) == [Reading([Chunk(1, b"a")], [{"/s/x.jsonl": None}]),
                                          Reading([None, Chunk(3, b"c")], [])]


@pytest.mark.parametrize(("reading", "why"), [
    (Reading([], [{}]), "another length"),
    (Reading([Chunk(5, b"")], [{}]), "a chunk from 5"),  # neither the offset nor 0
    (Reading([Chunk(0, b"x" * (READ_LIMIT + 1))], [{}]), "bytes for offset"),
    (Reading([None], [{"/etc/passwd.jsonl": None}]), "not under"),
    (Reading([None], [{"/home/u/s/../../../etc/x.jsonl": None}]), "not under"),
    (Reading([None], [{"/home/u/s/x.txt": None}]), "not under"),
    (Reading([None], [{"/home/u/sx/a.jsonl": None}]), "not under"),
    (Reading([None], [{"/home/u/s/a.jsonl": Chunk(3, b"")}]), "new file's chunk"),
    (Reading([None], [{f"/home/u/s/{i}.jsonl": None for i in range(MAX_FOUND + 1)}]), "files under"),
])
def test_a_hosts_answer_is_checked(reading: Reading, why: str) -> None:
    assert why in check(Ask([("/home/u/t.jsonl", 7)], ["/home/u/s"]), reading)


def test_a_remote_claude_transcript_costs_what_a_local_one_does(
        sshd: Sshd, link: SshLink, tmp_path: Path) -> None:
    path = claude_session(sshd.home / ".claude")  # on the "host"
    files = RemoteFiles(link, sys.executable)
    follower = ClaudeFollower("dev", path, files=files)
    events = follower.poll()
    assert per_message(events) == CLAUDE_MESSAGES  # the sub-agent's file too, in one round trip
    assert events == ClaudeFollower("dev", path).poll()
    assert follower.poll() == [] and files.error == ""


def test_a_dropped_link_loses_and_repeats_nothing(sshd: Sshd, link: SshLink, tmp_path: Path) -> None:
    path = sshd.home / "rollout-2026-11-29T17-40-02-0199a213-81c0-7800-8aa1-bbab2a035a53.jsonl"
    lines = (DATA / "codex_rollout.jsonl").read_text().splitlines(keepends=True)
    files = RemoteFiles(link, sys.executable)
    follower = CodexFollower("cx", path, files=files)
    path.write_text("".join(lines[:8]))
    first = follower.poll()
    assert [e.output_tokens for e in first] == [500]
    sshd.drop()
    with open(path, "a") as f:
        f.writelines(lines[8:])  # written while the host is out of reach
    assert follower.poll() == []
    assert files.error  # ssh's own words, or "the link is down"
    sshd.start()
    link.open()
    [second] = follower.poll()
    assert (second.input_tokens, second.cache_read_tokens, second.output_tokens) == (6000, 12000, 1000)
    assert follower.poll() == []
    again = CodexFollower("cx", path, counted=count_reported([*first, second])["cx"], files=files)
    assert again.poll() == []  # made again after a restart: nothing counted twice


def test_the_watcher_polls_a_hosts_followers_together_and_apart_from_the_local_ones(
        sshd: Sshd, link: SshLink, tmp_path: Path) -> None:
    far = claude_session(sshd.home / ".claude")
    near = claude_session(tmp_path / "near")
    files = RemoteFiles(link, sys.executable)
    calls: list[Ask] = []
    real_read = files.read
    files.read = lambda ask: calls.append(ask) or real_read(ask)  # type: ignore[method-assign]
    got: list[ev.Event] = []
    watcher = TranscriptWatcher(got.extend, files_of=lambda agent: files if agent != "near" else LOCAL)
    for agent, path in (("far", far), ("far2", far), ("near", near)):
        assert watcher.follow(agent, "claude", str(path))
    watcher.poll(remote=False)
    assert {e.agent for e in got} == {"near"} and not calls
    got.clear()
    watcher.poll(remote=True)
    assert len(calls) == 1 and len(calls[0].files) == 2  # both of the host's, one round trip
    assert per_message([e for e in got if e.agent == "far"]) == CLAUDE_MESSAGES
    assert per_message([e for e in got if e.agent == "far2"]) == CLAUDE_MESSAGES


def test_a_host_that_answers_lies_is_not_believed(sshd: Sshd, link: SshLink, tmp_path: Path) -> None:
    path = sshd.home / "t.jsonl"
    shutil.copy(DATA / "claude_session.jsonl", path)
    liar = sshd.home / "liar"
    answers = [
        b"not json",
        b'{"chunks": [], "found": []}',
        b'[[[0, "not base64!"]], [{}]]',
        b'[[[-1, ""]], [{}]]',
        b'[[[0, "", "more"]], [{}]]',
        msgspec.json.encode(Reading([None], [{"/etc/passwd.jsonl": Chunk(0, b"x\n")}])),
        msgspec.json.encode(Reading([Chunk(0, b"")], [{}, {}])),
    ]
    for said in answers:
        (sshd.home / "answer").write_bytes(said)
        liar.write_text(f"#!/bin/sh\ncat >/dev/null\ncat {sshd.home / 'answer'}\n")
        liar.chmod(0o755)
        files = RemoteFiles(link, str(liar))
        follower = ClaudeFollower("dev", path, files=files)
        assert follower.poll() == [], said
        assert files.error, said
        assert follower.ask().files == [(str(path), 0)]  # nothing moved


def test_a_host_that_does_not_answer_holds_up_no_local_follower(
        sshd: Sshd, link: SshLink, tmp_path: Path) -> None:
    stuck = sshd.home / "stuck"
    pid = sshd.home / "stuck.pid"
    stuck.write_text(f"#!/bin/sh\necho $$ > {pid}\nexec sleep 30\n")
    stuck.chmod(0o755)
    got: list[ev.Event] = []  # (extended on the watcher's threads: list.extend is atomic)
    near = tmp_path / "near.jsonl"
    near.write_text("")
    files = RemoteFiles(link, str(stuck))
    watcher = TranscriptWatcher(got.extend, every=0.2, files_of=lambda a: files if a == "far" else LOCAL)
    assert watcher.follow("far", "claude", str(sshd.home / "far.jsonl"))
    assert watcher.follow("near", "claude", str(near))
    watcher.start()
    try:
        retry_until(lambda: pid.exists() and pid.read_text().strip(), message="the host's reader stuck")
        shutil.copy(DATA / "claude_session.jsonl", near)
        main_file = {m: c for m, c in CLAUDE_MESSAGES.items() if m != "msg_01T"}
        retry_until(lambda: per_message(list(got)) == main_file, message="the local costs")
        assert {e.agent for e in got} == {"near"}
    finally:
        if pid.exists() and pid.read_text().strip():
            os.kill(int(pid.read_text()), signal.SIGKILL)  # the host's reader answers at last
        watcher.stop()
