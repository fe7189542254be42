"""Real costs from Claude Code transcripts and Codex rollout files, in the shapes they are
written: streamed messages repeated under one id, sub-agent lines and files, a torn last
line, files that grow between polls, and followers made again after a restart."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from fleet_tui.adapters.transcripts import (
    ClaudeFollower,
    CodexFollower,
    TranscriptWatcher,
    claude_transcript_path,
)
from fleet_tui.config.loader import load_config
from fleet_tui.core import events as ev
from fleet_tui.core.costs import Price, Usage, count_reported, price_for, usd_for
from fleet_tui.core.fold import fold_all
from tests.helpers import retry_until

DATA = Path(__file__).parent / "data" / "transcripts"
SESSION = "3f2a9c4e-1b7d-4e8a-9c21-7d5e0b6a4f10"

#: What each message in the Claude fixtures cost, counted once: (input, output, cache write,
#: cache read).
CLAUDE_MESSAGES = {
    "msg_01A": (3, 159, 2285, 22137),  # streamed: output 2, 9, then 159
    "msg_01B": (1, 420, 512, 24422),  # two content blocks, the same usage on both
    "msg_01S": (10, 80, 0, 3000),  # an inline sidechain line (older versions)
    "msg_01C": (2, 35, 300, 24934),
    "msg_01T": (120, 60, 4000, 0),  # in the sub-agent's own file
}


def per_message(events: list[ev.Event]) -> dict[str, tuple[int, int, int, int]]:
    sums: dict[str, tuple[int, int, int, int]] = {}
    for e in events:
        assert isinstance(e, ev.CostReported)
        old = sums.get(e.message, (0, 0, 0, 0))
        sums[e.message] = (old[0] + e.input_tokens, old[1] + e.output_tokens,
                           old[2] + e.cache_creation_tokens, old[3] + e.cache_read_tokens)
    return sums


def claude_session(tmp_path: Path) -> Path:
    """The fixtures laid out as Claude Code does: the session file, and its sub-agent's."""
    path = claude_transcript_path("/home/u/p", SESSION, config_dir=str(tmp_path))
    path.parent.mkdir(parents=True)
    shutil.copy(DATA / "claude_session.jsonl", path)
    subagents = path.with_suffix("") / "subagents"
    subagents.mkdir(parents=True)
    shutil.copy(DATA / "claude_subagent.jsonl", subagents / "agent-a1b2c3d.jsonl")
    return path


def test_claude_transcript_counts_each_message_once(tmp_path: Path) -> None:
    follower = ClaudeFollower("dev", claude_session(tmp_path))
    events = follower.poll()
    assert per_message(events) == CLAUDE_MESSAGES
    assert follower.poll() == []
    assert all(e.agent == "dev" and e.source == "hook:claude" for e in events)
    models = {e.message: e.model for e in events}
    assert models["msg_01A"] == "claude-sonnet-4-5-20250929"
    assert models["msg_01T"] == "claude-haiku-4-5-20251001"
    assert {e.message for e in events if e.sidechain} == {"msg_01S", "msg_01T"}
    sonnet = [e for e in events if e.model.startswith("claude-sonnet")]
    expected = sum(usd_for(Usage(input_tokens=i, output_tokens=o, cache_creation_tokens=w,
                                 cache_read_tokens=r), price_for("claude-sonnet-4-5"))
                   for m, (i, o, w, r) in CLAUDE_MESSAGES.items() if m in ("msg_01A", "msg_01B", "msg_01C"))
    assert sum(e.usd for e in sonnet) == pytest.approx(expected)
    assert expected == pytest.approx((6 * 3 + 614 * 15 + 3097 * 3.75 + 71493 * 0.3) / 1e6)


def test_the_agents_card_model_and_costs_follow_the_transcript(tmp_path: Path) -> None:
    events = ClaudeFollower("dev", claude_session(tmp_path)).poll()
    state = fold_all([ev.AgentSpawned(agent="dev", model="sonnet"), *events])
    agent = state.agents["dev"]
    assert agent.model == "sonnet" and agent.shown_model == "claude-sonnet-4-5-20250929"
    assert agent.cost.input_tokens == sum(m[0] for m in CLAUDE_MESSAGES.values())
    assert agent.cost.output_tokens == sum(m[1] for m in CLAUDE_MESSAGES.values())
    assert agent.cost.usd == pytest.approx(sum(e.usd for e in events)) and agent.cost.usd > 0


