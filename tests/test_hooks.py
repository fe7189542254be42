"""Hook payloads from Claude Code and Codex, as they document them, through `fleet-tui hook`;
and the argv a fleet spawns them with (their model option and fleet-tui's hooks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fleet_tui.config.resolve import resolve_agent
from fleet_tui.config.schema import AgentSpec, FleetConfig
from fleet_tui.core import events as ev
from fleet_tui.core.inbox_rules import InboxMessage, message_to_events

DATA = Path(__file__).parent / "data" / "hooks"


def run_hook(tool: str, inbox: Path, stdin: str = "", args: tuple[str, ...] = (),
             agent: str = "claude-1", env: dict[str, str] | None = None,
             ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLEET_INBOX": str(inbox), "FLEET_AGENT": agent, **(env or {})}
    return subprocess.run([sys.executable, "-m", "fleet_tui.cli", "hook", tool, *args], input=stdin,
                          env=env, capture_output=True, text=True, timeout=30)


def messages(inbox: Path) -> list[InboxMessage]:
    import msgspec

    return [msgspec.json.decode(p.read_bytes(), type=InboxMessage) for p in inbox.iterdir()]


def only_message(inbox: Path) -> InboxMessage:
    [msg] = messages(inbox)
    return msg


def hook_events(inbox: Path) -> list[ev.Event]:
    """The events the hook's messages become, statuses last (the order does not matter)."""
    events = [e for m in messages(inbox) for e in message_to_events(m)]
    return sorted(events, key=lambda e: isinstance(e, ev.AgentStatus))


@pytest.mark.parametrize(("payload", "status"), [
    ("claude_session_start.json", "idle"),
    ("claude_prompt.json", "working"),
    ("claude_notification.json", "waiting"),
    ("claude_idle_notification.json", "idle"),
    ("claude_stop.json", "idle"),
    ("claude_permission_prompt.json", "waiting"),
    ("claude_idle_prompt.json", "idle"),
    ("claude_pre_tool_edit.json", "working"),
    ("claude_stop_failure.json", "waiting"),  # captured from claude 2.1.197, not logged in
    ("claude_session_start_2_1_197.json", "idle"),
])
def test_claude_hook_payloads_become_explicit_statuses(tmp_path: Path, payload: str, status: str) -> None:
    out = run_hook("claude", tmp_path, stdin=(DATA / payload).read_text())
    assert out.returncode == 0, out.stderr
    event = hook_events(tmp_path)[-1]
    assert isinstance(event, ev.AgentStatus)
    assert (event.agent, event.status, event.explicit, event.source) == (
        "claude-1", status, True, "hook:claude")


def test_claude_session_start_says_where_the_transcript_is_and_the_model(tmp_path: Path) -> None:
    payload = json.loads((DATA / "claude_session_start_model.json").read_text())
    out = run_hook("claude", tmp_path, stdin=json.dumps(payload))
    assert out.returncode == 0, out.stderr
    session, status = hook_events(tmp_path)
    assert isinstance(session, ev.AgentSession) and isinstance(status, ev.AgentStatus)
    assert (session.agent, session.tool, session.session_id, session.transcript, session.model) == (
        "claude-1", "claude", payload["session_id"], payload["transcript_path"],
        "claude-sonnet-4-5-20250929")
    assert status.status == "idle" and session.source == "hook:claude"


