"""Real costs from the files agent CLIs write as they work: Claude Code's session transcripts
and Codex's session (rollout) files, followed incrementally into ``cost.reported`` events.

- Claude Code appends one JSON line per entry to ``~/.claude/projects/<cwd, every character
  but letters and digits made ->/<session id>.jsonl`` (the hook payloads carry the path as
  ``transcript_path``); sub-agents write theirs under ``<session id>/subagents/*.jsonl``, and
  older versions put sub-agent ("sidechain") lines in the main file. An ``assistant`` line
  carries ``message.id``, ``message.model`` and ``message.usage`` (``input_tokens``,
  ``output_tokens``, ``cache_creation_input_tokens``, ``cache_read_input_tokens``). One API
  response is written as several lines with the same ``message.id``: one per content block,
  and while streaming with ``output_tokens`` growing. Each message is counted once: the
  follower keeps the largest usage seen per id and reports only what a line adds to it.
- Codex appends ``{"type": "event_msg", "payload": {"type": "token_count", "info":
  {"total_token_usage": {...}}}}`` lines to ``~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<thread
  id>.jsonl``: running totals, where ``input_tokens`` includes ``cached_input_tokens``; the
  model is in ``turn_context`` lines. The follower reports what each total adds to the last.

A follower keeps each file's byte offset and takes only what was appended since; a last line
without its newline is left for the next poll. It reads through its ``files``
(``remote_files.py``): this machine's, or, for an agent on a remote host, that host's over its
SSH link, where the transcript path (named by the agent's hooks) is a path on the host; the
parsing and the counting here are the same for both. ``TranscriptWatcher`` runs the followers:
the local ones when watchfiles sees their folders change (and every few seconds), the remote
ones every few seconds on another thread, one round trip per host; while a host is out of
reach its followers' reads fail and their offsets stay, so nothing is lost or counted twice.
"""

from __future__ import annotations

import os
import re
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from fleet_tui.adapters.remote_files import LOCAL, READ_LIMIT, Ask, Chunk, Files, Reading, merge, split
from fleet_tui.core import events as ev
from fleet_tui.core.costs import Price, Usage, cost_event
from fleet_tui.core.state import FleetState


