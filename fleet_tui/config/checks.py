"""The checks a fleet.yaml must pass beyond its types: names, references, ranges, patterns.

Every number is finite and within the ranges of ``limits.py``, so a config that validates also
runs (no 10^20-column pane, no NaN budget, no billion replicas).

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
from fleet_tui.config.hosts import check_hosts
from fleet_tui.config.limits import (
    BUDGET_MAXIMUMS,
    COUNT_RANGES,
    MAX_AGENTS,
    MAX_DURATION,
    MAX_PATTERN_TEXT,
)
from fleet_tui.config.resolve import agent_names
from fleet_tui.config.schema import AgentSpec, Budget, Defaults, FleetConfig, TaskSpec, duration_seconds
from fleet_tui.core.events import EVENTS_BY_TYPE
from fleet_tui.core.merge_rules import RUNNER

Problem = tuple[tuple[Any, ...], str, bool]

#: Agent and fleet names become tmux session/socket names and file names.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")  # no '.': tmux turns it into '_' in session names
_NAME_RULE = "letters, digits, '_', '-'; starting with a letter or digit"

def _hint(word: str, known: Iterable[str], label: str) -> str:
    known = list(known)
    close = difflib.get_close_matches(word, known, n=1)
    return f"did you mean '{close[0]}'?" if close else f"{label}: {', '.join(known) or 'none'}"


def _counts(spec: AgentSpec | Defaults, path: tuple[Any, ...]) -> Problem | None:
    for field, (least, most) in COUNT_RANGES.items():
        value = getattr(spec, field, None)
        if value is not None and value < least:
            return (*path, field), f"{field} must be {least} or more", False
        if value is not None and value > most:
            return (*path, field), f"{field} must be {most} or less", False
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
    if seconds > MAX_DURATION:
        return path, f"a duration must be at most {MAX_DURATION / 86400:g} days", False
    return None


def _agents(config: FleetConfig) -> Problem | None:
    seen: dict[str, int] = {}
    total = 0
    for i, spec in enumerate(config.agents):
        if not _NAME.match(spec.name):
            return ("agents", i, "name"), f"'{spec.name}' is not a valid agent name ({_NAME_RULE})", False
        if not spec.command or not spec.command[0]:
            return ("agents", i, "command"), "the command must not be empty", False
        if (p := _counts(spec, ("agents", i))) is not None:
            return p
        total += spec.replicas
        if total > MAX_AGENTS:
            return (("agents", i, "replicas" if spec.replicas > 1 else "name"),
                    f"more than {MAX_AGENTS} agents in the fleet (replicas included)", False)
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
        if value is None:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            return (*at, "budget", field), f"a budget must be a finite number, not {value}", False
        if value <= 0:
            return (*at, "budget", field), "a budget must be more than 0", False
        if value > (most := BUDGET_MAXIMUMS[field]):
            return (*at, "budget", field), f"a {field} budget must be at most {int(most):,}", False
    return None


def _env(env: dict[str, str], at: tuple[Any, ...]) -> Problem | None:
    for key in env:
        if not key or "=" in key:
            return (*at, "env", key), f"'{key}' cannot name an environment variable", True
    return None


def _agent_details(spec: AgentSpec, at: tuple[Any, ...]) -> Problem | None:
    if (p := _env(spec.env, at)) is not None:
        return p
    if spec.stall_after is not None and (p := _duration(spec.stall_after, (*at, "stall_after"))):
        return p
    if (p := _budget(spec.budget, at)) is not None:
        return p
    return _subscriptions(spec, at)


def _patterns(config: FleetConfig) -> Problem | None:
    """Every status pattern compiles, and all of them together are at most
    ``MAX_PATTERN_TEXT`` characters (compiling costs up to ~7 us a character)."""
    total = 0
    for i, spec in enumerate(config.agents):
        for kind in ("waiting", "working", "idle", "done") if spec.status_patterns else ():
            for j, pattern in enumerate(getattr(spec.status_patterns, kind)):
                at = ("agents", i, "status_patterns", kind, j)
                total += len(pattern) + 1
                if total > MAX_PATTERN_TEXT:
                    return at, f"the fleet's status patterns pass {MAX_PATTERN_TEXT} characters", False
                try:
                    re.compile(pattern)
                except re.error as exc:
                    return at, f"invalid regular expression: {exc}", False
    return None


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
    """A task blocked, through any chain of ``blocked_by``, by itself: the first such link in
    the file (one whose ends are in the same strongly connected component)."""
    component = _components(ids)
    for i, task in enumerate(tasks):
        for j, first in enumerate(task.blocked_by):
            if component[first] == component[task.id]:
                trail = _path_to(first, task.id, ids) or [first]
                chain = [task.id, *trail]
                if len(chain) > 8:
                    chain = [*chain[:3], f"... ({len(chain) - 5} more)", *chain[-2:]]
                cycle = " -> ".join(chain)
                return ("tasks", i, "blocked_by", j), f"a dependency cycle: {cycle}", False
    return None


def _components(ids: dict[str, TaskSpec]) -> dict[str, int]:
    """Each task's strongly connected component over ``blocked_by`` (Tarjan's, without
    recursion: thousands of tasks in a chain are fine)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    component: dict[str, int] = {}
    stack: list[str] = []
    for root in ids:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, edge = work.pop()
            if edge == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
            deps = ids[node].blocked_by
            if edge < len(deps):
                work.append((node, edge + 1))
                dep = deps[edge]
                if dep not in index:
                    work.append((dep, 0))
                elif dep not in component:  # indexed and not yet placed: on the stack
                    low[node] = min(low[node], index[dep])
                continue
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    component[member] = index[node]
                    if member == node:
                        break
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return component


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


