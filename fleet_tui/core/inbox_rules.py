"""What agents may say through the inbox, and the events each message becomes.

An ``InboxMessage`` is what ``fleet-tui emit`` (or a hook adapter) drops into a session's
inbox. ``message_to_events`` validates it and returns the events to append, with
``source: agent:<name>`` (or ``hook:<name>``) and ``ref`` = the message id, or raises
``InboxRejected``. Approvals never come this way: only the user can grant or deny a gate, so an
approval message is rejected as a security problem.
"""

from __future__ import annotations

import msgspec

from fleet_tui.core import events as ev

#: Statuses an agent may claim for itself.
AGENT_STATUSES = ("working", "idle", "waiting", "done")

#: Message types agents may send (``session`` and ``touched`` come from hooks).
MESSAGE_TYPES = ("status", "task.done", "task.blocked", "task.note", "task.created", "cost",
                 "session", "touched")


class InboxMessage(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    id: str
    type: str
    agent: str = ""
    task: str | None = None
    note: str = ""
    data: dict[str, str] = {}
    ts: float = 0.0
    hook: str = ""


class InboxRejected(Exception):
    def __init__(self, reason: str, security: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.security = security


def _need_task(msg: InboxMessage) -> str:
    if not msg.task:
        raise InboxRejected(f"{msg.type} needs a task (--task ID)")
    return msg.task


def _int(msg: InboxMessage, key: str) -> int:
    try:
        return int(msg.data.get(key, "0") or 0)
    except ValueError:
        raise InboxRejected(f"{key} must be a whole number, got {msg.data[key]!r}") from None


def _float(msg: InboxMessage, key: str) -> float:
    try:
        return float(msg.data.get(key, "0") or 0)
    except ValueError:
        raise InboxRejected(f"{key} must be a number, got {msg.data[key]!r}") from None


def _events_for(msg: InboxMessage) -> list[ev.Event]:
    agent = msg.agent
    kind = msg.type
    if kind == "status":
        status = msg.data.get("status") or msg.note
        if status not in AGENT_STATUSES:
            raise InboxRejected(f"status must be one of {', '.join(AGENT_STATUSES)}, got {status!r}")
        return [ev.AgentStatus(agent=agent, status=status, explicit=True,
                               reason=msg.data.get("reason", ""))]
    if kind in ("task.done", "task.blocked"):
        outcome = kind.split(".")[1]
        return [ev.TaskReported(task=_need_task(msg), outcome=outcome, agent=agent, note=msg.note)]
    if kind == "task.note":
        if not msg.note:
            raise InboxRejected("task.note needs a note (--note TEXT)")
        return [ev.TaskNote(task=_need_task(msg), text=msg.note,
                            kind=msg.data.get("kind", "note"), agent=agent)]
    if kind == "task.created":
        title = msg.data.get("title") or msg.note
        if not title:
            raise InboxRejected("task.created needs a title (--note TEXT or --data title=...)")
        task_id = msg.data.get("id") or f"{msg.task or 'T'}-{msg.id[:6]}"
        depends = [d for d in msg.data.get("blocked_by", "").split(",") if d]
        return [ev.TaskCreated(task=task_id, title=title, description=msg.data.get("description", ""),
                               role=msg.data.get("role", ""), column=msg.data.get("column", "backlog"),
                               depends_on=depends, parent=msg.task, agent=agent)]
    if kind == "cost":
        return [ev.CostReported(agent=agent, task=msg.task, model=msg.data.get("model", ""),
                                input_tokens=_int(msg, "input_tokens"),
                                output_tokens=_int(msg, "output_tokens"), usd=_float(msg, "usd"),
                                cache_creation_tokens=_int(msg, "cache_creation_tokens"),
                                cache_read_tokens=_int(msg, "cache_read_tokens"))]
    if kind == "session":
        transcript = msg.data.get("transcript", "")
        if transcript and not (transcript.startswith("/") and transcript.endswith(".jsonl")):
            raise InboxRejected(f"a session transcript must be an absolute .jsonl path, got {transcript!r}")
        return [ev.AgentSession(agent=agent, tool=msg.data.get("tool", ""),
                                session_id=msg.data.get("session_id", ""), transcript=transcript,
                                model=msg.data.get("model", ""))]
    if kind == "touched":
        if not msg.data.get("path"):
            raise InboxRejected("touched needs a path (--data path=...)")
        return [ev.AgentTouched(agent=agent, path=msg.data["path"], tool=msg.data.get("tool", ""))]
    if kind.startswith("approval."):
        raise InboxRejected(f"{kind} from {agent or 'an agent'} refused: only the user can decide "
                            "an approval gate", security=True)
    raise InboxRejected(f"unknown message type {kind!r} (expected one of: {', '.join(MESSAGE_TYPES)})")


def message_to_events(msg: InboxMessage) -> list[ev.Event]:
    if not msg.agent:
        raise InboxRejected("the message names no agent (FLEET_AGENT was not set)")
    events = _events_for(msg)
    source = ev.hook_source(msg.hook) if msg.hook else ev.agent_source(msg.agent)
    for event in events:
        event.source = source
        event.ref = msg.id
    return events
