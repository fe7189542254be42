"""A session as a Markdown audit report: the agents that ran (role, model, when spawned, how they
ended), each task's history, approvals with who decided and when, costs per agent and task, and
the errors and alerts, and what each task's branch and each agent's worktree changed
(``report_workspaces``). Times are UTC. Every text from the log is made safe to draw
(``fleet_tui.core.sanitize``) and kept to one line."""

from __future__ import annotations

import time
from collections.abc import Iterable

from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold
from fleet_tui.core.sanitize import safe_line
from fleet_tui.core.state import Cost, FleetState
from fleet_tui.core.summary import summarize
from fleet_tui.replay.report_workspaces import WorkspaceAudit, workspace_lines

_APPROVALS = (ev.ApprovalRequested, ev.ApprovalGranted, ev.ApprovalDenied)
_ENDINGS = (ev.AgentExited, ev.AgentKilled, ev.AgentLost)
_ERRORS = (ev.Error, ev.Alert)


def _time(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) if ts else "?"


def _md(value: object) -> str:
    return " ".join(safe_line(str(value)).split())


def _cell(value: object) -> str:
    return _md(value).replace("|", "\\|") or "-"


def _table(header: tuple[str, ...], rows: Iterable[tuple[object, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines if len(lines) > 2 else ["(none)"]


def _money(cost: Cost) -> tuple[int, int, str]:
    return cost.input_tokens, cost.output_tokens, f"${cost.usd:.4f}"


class _Audit:
    """What the report needs, gathered in one pass over the log."""

    def __init__(self) -> None:
        self.state = FleetState()
        self.spawns: dict[str, list[float]] = {}
        self.endings: dict[str, ev.Event] = {}
        self.history: dict[str, list[ev.Event]] = {}
        self.approvals: list[ev.Event] = []
        self.errors: list[ev.Event] = []
        self.workspaces = WorkspaceAudit()

    def add(self, e: ev.Event | ev.UnknownEvent) -> None:
        fold(self.state, e)
        if not isinstance(e, ev.Event):
            return
        self.workspaces.add(e)
        if isinstance(e, ev.AgentSpawned):
            self.spawns.setdefault(e.agent, []).append(e.ts)
        elif isinstance(e, _ENDINGS):
            self.endings[e.agent] = e
        elif isinstance(e, _APPROVALS):
            self.approvals.append(e)
        elif isinstance(e, _ERRORS):
            self.errors.append(e)
        task = getattr(e, "task", None)
        if task and not isinstance(e, ev.CostReported | ev.AgentOutput):
            self.history.setdefault(task, []).append(e)


def markdown_report(events: Iterable[ev.Event | ev.UnknownEvent], *, log: str = "") -> str:
    audit = _Audit()
    for e in events:
        audit.add(e)
    state = audit.state
    lines = [
        f"# Session {_md(state.session) or '?'} of fleet {_md(state.fleet) or '?'}",
        "",
        *([f"- Log: `{_md(log)}`"] if log else []),
        f"- From {_time(state.first_ts)} to {_time(state.last_ts)} UTC "
        f"({max(0.0, state.last_ts - state.first_ts):.0f} s)",
        f"- {state.events} events, {len(state.agents)} agents, {len(state.tasks)} tasks, "
        f"{state.errors} errors",
        f"- Cost: ${state.cost.usd:.4f} ({state.cost.input_tokens} input + "
        f"{state.cost.output_tokens} output tokens)",
        "",
        "## Agents",
        "",
    ]
    agents = []
    for name, agent in state.agents.items():
        ending = audit.endings.get(name)
        end = f"{summarize(ending)} at {_time(ending.ts)}" if ending and not agent.alive else "running"
        spawns = audit.spawns.get(name, [agent.spawned_at])
        agents.append((name, agent.role, agent.model, _time(spawns[0]), len(spawns) - 1, end,
                       f"${agent.cost.usd:.4f}", agent.cost.tokens))
    lines += _table(("Agent", "Role", "Model", "Spawned", "Restarts", "End", "Cost", "Tokens"), agents)
    lines += ["", "## Tasks", ""]
    for tid, task in state.tasks.items():
        lines += [f"### {_md(tid)}: {_cell(task.title)}", "",
                  f"Column **{_md(task.column)}**, assignee {_md(task.assignee) or 'none'}, "
                  f"cost ${task.cost.usd:.4f}.", ""]
        lines += _table(("Time", "By", "Event", "Agent", "What"),
                        ((_time(e.ts), e.source, e.type_name, getattr(e, "agent", None) or "", summarize(e))
                         for e in audit.history.get(tid, [])))
        lines.append("")
    if not state.tasks:
        lines += ["(none)", ""]
    lines += ["## Approvals", ""]
    lines += _table(("Time", "Task", "Approval", "Event", "By", "What"),
                    ((_time(e.ts), e.task, e.approval, e.type_name, e.source, summarize(e))  # type: ignore[attr-defined]
                     for e in audit.approvals))
    lines += ["", *workspace_lines(state, audit.workspaces, _table, _md)]
    lines += ["## Costs", "", "### Per agent", ""]
    lines += _table(("Agent", "Input tokens", "Output tokens", "USD"),
                    ((name, *_money(a.cost)) for name, a in state.agents.items()))
    lines += ["", "### Per task", ""]
    lines += _table(("Task", "Input tokens", "Output tokens", "USD"),
                    ((tid, *_money(t.cost)) for tid, t in state.tasks.items()))
    lines += ["", "## Errors and alerts", ""]
    lines += _table(("Time", "Type", "Kind", "Agent", "Task", "Message"),
                    ((_time(e.ts), e.type_name, e.kind, e.agent or "", e.task or "", e.message)  # type: ignore[attr-defined]
                     for e in audit.errors))
    return "\n".join(lines) + "\n"
