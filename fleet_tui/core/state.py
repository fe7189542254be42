"""FleetState: what the UI shows, built only by folding events (see ``fold.py``).

Plain mutable msgspec Structs: the fold owns the state it is given and updates it in place,
which keeps a million-event fold fast. Take ``state.copy()`` to keep a snapshot.
"""

from __future__ import annotations

from collections import deque

import msgspec

from fleet_tui.core.events import Event
from fleet_tui.core.workspace_state import MergeQueueState, OverlapSeen, TaskBranch, WorkspaceState

# Agent statuses. ``working``/``idle``/``waiting`` come from the pane monitor's heuristics or
# from the agent itself; the rest from lifecycle events.
STARTING = "starting"
WORKING = "working"
IDLE = "idle"
WAITING = "waiting"
STALLED = "stalled"
PAUSED = "paused"
EXITED = "exited"
LOST = "lost"
DONE = "done"
#: The agent runs on a host whose SSH link is down (it is not known to have stopped).
UNREACHABLE = "unreachable"
STATUSES = (STARTING, WORKING, IDLE, WAITING, STALLED, PAUSED, EXITED, LOST, DONE, UNREACHABLE)

# Default task board columns (a fleet may define its own pipeline of stages).
BACKLOG = "backlog"
READY = "ready"
IN_PROGRESS = "in_progress"
REVIEW = "review"
DONE_COLUMN = "done"
BLOCKED = "blocked"
#: Where the merge queue puts a task whose branch went into the base (after the stages).
MERGED = "merged"
COLUMNS = (BACKLOG, READY, IN_PROGRESS, REVIEW, DONE_COLUMN, BLOCKED)

#: How many non-output events the timeline keeps.
TIMELINE_LIMIT = 2000


class Cost(msgspec.Struct):
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def add(self, input_tokens: int, output_tokens: int, usd: float) -> None:
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.usd += usd


class AgentState(msgspec.Struct):
    name: str
    role: str = ""
    roles: list[str] = []
    model: str = ""
    #: The model the agent says it runs (its hooks, its transcript's latest call).
    model_reported: str = ""
    #: The agent CLI's own session (``session_tool``: claude, codex) and the transcript file its
    #: costs are read from.
    session_tool: str = ""
    session_id: str = ""
    transcript: str = ""
    #: Files the agent edited, as its hooks report them: most recent last, each once.
    touched: list[str] = []
    command: list[str] = []
    cwd: str = ""
    template: str = ""
    #: The ``hosts:`` entry it runs on ("": this machine), and whether that host's link is down.
    host: str = ""
    unreachable: bool = False
    #: The status shown: lifecycle (paused/exited/lost) first, then a stall, then the newest of
    #: what the agent (or its hooks) said and what its screen showed.
    status: str = STARTING
    status_since: float = 0.0
    heuristic_status: str = STARTING
    #: The agent's own claim, until its screen shows something newer or it gets a new prompt;
    #: ``explicit_source`` says who claimed it (``hook:claude``, ``agent:dev-1``).
    explicit_status: str = ""
    explicit_source: str = ""
    #: Where the status shown comes from: ``screen`` or the claim's source; empty for
    #: lifecycle statuses (starting, paused, exited, lost).
    status_source: str = ""
    #: The last prompt sent did not show up in its pane: routing leaves the agent alone until
    #: one does (or it says it is idle, or it restarts).
    prompt_failed: bool = False
    paused: bool = False
    alive: bool = True
    exit_code: int | None = None
    exit_signal: str = ""
    pid: int | None = None
    pane: str = ""
    #: The pane of the incarnation before a restart: late reports about it are ignored.
    previous_pane: str = ""
    spawned_at: float = 0.0
    #: Seconds spent running (alive, not paused) in earlier stretches, over all incarnations;
    #: ``running_since`` is when the current stretch began (0 while not running).
    run_seconds: float = 0.0
    running_since: float = 0.0
    #: Automatic restarts since the user last started the agent.
    restarts: int = 0
    #: The backoff of the last automatic restart (seconds; 0 when none since the user's start)
    #: and when the pending one is due (0 when none is pending).
    restart_delay: float = 0.0
    restart_at: float = 0.0
    #: Budget dimensions already alerted (and paused for) this session: each happens once.
    budget_alerts: list[str] = []
    #: The current stall has been alerted.
    stall_alerted: bool = False
    #: Tasks held, oldest first; ``task`` is the newest.
    tasks: list[str] = []
    #: The pane's screen as last captured (ANSI text, one string a row).
    screen: list[str] = []
    width: int = 0
    height: int = 0
    last_output_at: float = 0.0
    cost: Cost = msgspec.field(default_factory=Cost)

    @property
    def task(self) -> str | None:
        return self.tasks[-1] if self.tasks else None

    @property
    def shown_model(self) -> str:
        """The model to show: the one the agent reports running, else the configured one."""
        return self.model_reported or self.model

    @property
    def out_of_reach(self) -> str:
        """Why nothing can be done to the agent now: its host's link is down ("" otherwise)."""
        if not self.unreachable:
            return ""
        return (f"{self.name} runs on host {self.host}, which cannot be reached now "
                "(reconnecting): try again once it is back")

    def running_seconds(self, now: float) -> float:
        """Time spent running (alive and not paused) up to ``now``."""
        current = now - self.running_since if self.running_since else 0.0
        return self.run_seconds + max(0.0, current)

    def is_current(self, pane: str) -> bool:
        """Whether an event from ``pane`` is about this incarnation (one naming no pane is)."""
        if not pane:
            return True
        return pane == self.pane if self.pane else pane != self.previous_pane