def test_claude_transcript_is_found_from_cwd_and_session_when_the_payload_lacks_it(
        tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    payload = json.loads((DATA / "claude_session_start_model.json").read_text())
    del payload["transcript_path"]
    payload["cwd"] = "/home/u/my.project"
    out = run_hook("claude", inbox, stdin=json.dumps(payload),
                   env={"CLAUDE_CONFIG_DIR": str(tmp_path / "cc")})
    assert out.returncode == 0, out.stderr
    session = hook_events(inbox)[0]
    assert isinstance(session, ev.AgentSession)
    assert session.transcript == str(tmp_path / "cc" / "projects" / "-home-u-my-project"
                                     / f"{payload['session_id']}.jsonl")


def test_a_finished_file_edit_says_what_the_agent_touched(tmp_path: Path) -> None:
    out = run_hook("claude", tmp_path, stdin=(DATA / "claude_post_tool_write.json").read_text())
    assert out.returncode == 0, out.stderr
    touched, status = hook_events(tmp_path)
    assert isinstance(touched, ev.AgentTouched) and touched.path == "/home/u/p/notes.md"
    assert isinstance(status, ev.AgentStatus) and status.status == "working"
    assert status.reason == "edited /home/u/p/notes.md"


def test_codex_notify_payload_becomes_idle_with_the_last_message(tmp_path: Path) -> None:
    out = run_hook("codex", tmp_path, args=((DATA / "codex_turn_complete.json").read_text(),),
                   agent="codex", env={"CODEX_HOME": str(tmp_path / "no-codex-home")})
    assert out.returncode == 0, out.stderr
    [event] = message_to_events(only_message(tmp_path))
    assert isinstance(event, ev.AgentStatus) and event.status == "idle"
    assert event.reason.startswith("Rename complete") and event.source == "hook:codex"


def test_codex_notify_names_the_sessions_rollout_file(tmp_path: Path) -> None:
    inbox, home = tmp_path / "inbox", tmp_path / "codex"
    inbox.mkdir()
    payload = json.loads((DATA / "codex_turn_complete.json").read_text())
    day = home / "sessions" / "2026" / "11" / "29"
    day.mkdir(parents=True)
    rollout = day / f"rollout-2026-11-29T17-40-02-{payload['thread-id']}.jsonl"
    rollout.write_text("")
    (day / "rollout-2026-11-29T17-41-00-00000000-0000-0000-0000-000000000000.jsonl").write_text("")
    out = run_hook("codex", inbox, args=(json.dumps(payload),), agent="codex",
                   env={"CODEX_HOME": str(home)})
    assert out.returncode == 0, out.stderr
    session, status = hook_events(inbox)
    assert isinstance(session, ev.AgentSession) and isinstance(status, ev.AgentStatus)
    assert (session.tool, session.session_id, session.transcript) == (
        "codex", payload["thread-id"], str(rollout))


def test_hooks_never_break_the_cli(tmp_path: Path) -> None:
    assert run_hook("claude", tmp_path, stdin="not json").returncode == 0
    assert run_hook("codex", tmp_path, args=("[1,2]",)).returncode == 0
    odd = {"hook_event_name": "PostToolUse", "tool_name": "Edit", "tool_input": ["x"],
           "session_id": 7, "transcript_path": {"a": 1}}
    assert run_hook("claude", tmp_path, stdin=json.dumps(odd)).returncode == 0
    assert [m.type for m in messages(tmp_path)] == ["status"]
    for path in tmp_path.iterdir():
        path.unlink()
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("")
    assert run_hook("claude", blocked, stdin="{\"hook_event_name\": \"Stop\"}").returncode == 0
    blocked.unlink()
    assert list(tmp_path.iterdir()) == []
    env = {k: v for k, v in os.environ.items() if k != "FLEET_INBOX"}
    out = subprocess.run([sys.executable, "-m", "fleet_tui.cli", "hook", "claude"], input="{}",
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stderr == ""


HOOK = f"{sys.executable} -m fleet_tui.cli hook"


def test_hooks_command_prints_settings_and_where_they_go_safely() -> None:
    out = subprocess.run([sys.executable, "-m", "fleet_tui.cli", "hooks", "claude"],
                         capture_output=True, text=True, timeout=30)
    body = json.loads(out.stdout)
    assert set(body["hooks"]) == {"SessionStart", "UserPromptSubmit", "Notification", "Stop",
                                  "StopFailure", "PreToolUse", "PostToolUse"}
    assert body["hooks"]["Stop"][0]["hooks"][0]["command"] == f"{HOOK} claude"
    assert body["hooks"]["PostToolUse"][0]["matcher"] == "Edit|Write|MultiEdit|NotebookEdit"
    assert ".claude/settings.local.json" in out.stderr
    out = subprocess.run([sys.executable, "-m", "fleet_tui.cli", "hooks", "codex"],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout == f"notify = {json.dumps([*HOOK.split(), 'codex'])}\n"
    assert "before any [table]" in out.stderr


def launch(command: list[str], **spec: object) -> list[str]:
    config = FleetConfig(fleet="f", agents=[AgentSpec(name="a", command=command, **spec)])
    return resolve_agent(config.agents[0], config, Path("/tmp")).command


def test_a_claude_agent_is_spawned_with_its_model_and_fleet_tuis_hooks() -> None:
    argv = launch(["claude", "--permission-mode", "plan"], model="opus")
    assert argv[:3] == ["claude", "--model", "opus"]
    assert argv[3] == "--settings" and argv[5:] == ["--permission-mode", "plan"]
    hooks = json.loads(argv[4])["hooks"]
    assert set(hooks) == {"SessionStart", "UserPromptSubmit", "Notification", "Stop",
                          "StopFailure", "PreToolUse", "PostToolUse"}
    assert hooks["PreToolUse"][0]["hooks"][0] == {"type": "command", "command": f"{HOOK} claude",
                                                  "timeout": 10, "async": True}
    assert hooks["Stop"][0]["hooks"][0] == {"type": "command", "command": f"{HOOK} claude",
                                            "timeout": 10}  # in order, and not lost at exit


def test_a_codex_agent_gets_its_model_and_notify_as_per_run_options() -> None:
    argv = launch(["/usr/local/bin/codex", "fix the tests"], model="gpt-5-codex")
    assert argv == ["/usr/local/bin/codex", "--model", "gpt-5-codex",
                    "-c", f"notify={json.dumps([*HOOK.split(), 'codex'])}", "fix the tests"]


@pytest.mark.parametrize(("command", "model", "expected"), [
    (["aider", "--yes"], "sonnet", ["aider", "--model", "sonnet", "--yes"]),
    (["gemini"], "gemini-2.5-pro", ["gemini", "--model", "gemini-2.5-pro"]),
    (["opencode"], "anthropic/claude-sonnet-4-5", ["opencode", "--model", "anthropic/claude-sonnet-4-5"]),
    (["aider", "--model=gpt-4.1"], "sonnet", ["aider", "--model=gpt-4.1"]),  # the command's own wins
    (["codex", "-m", "o3", "-c", "notify=[]"], "gpt-5", ["codex", "-m", "o3", "-c", "notify=[]"]),
    (["claude", "--settings", "mine.json", "--model", "haiku"], "opus",
     ["claude", "--settings", "mine.json", "--model", "haiku"]),
    (["bash", "-l"], "x", ["bash", "-l"]),  # no model option: only $FLEET_MODEL
    (["python", "agent.py"], "x", ["python", "agent.py"]),
])
def test_model_option_is_added_unless_the_command_has_one(command: list[str], model: str,
                                                           expected: list[str]) -> None:
    assert launch(command, model=model) == expected


@pytest.mark.parametrize(("command", "preset"), [
    (["claude"], "claude"), (["/home/u/.local/bin/codex", "exec"], "codex"), (["aider"], "aider"),
    (["gemini"], "gemini"), (["opencode"], "opencode"), (["bash", "-l"], "shell"),
    (["/bin/zsh"], "shell"), (["fish"], "shell"), (["sh", "-c", "make"], "shell"),
    (["-bash"], "shell"), (["python", "-m", "x"], "none"),
])
def test_the_preset_follows_from_the_program_name(command: list[str], preset: str) -> None:
    config = FleetConfig(fleet="f", agents=[AgentSpec(name="a", command=command)])
    assert resolve_agent(config.agents[0], config, Path("/tmp")).preset == preset


def test_a_preset_that_is_set_wins_and_none_means_no_hooks() -> None:
    config = FleetConfig(fleet="f", agents=[AgentSpec(name="a", command=["claude"], preset="none",
                                                      model="opus")])
    launched = resolve_agent(config.agents[0], config, Path("/tmp"))
    assert launched.preset == "none" and launched.command == ["claude"]


@pytest.mark.parametrize(("kind", "data", "why"), [
    ("session", {"tool": "claude", "transcript": "../../etc/passwd"}, "absolute .jsonl"),
    ("session", {"tool": "claude", "transcript": "/etc/passwd"}, "absolute .jsonl"),
    ("touched", {"tool": "claude"}, "needs a path"),
])
def test_hook_messages_that_make_no_sense_are_refused(kind: str, data: dict[str, str],
                                                      why: str) -> None:
    from fleet_tui.core.inbox_rules import InboxRejected

    with pytest.raises(InboxRejected, match=why):
        message_to_events(InboxMessage(id="m1", type=kind, agent="a", hook="claude", data=data))