def claude_transcript_path(cwd: str, session_id: str, config_dir: str | None = None) -> Path:
    """Where Claude Code writes the transcript of ``session_id`` started in ``cwd``."""
    base = Path(config_dir or os.environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude")
    return base / "projects" / re.sub(r"[^A-Za-z0-9]", "-", cwd) / f"{session_id}.jsonl"


def codex_session_path(thread_id: str, codex_home: str | None = None) -> Path | None:
    """Codex's rollout file for ``thread_id`` (newest day folders first), or None."""
    if not re.fullmatch(r"[0-9A-Za-z-]{8,64}", thread_id):
        return None
    sessions = Path(codex_home or os.environ.get("CODEX_HOME") or Path.home() / ".codex") / "sessions"
    found = sorted(sessions.glob(f"*/*/*/rollout-*-{thread_id}.jsonl"), reverse=True)
    return found[0] if found else None


class JsonlTail:
    """The complete lines appended to a file, from the chunks read past ``offset``."""

    def __init__(self, path: str, offset: int = 0) -> None:
        self.path = path
        self.offset = offset

    def lines(self, chunk: Chunk | None) -> list[bytes]:
        if chunk is None:
            return []  # not written yet, gone, or out of reach
        if chunk.start < self.offset:
            self.offset = chunk.start  # rewritten from the start
        data = chunk.data
        end = data.rfind(b"\n")
        if end < 0:
            if len(data) < READ_LIMIT:
                return []  # a torn last line: wait for the rest
            self.offset += len(data)  # one line longer than the limit: skip it
            return []
        self.offset += end + 1
        return data[: end + 1].splitlines()


def _object(line: bytes) -> dict[str, Any] | None:
    try:
        value = msgspec.json.decode(line)
    except msgspec.DecodeError:
        return None
    return value if isinstance(value, dict) else None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class TranscriptFollower:
    """Follows one agent CLI session's files; ``poll`` returns the new cost events, one per
    message that grew since the last poll. ``counted`` is what earlier events already
    reported, by ``message`` (see ``fleet_tui.core.costs.count_reported``): a follower made
    again after a restart reports only what goes beyond it."""

    tool = ""

    def __init__(self, agent: str, path: Path, prices: dict[str, Price] | None = None,
                 counted: dict[str, Usage] | None = None, files: Files = LOCAL) -> None:
        self.agent = agent
        self.path = path
        self.prices = prices or {}
        self.counted: dict[str, Usage] = dict(counted or {})
        #: Where the files are read: this machine's, or a host's (``RemoteFiles``).
        self.files = files
        self._tails = {str(path): JsonlTail(str(path))}
        #: What this poll found, by message: its model, whether a sub-agent's, usage before.
        self._grown: dict[str, tuple[str, bool, Usage]] = {}

    def folders(self) -> list[Path]:
        """The folders whose changes may mean new lines."""
        return [self.path.parent]

    def ask(self) -> Ask:
        """What to read: each file from its offset, and the folders new files may appear in."""
        return Ask([(t.path, t.offset) for t in self._tails.values()], self._scan())

    def _scan(self) -> list[str]:
        return []

    def poll(self) -> list[ev.Event]:
        """Read through ``files`` and take what was found (nothing while they are out of reach)."""
        return poll_together([self])

    def take(self, ask: Ask, reading: Reading) -> list[ev.Event]:
        """The new cost events in ``reading`` (the answer to ``ask``, this follower's)."""
        for (path, _offset), chunk in zip(ask.files, reading.chunks, strict=True):
            self._lines(self._tails[path].lines(chunk))
        for found in reading.found:
            for path, chunk in found.items():
                if path not in self._tails:
                    self._tails[path] = JsonlTail(path)
                    self._lines(self._tails[path].lines(chunk))
        events: list[ev.Event] = []
        for key, (model, sidechain, before) in self._grown.items():
            added = self.counted[key].grown_from(before)
            if added:
                events.append(cost_event(self.agent, model, added, self.prices, message=key,
                                         source=ev.hook_source(self.tool), sidechain=sidechain))
        self._grown.clear()
        return events

    def _lines(self, lines: list[bytes]) -> None:
        """Take the lines read, calling ``_usage`` for each model call's usage seen."""
        raise NotImplementedError

    def _usage(self, key: str, model: str, usage: Usage, sidechain: bool = False) -> None:
        old = self.counted.get(key, Usage())
        if key not in self._grown:
            self._grown[key] = (model, sidechain, old)
        else:
            self._grown[key] = (model or self._grown[key][0], sidechain, self._grown[key][2])
        self.counted[key] = old.most(usage)


def poll_together(followers: list[TranscriptFollower]) -> list[ev.Event]:
    """Poll followers that read through the same ``files``: one reading for them all (one
    round trip to a host), cut back into each one's part."""
    asks = [f.ask() for f in followers]
    reading = followers[0].files.read(merge(asks)) if followers else None
    if reading is None:
        return []
    return [e for f, ask, part in zip(followers, asks, split(asks, reading), strict=True)
            for e in f.take(ask, part)]


class ClaudeFollower(TranscriptFollower):
    tool = "claude"

    def _scan(self) -> list[str]:
        return [str(self.path.with_suffix("") / "subagents")]

    def _lines(self, lines: list[bytes]) -> None:
        for line in lines:
            if b'"usage"' in line:  # most lines (prompts, tool results) have none
                self._line(line)

    def _line(self, line: bytes) -> None:
        entry = _object(line)
        if entry is None or entry.get("type") != "assistant":
            return
        message = _dict(entry.get("message"))
        raw = _dict(message.get("usage"))
        model = message.get("model") if isinstance(message.get("model"), str) else ""
        if not raw or model == "<synthetic>":
            return
        usage = Usage(input_tokens=_count(raw.get("input_tokens")),
                      output_tokens=_count(raw.get("output_tokens")),
                      cache_creation_tokens=_count(raw.get("cache_creation_input_tokens")),
                      cache_read_tokens=_count(raw.get("cache_read_input_tokens")))
        ids = (message.get("id"), entry.get("uuid"))
        key = next((k for k in ids if isinstance(k, str) and k), "") or f"line-{zlib.crc32(line):08x}"
        self._usage(key[:200], model[:200], usage, entry.get("isSidechain") is True)


class CodexFollower(TranscriptFollower):
    tool = "codex"

    def __init__(self, agent: str, path: Path, prices: dict[str, Price] | None = None,
                 counted: dict[str, Usage] | None = None, files: Files = LOCAL) -> None:
        super().__init__(agent, path, prices, counted, files)
        self.model = ""

    def _lines(self, lines: list[bytes]) -> None:
        for line in lines:
            if b"turn_context" not in line and b"token_count" not in line:
                continue
            entry = _object(line)
            payload = _dict(entry.get("payload")) if entry else {}
            if entry is None or not payload:
                continue
            if entry.get("type") == "turn_context" and isinstance(payload.get("model"), str):
                self.model = payload["model"][:200]
            elif entry.get("type") == "event_msg" and payload.get("type") == "token_count":
                total = _dict(_dict(payload.get("info")).get("total_token_usage"))
                if total:
                    self._total(total)

    def _total(self, total: dict[str, Any]) -> None:
        cached = _count(total.get("cached_input_tokens"))
        usage = Usage(input_tokens=max(0, _count(total.get("input_tokens")) - cached),
                      output_tokens=_count(total.get("output_tokens")), cache_read_tokens=cached)
        self._usage(self.path.name, self.model, usage)


FOLLOWERS: dict[str, type[TranscriptFollower]] = {"claude": ClaudeFollower, "codex": CodexFollower}


OnEvents = Callable[[list[ev.Event]], None]


class TranscriptWatcher:
    """Runs one follower per agent on two threads: the followers of files on this machine are
    polled when watchfiles sees their folders change (and every ``every`` seconds); those of
    files on a remote host (``files_of(agent)`` gives its ``RemoteFiles``) every ``every``
    seconds on a thread of their own, each host's together, so a slow host never holds up the
    local ones. ``on_events`` gets each poll's new events, on the thread that polled."""

    def __init__(self, on_events: OnEvents, prices: dict[str, Price] | None = None,
                 every: float = 3.0, files_of: Callable[[str], Files] = lambda _agent: LOCAL) -> None:
        self.on_events = on_events
        self.prices = prices or {}
        self.every = every
        self.files_of = files_of
        self._followers: dict[str, TranscriptFollower] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._rewatch = threading.Event()
        self._threads: list[threading.Thread] = []

    def follow(self, agent: str, tool: str, path: str,
               counted: dict[str, Usage] | None = None) -> bool:
        """Follow ``path`` for ``agent`` (replacing what it followed before; on the agent's
        host when it has one); False if the tool has no follower or the path is not an
        absolute ``.jsonl`` file."""
        cls = FOLLOWERS.get(tool)
        target = Path(path)
        if cls is None or not target.is_absolute() or target.suffix != ".jsonl":
            return False
        files = self.files_of(agent)
        with self._lock:
            current = self._followers.get(agent)
            if current is not None and current.path == target and current.files is files:
                return True
            self._followers[agent] = cls(agent, target, self.prices, counted, files)
        self._rewatch.set()
        return True
    def observe(self, event: ev.Event) -> None:
        """A listener for the fleet's events: follow what a new ``agent.session`` names."""
        if isinstance(event, ev.AgentSession) and event.transcript:
            self.follow(event.agent, event.tool, event.transcript)

    def resume(self, state: FleetState, counted: dict[str, dict[str, Usage]]) -> None:
        """After reopening a session's log (folded into ``state``; its costs counted by
        ``count_reported``): follow each agent's transcript again from where they end."""
        for name, agent in state.agents.items():
            if agent.transcript:
                self.follow(name, agent.session_tool, agent.transcript, counted=counted.get(name))

    def forget(self, agent: str) -> None:
        with self._lock:
            self._followers.pop(agent, None)
        self._rewatch.set()

    def poll(self, remote: bool | None = None) -> None:
        """Poll the followers now (only those of remote files, or only the others, when
        ``remote`` says) and hand over what they found."""
        with self._lock:
            groups: dict[int, list[TranscriptFollower]] = {}
            for f in self._followers.values():
                if remote is None or remote == (f.files is not LOCAL):
                    groups.setdefault(id(f.files), []).append(f)
        events = [e for group in groups.values() for e in poll_together(group)]
        if events and not self._stop.is_set():  # (a host's late answer after ``stop``: dropped,
            self.on_events(events)  # and counted from the log by the next daemon)

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._run, name="transcripts", daemon=True),
                         threading.Thread(target=self._run_remote, name="transcripts-remote",
                                          daemon=True)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._rewatch.set()
        for thread in self._threads:
            thread.join(timeout=2)

    def _run_remote(self) -> None:
        while not self._stop.is_set():
            self.poll(remote=True)
            self._stop.wait(self.every)

    def _run(self) -> None:
        import watchfiles  # here: `fleet-tui hook` imports this module and must start fast

        while not self._stop.is_set():
            self._rewatch.clear()
            self.poll(remote=False)
            with self._lock:
                folders = sorted({str(d) for f in self._followers.values() if f.files is LOCAL
                                  for d in f.folders() if d.is_dir()})
            if not folders:
                self._rewatch.wait(self.every)
                continue
            try:
                for _ in watchfiles.watch(
                    *folders, stop_event=self._rewatch, debounce=200, step=50,
                    rust_timeout=int(self.every * 1000), yield_on_timeout=True,
                    watch_filter=lambda _change, p: p.endswith(".jsonl"), raise_interrupt=False,
                ):
                    self.poll(remote=False)
            except OSError:  # a folder went away while watching started
                self._rewatch.wait(self.every)