def test_a_growing_transcript_is_read_from_where_it_stopped(tmp_path: Path) -> None:
    """Written in three steps, the last line of each torn in the middle: the same events as
    one read, and what was read before is never read again."""
    lines = (DATA / "claude_session.jsonl").read_bytes()
    path = tmp_path / f"{SESSION}.jsonl"
    follower = ClaudeFollower("dev", path)
    assert follower.poll() == []  # not written yet
    cuts = [lines.index(b'"msg_01A"') + 40, lines.index(b'"msg_01C"') + 10, len(lines)]
    events: list[ev.Event] = []
    done = 0
    for cut in cuts:
        with open(path, "ab") as f:
            f.write(lines[done:cut])
        done = cut
        events += follower.poll()
        if cut < len(lines):  # blank out what was read: a re-read would find nothing there
            read = lines.rindex(b"\n", 0, cut) + 1
            with open(path, "r+b") as f:
                f.write(b" " * (read - 1) + b"\n")
    assert per_message(events) == {m: c for m, c in CLAUDE_MESSAGES.items() if m != "msg_01T"}
    assert follower.poll() == []


def test_a_torn_last_line_waits_for_its_end(tmp_path: Path) -> None:
    lines = (DATA / "claude_session.jsonl").read_bytes().splitlines(keepends=True)
    last_message = next(i for i, line in enumerate(lines) if b'"msg_01C"' in line)
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"".join(lines[:last_message]) + lines[last_message][:-30])
    follower = ClaudeFollower("dev", path)
    assert "msg_01C" not in per_message(follower.poll())
    with open(path, "ab") as f:
        f.write(lines[last_message][-30:])
    [event] = follower.poll()
    assert isinstance(event, ev.CostReported) and event.message == "msg_01C"


def test_a_restarted_follower_reports_only_what_is_new(tmp_path: Path) -> None:
    path = claude_session(tmp_path)
    before = ClaudeFollower("dev", path).poll()
    again = ClaudeFollower("dev", path, counted=count_reported(before)["dev"])
    assert again.poll() == []
    with open(path, "a") as f:  # msg_01C's usage grows in a later line
        f.write((DATA / "claude_session.jsonl").read_text().splitlines()[-2]
                .replace('"output_tokens":35', '"output_tokens":50') + "\n")
    [event] = again.poll()
    assert isinstance(event, ev.CostReported)
    assert (event.message, event.output_tokens, event.input_tokens, event.cache_read_tokens) == (
        "msg_01C", 15, 0, 0)


def test_a_turn_that_failed_costs_nothing() -> None:
    """Lines of a real transcript (claude 2.1.197, not logged in): a synthetic reply."""
    assert ClaudeFollower("dev", DATA / "claude_not_logged_in.jsonl").poll() == []


def test_garbage_lines_cost_nothing(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('\n'.join([
        'not json "usage"', '[1, "usage"]', '{"type": "assistant", "message": "usage"}',
        '{"type": "assistant", "message": {"id": "m", "usage": {"input_tokens": -5, '
        '"output_tokens": "9", "cache_read_input_tokens": true}}}',
        '{"type": "user", "message": {"usage": {"input_tokens": 5}}}',
    ]) + "\n")
    assert ClaudeFollower("dev", path).poll() == []


def test_codex_rollout_totals_become_what_each_turn_added(tmp_path: Path) -> None:
    path = tmp_path / "rollout-2026-11-29T17-40-02-0199a213-81c0-7800-8aa1-bbab2a035a53.jsonl"
    lines = (DATA / "codex_rollout.jsonl").read_text().splitlines(keepends=True)
    follower = CodexFollower("cx", path)
    events: list[ev.Event] = []
    for part in (lines[:8], lines[8:]):  # the first turn (its total twice), then the second
        with open(path, "a") as f:
            f.writelines(part)
        events += follower.poll()
    assert [(e.model, e.input_tokens, e.cache_read_tokens, e.output_tokens) for e in events] == [
        ("gpt-5-codex", 4000, 8000, 500),  # input_tokens includes the cached ones
        ("gpt-5-codex", 6000, 12000, 1000),  # the repeated total added nothing
    ]
    assert events[0].usd == pytest.approx((4000 * 1.25 + 8000 * 0.125 + 500 * 10) / 1e6)
    assert {e.message for e in events} == {path.name}
    again = CodexFollower("cx", path, counted=count_reported(events)["cx"])
    assert again.poll() == []
    [whole] = CodexFollower("cx", path).poll()  # read at once: one event for the session
    assert (whole.input_tokens, whole.cache_read_tokens, whole.output_tokens) == (10000, 20000, 1500)


def test_codex_0_171_turn_context_names_the_model(tmp_path: Path) -> None:
    """A turn_context line as codex 0.171 writes it, then a turn's total."""
    path = tmp_path / "rollout-2026-11-29T17-46-41-01a2286a-8e3b-7361-b82a-1c31a338119f.jsonl"
    totals = (DATA / "codex_rollout.jsonl").read_text().splitlines(keepends=True)[6]
    path.write_text((DATA / "codex_turn_context_0_171.jsonl").read_text() + totals)
    [event] = CodexFollower("cx", path).poll()
    assert isinstance(event, ev.CostReported) and event.model == "gpt-5-codex"


def test_fleet_yaml_prices_override_the_defaults(tmp_path: Path) -> None:
    config = tmp_path / "fleet.yaml"
    config.write_text("fleet: f\nprices:\n  claude-sonnet-4-5: {input: 1, output: 2}\n"
                      "  my-local-model: {input: 0, output: 0}\n")
    prices = load_config(config).config.prices
    assert prices["claude-sonnet-4-5"] == Price(input=1, output=2)
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000, cache_read_tokens=1_000_000)
    assert usd_for(usage, price_for("claude-sonnet-4-5-20250929", prices)) == pytest.approx(3.1)
    assert usd_for(usage, price_for("claude-sonnet-4-20250514", prices)) == pytest.approx(18.3)
    assert price_for("anthropic/claude-opus-4-1-20250805") == price_for("claude-opus-4")
    assert price_for("claude-opus-4-5-20251101").input == 5
    assert price_for("gpt-5-mini").output == 2 and price_for("o3-mini").input == 1.1
    assert price_for("someone-elses-model") is None and usd_for(usage, None) == 0.0


