"""The checks a fleet.yaml must pass beyond its types: names, references, durations, patterns.

``check_config`` returns the first problem as ``(path, message, on_key)`` — ``path`` as a tuple
into the YAML data, ``on_key`` when the key rather than the value should be pointed at — or
None. The loader turns it into a positioned ConfigError.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from fleet_tui.config.actions import ACTIONS
from fleet_tui.config.resolve import agent_names
from fleet_tui.config.schema import FleetConfig, duration_seconds

Problem = tuple[tuple[Any, ...], str, bool]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _agents(config: FleetConfig) -> Problem | None:
    seen: dict[str, int] = {}
    for i, spec in enumerate(config.agents):
        if not _NAME.match(spec.name):
            return (("agents", i, "name"),
                    f"'{spec.name}' is not a valid agent name (letters, digits, '_', '.', '-'; "
                    "starting with a letter or digit)", False)
        if not spec.command or not spec.command[0]:
            return ("agents", i, "command"), "the command must not be empty", False
        if spec.replicas < 1:
            return ("agents", i, "replicas"), "replicas must be 1 or more", False
        for name in agent_names(spec):
            if name in seen:
                other = config.agents[seen[name]].name
                return (("agents", i, "name"),
                        f"duplicate agent name '{name}' (also defined by agents[{seen[name]}] "
                        f"'{other}')", False)
            seen[name] = i
        if (p := _agent_details(config, i)) is not None:
            return p
    return None


def _agent_details(config: FleetConfig, i: int) -> Problem | None:
    spec = config.agents[i]
    if spec.stall_after is not None and (p := _duration(spec.stall_after, ("agents", i, "stall_after"))):
        return p
    if spec.budget is not None:
        for field in ("tokens", "usd", "minutes"):
            value = getattr(spec.budget, field)
            if value is not None and value <= 0:
                return ("agents", i, "budget", field), "a budget must be more than 0", False
    if spec.max_tasks is not None and spec.max_tasks < 1:
        return ("agents", i, "max_tasks"), "max_tasks must be 1 or more", False
    if spec.status_patterns is not None:
        for kind in ("waiting", "working", "idle", "done"):
            for j, pattern in enumerate(getattr(spec.status_patterns, kind)):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    return (("agents", i, "status_patterns", kind, j),
                            f"invalid regular expression: {exc}", False)
    return None


def _duration(value: Any, path: tuple[Any, ...]) -> Problem | None:
    try:
        seconds = duration_seconds(value)
    except ValueError:
        return path, f"'{value}' is not a duration (use seconds, or like 90s, 10m, 1h)", False
    if seconds <= 0:
        return path, "a duration must be more than 0", False
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
    ids = {}
    for i, task in enumerate(config.tasks):
        if task.id in ids:
            return ("tasks", i, "id"), f"duplicate task id '{task.id}'", False
        ids[task.id] = i
    for i, task in enumerate(config.tasks):
        for j, dep in enumerate(task.blocked_by):
            if dep not in ids:
                return ("tasks", i, "blocked_by", j), f"unknown task '{dep}'", False
            if dep == task.id:
                return ("tasks", i, "blocked_by", j), "a task cannot be blocked by itself", False
        if task.column not in stages and task.column != "blocked":
            return (("tasks", i, "column"),
                    f"unknown column '{task.column}' (stages: {_list(stages)}, blocked)", False)
        if task.role and task.role not in roles:
            return (("tasks", i, "role"),
                    f"unknown role '{task.role}' (no agent has it; roles: {_list(roles)})", False)
    return None


def _keymap(config: FleetConfig) -> Problem | None:
    for action, key in config.keymap.items():
        if action not in ACTIONS:
            close = difflib.get_close_matches(action, ACTIONS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"actions: {', '.join(ACTIONS)}"
            return ("keymap", action), f"unknown action '{action}' ({hint})", True
        if not key.strip():
            return ("keymap", action), "a key must not be empty", False
    return None


def check_config(config: FleetConfig, data: dict[str, Any]) -> Problem | None:
    if not config.fleet.strip() or not _NAME.match(config.fleet):
        return ("fleet",), f"'{config.fleet}' is not a valid fleet name", False
    if not config.theme.strip():
        return ("theme",), "the theme must not be empty", False
    if (p := _duration(config.defaults.stall_after, ("defaults", "stall_after"))) is not None:
        return p
    roles = {r for spec in config.agents for r in spec.roles}
    stages = {s.name for s in config.routing.stages}
    for check in (lambda: _agents(config), lambda: _routing(config, roles),
                  lambda: _approvals(config, stages), lambda: _tasks(config, roles, stages),
                  lambda: _keymap(config)):
        if (problem := check()) is not None:
            return problem
    return None
