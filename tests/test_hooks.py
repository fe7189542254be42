"""Hook payloads from Claude Code and Codex, as they document them, through `fleet-tui hook`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fleet_tui.adapters.agent_tokens import TOKEN_ENV
from fleet_tui.core import events as ev
from fleet_tui.core.inbox_rules import InboxMessage, message_to_events

DATA = Path(__file__).parent / "data" / "hooks"


def run_hook(tool: str, inbox: Path, stdin: str = "", args: tuple[str, ...] = (),
             agent: str = "claude-1") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLEET_INBOX": str(inbox), "FLEET_AGENT": agent, TOKEN_ENV: f"token-of-{agent}"}
    return subprocess.run([sys.executable, "-m", "fleet_tui.cli", "hook", tool, *args], input=stdin,
                          env=env, capture_output=True, text=True, timeout=30)


def only_message(inbox: Path) -> InboxMessage:
    import msgspec

    [path] = list(inbox.iterdir())
    return msgspec.json.decode(path.read_bytes(), type=InboxMessage)


@pytest.mark.parametrize(("payload", "status"), [
    ("claude_session_start.json", "idle"),
    ("claude_prompt.json", "working"),
    ("claude_notification.json", "waiting"),
    ("claude_idle_notification.json", "idle"),
    ("claude_stop.json", "idle"),
])
def test_claude_hook_payloads_become_explicit_statuses(tmp_path: Path, payload: str, status: str) -> None:
    out = run_hook("claude", tmp_path, stdin=(DATA / payload).read_text())
    assert out.returncode == 0, out.stderr
    msg = only_message(tmp_path)
    assert msg.token == "token-of-claude-1"
    [event] = message_to_events(msg)
    assert isinstance(event, ev.AgentStatus)
    assert (event.agent, event.status, event.explicit, event.source) == (
        "claude-1", status, True, "hook:claude")


def test_codex_notify_payload_becomes_idle_with_the_last_message(tmp_path: Path) -> None:
    out = run_hook("codex", tmp_path, args=((DATA / "codex_turn_complete.json").read_text(),),
                   agent="codex")
    assert out.returncode == 0, out.stderr
    [event] = message_to_events(only_message(tmp_path))
    assert isinstance(event, ev.AgentStatus) and event.status == "idle"
    assert event.reason.startswith("Rename complete") and event.source == "hook:codex"


def test_hooks_never_break_the_cli(tmp_path: Path) -> None:
    assert run_hook("claude", tmp_path, stdin="not json").returncode == 0
    assert run_hook("codex", tmp_path, args=("[1,2]",)).returncode == 0
    assert list(tmp_path.iterdir()) == []
    env = {k: v for k, v in os.environ.items() if k != "FLEET_INBOX"}
    out = subprocess.run([sys.executable, "-m", "fleet_tui.cli", "hook", "claude"], input="{}",
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stderr == ""
    env = {**os.environ, "FLEET_INBOX": str(tmp_path), "FLEET_AGENT": "claude-1"}  # no token
    out = subprocess.run([sys.executable, "-m", "fleet_tui.cli", "hook", "claude"], env=env,
                         input=(DATA / "claude_stop.json").read_text(), capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0 and list(tmp_path.iterdir()) == []  # not from a fleet agent


def test_hooks_command_prints_settings() -> None:
    out = subprocess.run([sys.executable, "-m", "fleet_tui.cli", "hooks", "claude"],
                         capture_output=True, text=True, timeout=30)
    body = json.loads(out.stdout)
    assert set(body["hooks"]) == {"SessionStart", "UserPromptSubmit", "Notification", "Stop"}
    assert body["hooks"]["Stop"][0]["hooks"][0]["command"] == "fleet-tui hook claude"
    out = subprocess.run([sys.executable, "-m", "fleet_tui.cli", "hooks", "codex"],
                         capture_output=True, text=True, timeout=30)
    assert 'notify = ["fleet-tui", "hook", "codex"]' in out.stdout