#: A remote name given to ``git push`` (never taken for an option).
_REMOTE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$")


def _merge(config: FleetConfig, stages: set[str]) -> Problem | None:
    merge = config.merge
    if merge is None:
        return None
    for i, spec in enumerate(config.agents):
        if RUNNER in agent_names(spec):
            return (("agents", i, "name"),
                    f"'{RUNNER}' is the merge queue's card: name the agent otherwise", False)
    if merge.stage is not None and merge.stage not in stages:
        return ("merge", "stage"), f"unknown stage '{merge.stage}' (stages: {_list(stages)})", False
    for i, check in enumerate(merge.checks):
        argv = check if isinstance(check, list) else check.run
        at = ("merge", "checks", i) if isinstance(check, list) else ("merge", "checks", i, "run")
        if not argv or not argv[0]:
            return at, "a check is an argv list and must not be empty", False
        if not isinstance(check, list) and (p := _duration(check.timeout, ("merge", "checks", i, "timeout"))):
            return p
    if merge.remote and not _REMOTE.match(merge.remote):
        return ("merge", "push"), f"'{merge.push}' is not a remote name", False
    return None


def _keymap(config: FleetConfig) -> Problem | None:
    for action, key in config.keymap.items():
        if action not in KNOWN_ACTIONS:
            hint = _hint(action, KNOWN_ACTIONS, "actions")
            return ("keymap", action), f"unknown action '{action}' ({hint})", True
        if not key.strip():
            return ("keymap", action), "a key must not be empty", False
        if not key.isprintable():  # it is drawn in the footer and help: nothing for the terminal
            return ("keymap", action), "a key is a key name like ctrl+x, not control characters", False
    return None


def _top(config: FleetConfig) -> Problem | None:
    if not _NAME.match(config.fleet):
        return ("fleet",), f"'{config.fleet}' is not a valid fleet name ({_NAME_RULE})", False
    if not config.theme.strip():
        return ("theme",), "the theme must not be empty", False
    if (p := _duration(config.defaults.stall_after, ("defaults", "stall_after"))) is not None:
        return p
    if (p := _duration(config.log.sample_every, ("log", "sample_every"))) is not None:
        return p
    if not (math.isfinite(config.log.output_cap_mb) and config.log.output_cap_mb > 0):
        return ("log", "output_cap_mb"), "output_cap_mb must be a number more than 0", False
    if (p := _budget(config.defaults.budget, ("defaults",))) is not None:
        return p
    if (p := _env(config.defaults.env, ("defaults",))) is not None:
        return p
    return _counts(config.defaults, ("defaults",))


#: What ``git check-ref-format --branch`` accepts, simplified: no spaces, controls, ``~^:?*[\``,
#: no ``..``, ``@{``, leading ``-``/``.``, trailing ``/``/``.``/``.lock``.
_BRANCH = re.compile(r"^(?![-./])(?!.*(\.\.|@\{|//|/\.))[^\x00-\x20\x7f~^:?*\[\\]+(?<![./])(?<!\.lock)$")


def _repo(config: FleetConfig) -> Problem | None:
    if config.repo and not config.repo.strip():
        return (("repo",), "the repo must not be blank (leave it out for the repository holding "
                "fleet.yaml)", False)
    if config.base and not _BRANCH.match(config.base):
        return ("base",), f"'{config.base}' is not a valid git branch name", False
    return None


def check_config(config: FleetConfig) -> Problem | None:
    roles = {r for spec in config.agents for r in spec.roles}
    stages = {s.name for s in config.routing.stages}
    for check in (lambda: _top(config), lambda: _agents(config), lambda: _patterns(config),
                  lambda: _routing(config, roles), lambda: _approvals(config, stages),
                  lambda: _tasks(config, roles, stages), lambda: _keymap(config),
                  lambda: _repo(config), lambda: _merge(config, stages), lambda: check_hosts(config)):
        if (problem := check()) is not None:
            return problem
    return None