def test_the_watcher_reports_lines_as_they_are_written(tmp_path: Path) -> None:
    got: list[ev.Event] = []
    lock = threading.Lock()

    def take(events: list[ev.Event]) -> None:
        with lock:
            got.extend(events)

    path = tmp_path / "rollout-x.jsonl"
    path.write_text("")
    watcher = TranscriptWatcher(take, every=0.5)
    assert watcher.follow("cx", "codex", str(path))
    assert not watcher.follow("cx", "aider", str(path))
    assert not watcher.follow("cx", "codex", "relative.jsonl")
    watcher.start()
    try:
        lines = (DATA / "codex_rollout.jsonl").read_text().splitlines(keepends=True)
        with open(path, "a") as f:
            f.writelines(lines[:8])
        retry_until(lambda: len(got) == 1, message="the first turn's cost")
        with open(path, "a") as f:
            f.writelines(lines[8:])
        retry_until(lambda: len(got) == 2, message="the second turn's cost")
    finally:
        watcher.stop()
    assert [e.output_tokens for e in got] == [500, 1000]


def test_the_watcher_follows_what_hooks_report_and_resumes_after_a_restart(tmp_path: Path) -> None:
    got: list[ev.Event] = []
    path = claude_session(tmp_path)
    log: list[ev.Event] = [ev.AgentSpawned(agent="dev", model="sonnet"),
                           ev.AgentSession(agent="dev", tool="claude", session_id=SESSION,
                                           transcript=str(path))]
    first = TranscriptWatcher(got.extend)
    for event in log:
        first.observe(event)
    first.poll()
    assert per_message(got) == CLAUDE_MESSAGES
    log += got
    got.clear()
    second = TranscriptWatcher(got.extend)  # the daemon started again, on the same log
    counted: dict[str, dict[str, Usage]] = {}
    for block in (log[:4], log[4:]):  # read block by block
        count_reported(block, counted)
    second.resume(fold_all(log), counted)
    second.poll()
    assert got == []
    with open(path.with_suffix("") / "subagents" / "agent-a1b2c3d.jsonl", "a") as f:
        f.write((DATA / "claude_subagent.jsonl").read_text().replace("msg_01T", "msg_01U"))
    second.poll()
    assert per_message(got) == {"msg_01U": CLAUDE_MESSAGES["msg_01T"]}


def test_a_real_transcripts_costs_pause_an_agent_over_budget(tmp_path: Path) -> None:
    from fleet_tui.core.budgets import BudgetPolicy, Pause
    from tests.world import World

    w = World(budgets={"dev": BudgetPolicy(usd=0.04)})  # type: ignore[arg-type]
    w.apply(ev.AgentSpawned(agent="dev", roles=["developer"]), ev.AgentStarted(agent="dev", pane="%1"))
    for event in ClaudeFollower("dev", claude_session(tmp_path)).poll():
        w.apply(event)  # one at a time, as the daemon submits them
    assert w.state.agents["dev"].cost.usd > 0.04
    [pause] = [c for c in w.commands if isinstance(c, Pause)]  # once, where it went over
    assert pause.agent == "dev" and pause.reason.startswith("budget: usd ")