class ApprovalState(msgspec.Struct):
    id: str
    task: str
    transition: str = ""
    to_column: str = ""
    reason: str = ""
    requested_at: float = 0.0


class Note(msgspec.Struct):
    text: str
    kind: str = "note"
    author: str = ""
    ts: float = 0.0
    seq: int = 0


class TaskState(msgspec.Struct):
    id: str
    title: str
    description: str = ""
    role: str = ""
    column: str = BACKLOG
    assignee: str | None = None
    depends_on: list[str] = []
    acceptance: list[str] = []
    tags: list[str] = []
    parent: str | None = None
    notes: list[Note] = []
    pending_approvals: list[ApprovalState] = []
    #: Who worked the task in each column (column -> agent): where a send-back returns it.
    owners: dict[str, str] = {}
    created_at: float = 0.0
    updated_at: float = 0.0
    cost: Cost = msgspec.field(default_factory=Cost)


class FleetState(msgspec.Struct):
    fleet: str = ""
    session: str = ""
    schema: int = 0
    agents: dict[str, AgentState] = {}
    tasks: dict[str, TaskState] = {}
    timeline: deque[Event] = msgspec.field(default_factory=lambda: deque(maxlen=TIMELINE_LIMIT))
    cost: Cost = msgspec.field(default_factory=Cost)
    events: int = 0
    last_seq: int = 0
    first_ts: float = 0.0
    last_ts: float = 0.0
    errors: int = 0
    #: The daemon was stopped on purpose and has not started again since.
    stopped: bool = False
    #: Alerts raised this session (the UI counts those not yet seen).
    alerts: int = 0
    #: Characters of pane text logged this session (output events): what the log's output cap
    #: counts.
    output_chars: int = 0
    #: Why the event log cannot be written now (e.g. disk full), or "".
    log_problem: str = ""
    #: Remote hosts this daemon cannot reach now, with why (and what to do); no agent is
    #: started or given a task there meanwhile.
    hosts_down: dict[str, str] = {}
    #: Each agent's git worktree, by agent name; each task's branch, by task id; the merge queue.
    workspaces: dict[str, WorkspaceState] = {}
    branches: dict[str, TaskBranch] = {}
    merge: MergeQueueState = msgspec.field(default_factory=MergeQueueState)
    #: Overlaps between task branches alerted and not cleared, by alert key.
    overlaps: dict[str, OverlapSeen] = {}
    #: The pane each agent's output last named: the pane of its output events that leave it
    #: out (the log's compact records name it only when it changes).
    output_panes: dict[str, str] = {}

    def copy(self) -> FleetState:
        """A deep copy that later folds will not touch (events themselves are shared)."""
        copied = msgspec.structs.replace(
            self,
            agents={
                name: msgspec.structs.replace(
                    a,
                    roles=list(a.roles),
                    command=list(a.command),
                    tasks=list(a.tasks),
                    screen=list(a.screen),
                    budget_alerts=list(a.budget_alerts),
                    touched=list(a.touched),
                    cost=msgspec.structs.replace(a.cost),
                )
                for name, a in self.agents.items()
            },
            tasks={
                tid: msgspec.structs.replace(
                    t,
                    depends_on=list(t.depends_on),
                    acceptance=list(t.acceptance),
                    tags=list(t.tags),
                    notes=list(t.notes),
                    pending_approvals=list(t.pending_approvals),
                    owners=dict(t.owners),
                    cost=msgspec.structs.replace(t.cost),
                )
                for tid, t in self.tasks.items()
            },
            timeline=deque(self.timeline, maxlen=self.timeline.maxlen),
            cost=msgspec.structs.replace(self.cost),
            workspaces={name: w.copy() for name, w in self.workspaces.items()},
            branches={tid: b.copy() for tid, b in self.branches.items()},
            merge=self.merge.copy(),
            overlaps={key: o.copy() for key, o in self.overlaps.items()},
            output_panes=dict(self.output_panes),
            hosts_down=dict(self.hosts_down),
        )
        return copied

    # Convenience views for the UI -------------------------------------------------------

    def status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for agent in self.agents.values():
            counts[agent.status] = counts.get(agent.status, 0) + 1
        return counts

    def pending_approvals(self) -> list[ApprovalState]:
        return [a for t in self.tasks.values() for a in t.pending_approvals]

    def open_tasks(self) -> int:
        return sum(1 for t in self.tasks.values() if t.column not in (DONE_COLUMN, MERGED))
