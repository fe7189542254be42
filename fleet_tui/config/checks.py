"""The checks a fleet.yaml must pass beyond its types: names, references, durations, patterns.

``check_config`` returns the first problem as ``(path, message, on_key)`` — ``path`` as a tuple
into the YAML data, ``on_key`` when the key rather than the value should be pointed at — or
None. The loader turns it into a positioned ConfigError.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from typing import Any

import msgspec

from fleet_tui.config.actions import KNOWN_ACTIONS
from fleet_tui.config.resolve import agent_names
from fleet_tui.config.schema import AgentSpec, Budget, Defaults, FleetConfig, TaskSpec, duration_seconds
from fleet_tui.core.events import EVENTS_BY_TYPE

Problem = tuple[tuple[Any, ...], str, bool]

#: Agent and fleet names become tmux session/socket names and file names.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")  # no '.': tmux turns it into '_' in session names
_NAME_RULE = "letters, digits, '_', '-'; starting with a letter or digit"

#: The smallest value of each count an agent or the defaults may set.
_MINIMUMS = {"replicas": 1, "max_tasks": 1, "max_restarts": 0, "width": 1, "height": 1,
             "history_limit": 0}


def _hint(word: str, known: Iterable[str], label: str) -> str:
    known = list(known)
    close = difflib.get_close_matches(word, known, n=1)
    return f"did you mean '{close[0]}'?" if close else f"{label}: {', '.join(known) or 'none'}"


def _counts(spec: AgentSpec | Defaults, path: tuple[Any, ...]) -> Problem | None:
    for field, least in _MINIMUMS.items():
        value = getattr(spec, field, None)
        if value is not None and value < least:
            return (*path, field), f"{field} must be {least} or more", False
    return None


def _duration(value: Any, path: tuple[Any, ...]) -> Problem | None:
    try:
        seconds = duration_seconds(value)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds):
        return path, f"'{value}' is not a duration (use seconds, or like 90s, 10m, 1h)", False
    if seconds <= 0:
        return path, "a duration must be more than 0", False
    return None


def _agents(config: FleetConfig) -> Problem | None:
    seen: dict[str, int] = {}
    for i, spec in enumerate(config.agents):
        if not _NAME.match(spec.name):
            return ("agents", i, "name"), f"'{spec.name}' is not a valid agent name ({_NAME_RULE})", False
        if not spec.command or not spec.command[0]:
            return ("agents", i, "command"), "the command must not be empty", False
        if (p := _counts(spec, ("agents", i))) is not None:
            return p
        for name in agent_names(spec):
            if name in seen:
                other = config.agents[seen[name]].name
                return (("agents", i, "name"),
                        f"duplicate agent name '{name}' (also defined by agents[{seen[name]}] "
                        f"'{other}')", False)
            seen[name] = i
        if (p := _agent_details(spec, ("agents", i))) is not None:
            return p
    return None


def _budget(budget: Budget | None, at: tuple[Any, ...]) -> Problem | None:
    for field in Budget.__struct_fields__ if budget is not None else ():
        value = getattr(budget, field)
        if value is not None and value <= 0:
            return (*at, "budget", field), "a budget must be more than 0", False
    return None


def _agent_details(spec: AgentSpec, at: tuple[Any, ...]) -> Problem | None:
    if spec.stall_after is not None and (p := _duration(spec.stall_after, (*at, "stall_after"))):
        return p
    if (p := _budget(spec.budget, at)) is not None:
        return p
    if spec.status_patterns is not None:
        for kind in ("waiting", "working", "idle", "done"):
            for j, pattern in enumerate(getattr(spec.status_patterns, kind)):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    return (*at, "status_patterns", kind, j), f"invalid regular expression: {exc}", False
    return _subscriptions(spec, at)


def _subscriptions(spec: AgentSpec, at: tuple[Any, ...]) -> Problem | None:
    for j, sub in enumerate(spec.subscribe):
        event = EVENTS_BY_TYPE.get(sub.event)
        if event is None:
            hint = _hint(sub.event, EVENTS_BY_TYPE, "event types")
            return (*at, "subscribe", j, "event"), f"unknown event type '{sub.event}' ({hint})", False
        if not event.reacts:
            return ((*at, "subscribe", j, "event"),
                    f"{sub.event} cannot be subscribed to (pane output prompts nobody)", False)
        fields = [f.encode_name for f in msgspec.structs.fields(event)]
        for key in sub.where:
            if key not in fields:
                return ((*at, "subscribe", j, "where", key),
                        f"'{sub.event}' has no field '{key}' ({_hint(key, fields, 'fields')})", True)
    return None


def _routing(config: FleetConfig, roles: set[str]) -> Problem | None:
    stages: set[str] = set()
    for i, stage in enumerate(config.routing.stages):
        if stage.name in stages:
            return ("routing", "stages", i, "name"), f"duplicate stage '{stage.name}'", False
        stages.add(stage.name)
        for j, role in enumerate(stage.roles):
            if role not in roles:
                return (("routing", "stages", i, "roles", j),
                        f"unknown role '{role}' (no agent has it; roles: {_list(roles)})", False)
    if not stages:
        return ("routing", "stages"), "the pipeline needs at least one stage", False
    return None


def _list(names: set[str]) -> str:
    return ", ".join(sorted(names)) or "none"


def _approvals(config: FleetConfig, stages: set[str]) -> Problem | None:
    for i, gate in enumerate(config.approvals):
        if gate.from_ is None and gate.to is None and gate.tag is None:
            return ("approvals", i), "an approval needs at least one of from, to, tag", False
        for key, value in (("from", gate.from_), ("to", gate.to)):
            if value is not None and value not in stages:
                return (("approvals", i, key),
                        f"unknown stage '{value}' (stages: {_list(stages)})", False)
    return None


def _tasks(config: FleetConfig, roles: set[str], stages: set[str]) -> Problem | None:
    ids: dict[str, TaskSpec] = {}
    for i, task in enumerate(config.tasks):
        if task.id in ids:
            return ("tasks", i, "id"), f"duplicate task id '{task.id}'", False
        ids[task.id] = task
    for i, task in enumerate(config.tasks):
        for j, dep in enumerate(task.blocked_by):
            if dep not in ids:
                return ("tasks", i, "blocked_by", j), f"unknown task '{dep}'", False
        if task.column not in stages and task.column != "blocked":
            return (("tasks", i, "column"),
                    f"unknown column '{task.column}' (stages: {_list(stages)}, blocked)", False)
        if task.role and task.role not in roles:
            return (("tasks", i, "role"),
                    f"unknown role '{task.role}' (no agent has it; roles: {_list(roles)})", False)
    return _cycles(config.tasks, ids)


def _cycles(tasks: list[TaskSpec], ids: dict[str, TaskSpec]) -> Problem | None:
    """A task blocked, through any chain of ``blocked_by``, by itself."""
    for i, task in enumerate(tasks):
        for j, first in enumerate(task.blocked_by):
            trail = _path_to(first, task.id, ids)
            if trail is not None:
                cycle = " -> ".join([task.id, *trail])
                return ("tasks", i, "blocked_by", j), f"a dependency cycle: {cycle}", False
    return None


def _path_to(start: str, goal: str, ids: dict[str, TaskSpec]) -> list[str] | None:
    """The chain of ``blocked_by`` links from ``start`` to ``goal`` (both included), if any."""
    stack, seen = [[start]], {start}
    while stack:
        trail = stack.pop()
        if trail[-1] == goal:
            return trail
        for dep in ids[trail[-1]].blocked_by:
            if dep not in seen:
                seen.add(dep)
                stack.append([*trail, dep])
    return None


def _keymap(config: FleetConfig) -> Problem | None:
    for action, key in config.keymap.items():
        if action not in KNOWN_ACTIONS:
            hint = _hint(action, KNOWN_ACTIONS, "actions")
            return ("keymap", action), f"unknown action '{action}' ({hint})", True
        if not key.strip():
            return ("keymap", action), "a key must not be empty", False
    return None


def _top(config: FleetConfig) -> Problem | None:
    if not _NAME.match(config.fleet):
        return ("fleet",), f"'{config.fleet}' is not a valid fleet name ({_NAME_RULE})", False
    if not config.theme.strip():
        return ("theme",), "the theme must not be empty", False
    if (p := _duration(config.defaults.stall_after, ("defaults", "stall_after"))) is not None:
        return p
    if (p := _budget(config.defaults.budget, ("defaults",))) is not None:
        return p
    return _counts(config.defaults, ("defaults",))


def check_config(config: FleetConfig) -> Problem | None:
    roles = {r for spec in config.agents for r in spec.roles}
    stages = {s.name for s in config.routing.stages}
    for check in (lambda: _top(config), lambda: _agents(config), lambda: _routing(config, roles),
                  lambda: _approvals(config, stages), lambda: _tasks(config, roles, stages),
                  lambda: _keymap(config)):
        if (problem := check()) is not None:
            return problem
    return None
