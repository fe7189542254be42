"""Real agent CLIs' hooks: the settings that make them report to fleet-tui, and the
translation of what they send into inbox messages.

Claude Code runs a command on its hook events with a JSON payload on stdin
(``hook_event_name``: ``SessionStart``, ``UserPromptSubmit``, ``Notification``, ``Stop``...).
Codex runs its ``notify`` program with one JSON argument (``type: agent-turn-complete``).
Both end up as ``fleet-tui hook claude|codex``, which maps the payload to an explicit status
(and a note where there is text) for the agent named by ``$FLEET_AGENT``. Outside a fleet
(no ``$FLEET_INBOX``) the hook does nothing and succeeds, so the CLI keeps working on its own.
"""

from __future__ import annotations

import json
from typing import Any

from fleet_tui.core.inbox_rules import InboxMessage

#: Claude Code hook event -> the status it means.
CLAUDE_STATUS = {
    "SessionStart": "idle",
    "UserPromptSubmit": "working",
    "Notification": "waiting",
    "Stop": "idle",
}


def claude_settings() -> dict[str, Any]:
    """The ``hooks`` block for Claude Code's settings.json."""
    return {
        "hooks": {
            event: [{"hooks": [{"type": "command", "command": "fleet-tui hook claude", "timeout": 10}]}]
            for event in CLAUDE_STATUS
        }
    }


def codex_settings() -> str:
    """The line for ``~/.codex/config.toml``."""
    return 'notify = ["fleet-tui", "hook", "codex"]'


def _text(value: Any, limit: int = 500) -> str:
    return value[:limit] if isinstance(value, str) else ""


def claude_message(payload: dict[str, Any], agent: str, msg_id: str, ts: float) -> InboxMessage | None:
    event = payload.get("hook_event_name")
    status = CLAUDE_STATUS.get(event) if isinstance(event, str) else None
    if status is None:
        return None
    note = _text(payload.get("message")) if event == "Notification" else ""
    if event == "Notification" and "waiting for your input" in note.lower():
        status = "idle"  # the prompt has been idle a while: not a question
    return InboxMessage(id=msg_id, type="status", agent=agent, ts=ts, hook="claude",
                        data={"status": status, "reason": note or event})


def codex_message(payload: dict[str, Any], agent: str, msg_id: str, ts: float) -> InboxMessage | None:
    if payload.get("type") != "agent-turn-complete":
        return None
    last = _text(payload.get("last-assistant-message"))
    return InboxMessage(id=msg_id, type="status", agent=agent, ts=ts, hook="codex",
                        data={"status": "idle", "reason": last or "turn complete"})


def parse_payload(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
