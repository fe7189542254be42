"""Real agent CLIs' hooks: the translation of what they send into inbox messages.

fleet-tui adds its hooks to claude and codex agents at spawn (``fleet_tui.config.agent_cli``),
and both end up as ``fleet-tui hook claude|codex`` for the agent named by ``$FLEET_AGENT``:

- Claude Code runs it on its hook events with a JSON payload on stdin (``session_id``,
  ``transcript_path``, ``cwd``, ``hook_event_name``, and per event: ``source`` and ``model`` on
  ``SessionStart``, ``message`` and ``notification_type`` on ``Notification``, ``error`` and
  ``last_assistant_message`` on ``StopFailure``, ``tool_name`` and ``tool_input`` on
  ``PreToolUse``/``PostToolUse``). Each becomes an explicit status; a
  ``SessionStart`` also says where the session's transcript is (a ``session`` message, so
  its costs can be read), and a finished file edit says which file (``touched``).
- Codex runs its ``notify`` program with one JSON argument (``type: agent-turn-complete``,
  ``thread-id``, ``cwd``, ``last-assistant-message``): the agent is idle, and its session
  file is the rollout of that thread.

Outside a fleet (no ``$FLEET_INBOX``) the hook does nothing and succeeds, so the CLI keeps
working on its own; whatever a payload holds, the hook never fails the CLI.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fleet_tui.adapters.transcripts import claude_transcript_path, codex_session_path
from fleet_tui.core.inbox_rules import InboxMessage

#: Claude Code hook event -> the status it means.
CLAUDE_STATUS = {
    "SessionStart": "idle",
    "UserPromptSubmit": "working",
    "Notification": "waiting",
    "Stop": "idle",
    "StopFailure": "waiting",
    "PreToolUse": "working",
    "PostToolUse": "working",
}

#: Claude Code tools that edit files, and where their input names the file.
EDIT_TOOLS = {"Edit": "file_path", "Write": "file_path", "MultiEdit": "file_path",
              "NotebookEdit": "notebook_path"}

NewId = Callable[[], str]


def _text(value: Any, limit: int = 500) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _message(kind: str, agent: str, new_id: NewId, ts: float, hook: str,
             **data: str) -> InboxMessage:
    return InboxMessage(id=new_id(), type=kind, agent=agent, ts=ts, hook=hook,
                        data={k: v for k, v in data.items() if v})


def _claude_status(payload: dict[str, Any], event: str) -> tuple[str, str]:
    status = CLAUDE_STATUS[event]
    if event == "Notification":
        note = _text(payload.get("message"))
        kind = _text(payload.get("notification_type"), 40)
        if kind == "idle_prompt" or (not kind and "waiting for your input" in note.lower()):
            return "idle", note  # the prompt has been idle a while: not a question
        if kind not in ("", "permission_prompt", "elicitation_dialog"):
            return "", ""  # e.g. auth_success: says nothing about the agent's state
        return status, note or event
    if event == "StopFailure":  # the turn ended on an API error: a person must look
        error = _text(payload.get("error"), 80) or "error"
        return status, f"turn failed ({error}): {_text(payload.get('last_assistant_message'), 300)}"
    if event in ("PreToolUse", "PostToolUse"):
        tool = _text(payload.get("tool_name"), 40)
        verb = "editing" if event == "PreToolUse" else "edited"
        return status, f"{verb} {_edited_path(payload) or tool}".strip()
    return status, event


def _edited_path(payload: dict[str, Any]) -> str:
    key = EDIT_TOOLS.get(_text(payload.get("tool_name"), 40), "")
    tool_input = payload.get("tool_input")
    return _text(tool_input.get(key), 4096) if key and isinstance(tool_input, dict) else ""


def _claude_transcript(payload: dict[str, Any]) -> str:
    path = _text(payload.get("transcript_path"), 4096)
    session, cwd = _text(payload.get("session_id"), 100), _text(payload.get("cwd"), 4096)
    if not path and session and cwd:
        path = str(claude_transcript_path(cwd, session))
    return path


def claude_messages(payload: dict[str, Any], agent: str, new_id: NewId,
                    ts: float) -> list[InboxMessage]:
    """What one Claude Code hook payload tells fleet-tui, in the order to apply it."""
    event = payload.get("hook_event_name")
    if not isinstance(event, str) or event not in CLAUDE_STATUS:
        return []
    messages = []
    if event == "SessionStart":
        messages.append(_message("session", agent, new_id, ts, "claude", tool="claude",
                                 session_id=_text(payload.get("session_id"), 100),
                                 transcript=_claude_transcript(payload),
                                 model=_text(payload.get("model"), 100)))
    if event == "PostToolUse" and _edited_path(payload):
        messages.append(_message("touched", agent, new_id, ts, "claude", tool="claude",
                                 path=_edited_path(payload)))
    status, reason = _claude_status(payload, event)
    if status:
        messages.append(_message("status", agent, new_id, ts, "claude", status=status,
                                 reason=reason))
    return messages


def codex_messages(payload: dict[str, Any], agent: str, new_id: NewId,
                   ts: float) -> list[InboxMessage]:
    """What one Codex ``notify`` payload tells fleet-tui."""
    if payload.get("type") != "agent-turn-complete":
        return []
    thread = _text(payload.get("thread-id"), 100)
    rollout = codex_session_path(thread) if thread else None
    messages = []
    if rollout is not None:
        messages.append(_message("session", agent, new_id, ts, "codex", tool="codex",
                                 session_id=thread, transcript=str(rollout)))
    last = _text(payload.get("last-assistant-message"))
    messages.append(_message("status", agent, new_id, ts, "codex", status="idle",
                             reason=last or "turn complete"))
    return messages


def parse_payload(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
