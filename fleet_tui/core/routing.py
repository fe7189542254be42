"""Routing, handoffs and approval gates as pure rules: ``(state, policy) -> events``.

The pipeline is a list of stages; a stage with roles is a *work* stage, one without is a
queue. Rules, applied by ``route`` after every event:

- a task in the first stage, when that is a plain backlog (not feeding a work stage), moves on
  once all its ``depends_on`` are done;
- an unassigned task in a work stage, or in a queue followed by a work stage, goes to an idle
  agent with a matching role (the task's own role if that stage takes it), least loaded first,
  under its ``max_tasks``; from a queue it moves into that work stage. The decision and its
  reason are a ``task.assigned`` event, and the agent gets a prompt rendered from the template;
- an agent reporting ``done`` moves its task to the next stage (through an approval gate if
  one matches: the task waits with ``approval.requested``); ``blocked`` from a later work stage
  (a reviewer) sends the task back to the stage and agent before it, with the note; ``blocked``
  otherwise parks it in ``blocked``;
- a granted approval completes its move; a denied one sends the task back like ``blocked``;
- a prompt that did not show up in the agent's pane (``agent.prompted`` with
  ``delivered: false``) takes the task back from that agent to the queue it came from
  (``ready``), and the agent gets no task until a prompt reaches it, it says it is idle, or
  it restarts (the daemon raises the delivery alert).

Only an agent idle at its prompt gets a task: not one waiting at a menu or a question, not
one starting, working, stalled or paused, and not one whose last prompt was not delivered.

Prompts to agents are returned as ``Prompt`` commands, not events: sending them is I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from fleet_tui.core import events as ev
from fleet_tui.core.state import BLOCKED, IDLE, MERGED, AgentState, FleetState, TaskState

DEFAULT_TEMPLATE = (
    "Task {id}: {title}\n{description}\nAcceptance criteria:\n{acceptance}\n"
    "Notes from earlier stages:\n{notes}\n"
    "When done run: fleet-tui emit task.done --task {id} --note \"<handoff>\"; "
    "if stuck: fleet-tui emit task.blocked --task {id} --note \"<why>\""
)


class StagePolicy(msgspec.Struct, frozen=True):
    name: str
    roles: tuple[str, ...] = ()


class GatePolicy(msgspec.Struct, frozen=True):
    from_: str | None = None
    to: str | None = None
    tag: str | None = None
    name: str = ""


class RoutingPolicy(msgspec.Struct, frozen=True):
    stages: tuple[StagePolicy, ...]
    gates: tuple[GatePolicy, ...] = ()
    max_tasks: dict[str, int] = {}
    auto_route: bool = True
    template: str = DEFAULT_TEMPLATE


class Prompt(msgspec.Struct, frozen=True, kw_only=True):
    """A command: send ``text`` to ``agent`` (about ``task``), saying why."""

    agent: str
    text: str
    task: str | None = None
    reason: str = ""


def _index(policy: RoutingPolicy, column: str) -> int:
    for i, stage in enumerate(policy.stages):
        if stage.name == column:
            return i
    return -1


def _done_column(policy: RoutingPolicy) -> str:
    return policy.stages[-1].name


def render_prompt(task: TaskState, template: str) -> str:
    notes = "\n".join(f"- [{n.kind}] {n.author}: {n.text}" for n in task.notes) or "- none"
    acceptance = "\n".join(f"- {a}" for a in task.acceptance) or "- none given"
    fields = {"id": task.id, "title": task.title, "description": task.description,
              "acceptance": acceptance, "notes": notes, "role": task.role}
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError):
        return DEFAULT_TEMPLATE.format(**fields)


def _work_stage(policy: RoutingPolicy, column: str) -> int:
    """The work stage a task in ``column`` is routed to, or -1."""
    i = _index(policy, column)
    if i < 0:
        return -1
    if policy.stages[i].roles:
        return i
    nxt = i + 1
    if nxt < len(policy.stages) - 1 and policy.stages[nxt].roles:
        return nxt  # a queue (like "ready") feeding a work stage
    return -1


def _eligible_roles(task: TaskState, stage: StagePolicy) -> tuple[str, ...]:
    if task.role and task.role in stage.roles:
        return (task.role,)
    return stage.roles


def _candidates(state: FleetState, policy: RoutingPolicy, roles: Sequence[str]) -> list[AgentState]:
    found = [
        a for a in state.agents.values()
        if a.alive and not a.paused and a.status == IDLE and not a.prompt_failed
        and any(r in a.roles for r in roles)
        and len(a.tasks) < policy.max_tasks.get(a.name, 1)
    ]
    return sorted(found, key=lambda a: (len(a.tasks), a.name))


def _deps_done(state: FleetState, task: TaskState, done: str) -> bool:
    return all((d := state.tasks.get(dep)) is not None and d.column in (done, MERGED)
               for dep in task.depends_on)


def assign_ready(state: FleetState, policy: RoutingPolicy) -> tuple[list[ev.Event], list[Prompt]]:
    """Assignments for every routable unassigned task (call after any change)."""
    events: list[ev.Event] = []
    prompts: list[Prompt] = []
    if not policy.auto_route or not policy.stages:
        return events, prompts
    done = _done_column(policy)
    busy: dict[str, int] = {}
    for task in sorted(state.tasks.values(), key=lambda t: (t.created_at, t.id)):
        if task.assignee is not None or task.pending_approvals:
            continue
        w = _work_stage(policy, task.column)
        if task.column == policy.stages[0].name and w < 0 and len(policy.stages) > 1:
            # The backlog: a task leaves it when what it depends on is done.
            if _deps_done(state, task, done) and task.depends_on:
                nxt = policy.stages[1].name
                events.append(ev.TaskMoved(task=task.id, column=nxt, from_column=task.column,
                                           reason="its dependencies are done"))
            continue
        if w < 0 or not _deps_done(state, task, done):
            continue
        stage = policy.stages[w]
        roles = _eligible_roles(task, stage)
        for agent in _candidates(state, policy, roles):
            held = len(agent.tasks) + busy.get(agent.name, 0)
            if held >= policy.max_tasks.get(agent.name, 1):
                continue
            busy[agent.name] = busy.get(agent.name, 0) + 1
            role = next(r for r in roles if r in agent.roles)
            if stage.name != task.column:
                events.append(ev.TaskMoved(task=task.id, column=stage.name, from_column=task.column,
                                           agent=agent.name, reason=f"picked up by {agent.name}"))
            events.append(ev.TaskAssigned(
                task=task.id, agent=agent.name,
                reason=f"assigned {task.id} to {agent.name}: role {role}, idle, {held} tasks",
            ))
            prompts.append(Prompt(agent=agent.name, task=task.id,
                                  text=render_prompt(task, policy.template),
                                  reason=f"routing: {task.id} assigned"))
            break
    return events, prompts


def _gate(policy: RoutingPolicy, task: TaskState, to: str) -> GatePolicy | None:
    for gate in policy.gates:
        if gate.tag is not None:
            # A tag gate guards the final move: tagged work is done only when a person says so.
            if gate.tag in task.tags and to == _done_column(policy):
                return gate
            continue
        if gate.from_ in (None, task.column) and gate.to in (None, to):
            return gate
    return None


def _send_back(state: FleetState, policy: RoutingPolicy, task: TaskState, note: str,
               reason: str) -> list[ev.Event]:
    """Back to the previous work stage and whoever worked it there; else park in blocked."""
    i = _index(policy, task.column)
    previous = next((j for j in range(i - 1, -1, -1) if policy.stages[j].roles), -1)
    if previous < 0:
        return [ev.TaskAssigned(task=task.id, agent=None, reason=reason),
                ev.TaskMoved(task=task.id, column=BLOCKED, from_column=task.column, reason=reason)]
    return send_back_to(state, task, policy.stages[previous].name, reason)


def send_back_to(state: FleetState, task: TaskState, column: str, reason: str) -> list[ev.Event]:
    """Back to ``column`` and whoever worked the task there (unassigned if they are gone)."""
    owner = task.owners.get(column)
    out: list[ev.Event] = [
        ev.TaskMoved(task=task.id, column=column, from_column=task.column,
                     reason=f"{reason}; back to {column}"),
    ]
    agent = state.agents.get(owner) if owner else None
    if agent is not None and agent.alive:
        out.append(ev.TaskAssigned(task=task.id, agent=owner,
                                   reason=f"sent back to {owner}, who worked it in {column}"))
    else:
        out.append(ev.TaskAssigned(task=task.id, agent=None, reason=f"{owner or 'nobody'} is gone"))
    return out


def on_event(state: FleetState, policy: RoutingPolicy, event: ev.Event
             ) -> tuple[list[ev.Event], list[Prompt]]:
    """The reaction to one event already folded into ``state``."""
    if isinstance(event, ev.TaskReported):
        task = state.tasks.get(event.task)
        if task is None:
            return [], []
        if event.outcome == "done":
            return _advance(state, policy, task), []
        if event.outcome == "blocked":
            events = _send_back(state, policy, task, event.note,
                                f"blocked by {event.agent or event.source}")
            prompts = resend(policy, task, events)
            return events, prompts
    if isinstance(event, ev.AgentExited | ev.AgentLost | ev.AgentKilled):
        return _orphaned(state, event), []
    if isinstance(event, ev.AgentPrompted) and not event.delivered:
        return _undelivered(state, policy, event), []
    if isinstance(event, ev.ApprovalGranted | ev.ApprovalDenied) and event.source == ev.SOURCE_USER:
        task = state.tasks.get(event.task)
        if task is None:
            return [], []
        to = event.approval.split("->")[-1] if "->" in event.approval else ""
        if isinstance(event, ev.ApprovalGranted):
            return [ev.TaskMoved(task=task.id, column=to or _done_column(policy), from_column=task.column,
                                 reason=f"approved by the user: {event.comment}".rstrip(": ")),
                    ev.TaskAssigned(task=task.id, agent=None, reason="approved")], []
        events = _send_back(state, policy, task, event.comment, "denied by the user")
        return events, resend(policy, task, events)
    return [], []


def _undelivered(state: FleetState, policy: RoutingPolicy, event: ev.AgentPrompted
                 ) -> list[ev.Event]:
    """A task whose prompt never reached its agent goes back to the queue before its stage."""
    task = state.tasks.get(event.task) if event.task else None
    if task is None or task.assignee != event.agent:
        return []
    why = f"the prompt to {event.agent} was not delivered"
    out: list[ev.Event] = [ev.TaskAssigned(task=task.id, agent=None, reason=why)]
    i = _index(policy, task.column)
    if i > 0 and policy.stages[i].roles and not policy.stages[i - 1].roles:
        queue = policy.stages[i - 1].name
        out.append(ev.TaskMoved(task=task.id, column=queue, from_column=task.column,
                                reason=f"{why}; back to {queue}"))
    return out


def _orphaned(state: FleetState, event: ev.AgentExited | ev.AgentLost | ev.AgentKilled
              ) -> list[ev.Event]:
    """An agent that stops while holding tasks leaves them blocked, saying why."""
    agent = state.agents.get(event.agent)
    if agent is None:
        return []
    if isinstance(event, ev.AgentExited):
        why = f"{event.agent} exited with code {event.code}"
        tail = "\n".join(line for line in event.last_lines[-5:] if line.strip())
        text = f"{why}; last output:\n{tail}" if tail else why
    elif isinstance(event, ev.AgentLost):
        why = text = f"{event.agent} was lost: {event.reason}"
    else:
        why = text = f"{event.agent} was killed"
    out: list[ev.Event] = []
    for task_id in agent.tasks:
        task = state.tasks.get(task_id)
        if task is None:
            continue
        out += [ev.TaskNote(task=task_id, text=text, kind="blocked", agent=event.agent),
                ev.TaskMoved(task=task_id, column=BLOCKED, from_column=task.column, reason=why),
                ev.TaskAssigned(task=task_id, agent=None, reason=why)]
    return out


def resend(policy: RoutingPolicy, task: TaskState, events: list[ev.Event]) -> list[Prompt]:
    """The prompt to the agent ``events`` (a send-back) assign ``task`` to, if any."""
    for e in events:
        if isinstance(e, ev.TaskAssigned) and e.agent:
            return [Prompt(agent=e.agent, task=task.id,
                           text="Sent back to you. " + render_prompt(task, policy.template),
                           reason=f"routing: {task.id} sent back")]
    return []


def _advance(state: FleetState, policy: RoutingPolicy, task: TaskState) -> list[ev.Event]:
    i = _index(policy, task.column)
    if i < 0 or i + 1 >= len(policy.stages):
        return []
    to = policy.stages[i + 1].name
    gate = _gate(policy, task, to)
    if gate is not None:
        transition = f"{task.column}->{to}"
        label = gate.name or (f"tag {gate.tag}" if gate.tag else transition)
        return [ev.ApprovalRequested(task=task.id, approval=transition, transition=transition,
                                     to_column=to, reason=f"gate {label}")]
    return [ev.TaskMoved(task=task.id, column=to, from_column=task.column,
                         reason=f"{task.assignee or 'agent'} reported done"),
            ev.TaskAssigned(task=task.id, agent=None, reason=f"handed off from {task.column}")]
