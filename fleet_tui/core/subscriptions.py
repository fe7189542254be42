"""Subscriptions as a pure rule: which agents are prompted about an appended event.

An agent's ``subscribe:`` entries each name an event type and ``where`` filters on its fields
(``{task: T1}``, ``{column: review}``); a list field matches when it contains the value, a
missing or None field matches only ``""``. When an event matches, the agent gets a prompt
rendered from the entry's ``prompt`` template (default ``DEFAULT_PROMPT``) with ``{type}``,
``{summary}`` (the timeline's line), ``{fields}`` (one ``name: value`` line each) and every
field of the event by name; a template naming something else falls back to the default.

Never prompted: an agent about an event it produced or that is about itself (its own
statuses, prompts, costs: that would feed on itself), and an agent that is not running or is
paused (a pause means "spend nothing more"; the prompt would wait in its terminal). Pane
output is never matched, nor a prompt a subscription sent (two agents subscribed to
``agent.prompted`` would prompt each other forever). The prompt goes out as a ``Prompt``
command, like routing's, and becomes an ``agent.prompted`` whose reason names the
subscription and the event's seq.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from fleet_tui.core import events as ev
from fleet_tui.core.routing import Prompt
from fleet_tui.core.state import FleetState
from fleet_tui.core.summary import summarize

DEFAULT_PROMPT = "Event {type}: {summary}\n{fields}"
#: How the reason of a prompt sent by a subscription starts.
REASON = "subscription:"


class SubscriptionPolicy(msgspec.Struct, frozen=True, kw_only=True):
    agent: str
    event: str
    where: dict[str, str] = {}
    prompt: str = ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


def matches(sub: SubscriptionPolicy, event: ev.Event) -> bool:
    if event.type_name != sub.event:
        return False
    for field, wanted in sub.where.items():
        value = getattr(event, field, None)
        if isinstance(value, list | tuple):
            if wanted not in (_text(v) for v in value):
                return False
        elif _text(value) != wanted:
            return False
    return True


def render(sub: SubscriptionPolicy, event: ev.Event) -> str:
    data = {k: v for k, v in msgspec.to_builtins(event).items() if k != "type"}
    fields = "\n".join(f"{k}: {_text(v)}" for k, v in data.items())
    values = {**{k: _text(v) for k, v in data.items()}, "type": event.type_name,
              "summary": summarize(event), "fields": fields}
    try:
        return (sub.prompt or DEFAULT_PROMPT).format(**values)
    except (KeyError, IndexError, ValueError):
        return DEFAULT_PROMPT.format(**values)


def _about(event: ev.Event, agent: str) -> bool:
    return event.source == ev.agent_source(agent) or getattr(event, "agent", None) == agent


def subscription_prompts(state: FleetState, subs: Sequence[SubscriptionPolicy], event: ev.Event
                         ) -> list[Prompt]:
    """The prompts ``event`` (already appended) sends to subscribed agents."""
    if not event.reacts or (
            isinstance(event, ev.AgentPrompted) and event.reason.startswith(REASON)):
        return []
    prompts: list[Prompt] = []
    for sub in subs:
        agent = state.agents.get(sub.agent)
        if agent is None or not agent.alive or agent.paused or _about(event, sub.agent):
            continue
        if not matches(sub, event):
            continue
        where = "".join(f" {k}={v}" for k, v in sub.where.items())
        prompts.append(Prompt(agent=sub.agent, text=render(sub, event),
                              task=getattr(event, "task", None),
                              reason=f"{REASON} {sub.event}{where} (event #{event.seq})"))
    return prompts
