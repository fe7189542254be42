"""The user's own board commands as pure rules: ``(state, policy, request) -> events``.

New task, move task, assign a task to an agent. Each returns the events to submit (all with
``source: user`` and a reason) and, for an assignment, the prompt the agent is sent: the same
template routing uses. Invalid requests raise ``ManualError`` with a one-line reason.
"""

from __future__ import annotations

import re

from fleet_tui.core import events as ev
from fleet_tui.core.routing import Prompt, RoutingPolicy, render_prompt
from fleet_tui.core.state import FleetState

_TASK_NUMBER = re.compile(r"^T(\d+)$")


class ManualError(Exception):
    pass


def next_task_id(state: FleetState) -> str:
    """``T<n>`` one above the highest ``T<number>`` id in use."""
    numbers = [int(m.group(1)) for tid in state.tasks if (m := _TASK_NUMBER.match(tid))]
    return f"T{max(numbers, default=0) + 1}"


def new_task(state: FleetState, title: str, role: str = "", description: str = "",
             column: str = "") -> ev.TaskCreated:
    title = title.strip()
    if not title:
        raise ManualError("a task needs a title")
    return ev.TaskCreated(task=next_task_id(state), title=title, role=role.strip(),
                          description=description.strip(), column=column or "backlog",
                          source=ev.SOURCE_USER)


def move_task(state: FleetState, task_id: str, column: str) -> list[ev.Event]:
    task = state.tasks.get(task_id)
    if task is None:
        raise ManualError(f"no task {task_id}")
    if task.column == column:
        raise ManualError(f"{task_id} is already in {column}")
    return [ev.TaskMoved(task=task_id, column=column, from_column=task.column,
                         reason="moved by the user", source=ev.SOURCE_USER)]


def assign_task(state: FleetState, policy: RoutingPolicy, task_id: str, agent_name: str
                ) -> tuple[list[ev.Event], Prompt]:
    """Give a task to an agent; a task waiting in a queue moves into the work stage after it."""
    task = state.tasks.get(task_id)
    if task is None:
        raise ManualError(f"no task {task_id}")
    agent = state.agents.get(agent_name)
    if agent is None or not agent.alive:
        raise ManualError(f"{agent_name} is not running")
    if task.assignee == agent_name:
        raise ManualError(f"{task_id} is already {agent_name}'s")
    events: list[ev.Event] = []
    names = [s.name for s in policy.stages]
    if task.column in names:
        i = names.index(task.column)
        later_work = [s.name for s in policy.stages[i:] if s.roles]
        if not policy.stages[i].roles and later_work:
            events.append(ev.TaskMoved(task=task_id, column=later_work[0], from_column=task.column,
                                       agent=agent_name, reason=f"assigned to {agent_name} by the user",
                                       source=ev.SOURCE_USER))
    events.append(ev.TaskAssigned(task=task_id, agent=agent_name, source=ev.SOURCE_USER,
                                  reason=f"assigned {task_id} to {agent_name} by the user"))
    return events, Prompt(agent=agent_name, task=task_id, text=render_prompt(task, policy.template))
