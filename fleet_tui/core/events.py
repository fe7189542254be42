"""Event types: the one tagged union every log line, inbox file and command result is made of.

Each event is a msgspec Struct tagged by ``type`` (a dotted name). Every event carries
``seq`` (monotonic per log, set by the log writer), ``ts`` (seconds since the epoch, set by
whoever observed the event: the core never reads a clock) and ``source`` (``user``,
``orchestrator``, ``agent:<name>`` or ``hook:<name>``). Events about one agent or task carry
``agent`` / ``task``.

Schema rules: a new field must have a default, so older logs stay readable; a new event type
is just a new class in ``EVENT_TYPES``. Readers that meet a type they do not know keep it as an
``UnknownEvent`` and the fold skips it. ``SCHEMA_VERSION`` (in ``log.header``) changes only when
the log's encoding does, so that an older version could not read it: schema 2 writes
``agent.output`` as a compact record (a JSON array, ``pane`` named only when it changes, ESC as a
raw DEL byte: ``fleet_tui/adapters/output_records.py``); the events themselves are the same. A
log keeps the schema it began with. This version reads schemas 1 and 2 in full
(``READS_FULLY``), and schema 0 with the fields it lacks at their defaults.
"""

from __future__ import annotations

from typing import Any, ClassVar, Union

import msgspec

from fleet_tui.core.event_base import (
    SCHEMA_VERSION,
    SOURCE_ORCHESTRATOR,
    SOURCE_SCREEN,
    SOURCE_USER,
    Event,
    agent_source,
    hook_source,
)
from fleet_tui.core.workspace_events import (
    FileChange,
    MergeChecked,
    MergeFailed,
    MergeMerged,
    MergeQueued,
    MergeStarted,
    WorkspaceChanged,
    WorkspaceCreated,
    WorkspaceRemoved,
    WorkspaceSwitched,
)

#: The schemas this version reads with nothing missing.
READS_FULLY = frozenset({1, SCHEMA_VERSION})

#: Defined in ``event_base`` and ``workspace_events``, used through this module as ``ev.X``.
__all__ = [
    "SCHEMA_VERSION",
    "SOURCE_ORCHESTRATOR",
    "SOURCE_SCREEN",
    "SOURCE_USER",
    "Event",
    "FileChange",
    "MergeChecked",
    "MergeFailed",
    "MergeMerged",
    "MergeQueued",
    "MergeStarted",
    "WorkspaceChanged",
    "WorkspaceCreated",
    "WorkspaceRemoved",
    "WorkspaceSwitched",
    "agent_source",
    "hook_source",
]


# --- log and config ---------------------------------------------------------------------------


class LogHeader(Event, tag="log.header"):
    #: The schema the log is written in: the log writer sets its own. A header that leaves it
    #: out is schema 1 (whose writers left out what was then the default).
    schema: int = 1
    fleet: str = ""
    host: str = ""
    pid: int = 0
    started: float = 0.0
    session: str = ""
    config_path: str = ""


class ConfigLoaded(Event, tag="config.loaded"):
    path: str = ""
    fleet: str = ""
    agents: list[str] = []
    tasks: int = 0
    digest: str = ""


class DaemonStopped(Event, tag="daemon.stopped"):
    """The fleet's daemon stopped on purpose (a person asked); ``agents_killed`` says whether
    the agents were stopped with it. A client seeing it does not start the daemon again."""

    agents_killed: bool = False


class Error(Event, tag="error"):
    """Something went wrong. ``kind`` groups errors: ``error``, ``security``, ``inbox``, ``tmux``."""

    message: str
    kind: str = "error"
    agent: str | None = None
    task: str | None = None
    detail: str = ""


#: Alert kinds.
ALERT_BUDGET = "budget"
ALERT_STALL = "stall"
ALERT_EXIT = "exit"
ALERT_RESTART = "restart"
ALERT_DELIVERY = "delivery"
ALERT_OUTPUT = "output"
#: The event log cannot be written (key ``problem``) or can again (key ``cleared``).
ALERT_LOG = "log"
#: Two live task branches change the same files, or (``conflict``) would conflict when merged
#: (key: the pair of tasks, see ``core/overlaps.py``).
ALERT_OVERLAP = "overlap"
ALERT_CONFLICT = "conflict"
#: A remote host's link dropped (key: the host).
ALERT_HOST = "host"


class Alert(Event, tag="alert"):
    """Something a person should look at: ``budget``, ``stall``, ``exit``, ``restart``,
    ``delivery``, ``output`` (the session's pane output is being sampled), ``log``. ``key`` says
    what within its kind (a budget's dimension: ``usd``), so a rule can raise it once;
    ``cleared`` says the ``kind``/``key`` alert raised before is over (not a new alert);
    ``files``: the paths it is about (an overlap's, or those that would conflict)."""

    kind: str
    message: str
    agent: str | None = None
    task: str | None = None
    key: str = ""
    cleared: bool = False
    files: list[str] = []


class HostUnreachable(Event, tag="host.unreachable"):
    """The SSH link to a remote host dropped: its agents are ``unreachable`` (not lost, not
    exited: they may well run on) until it comes back."""

    host: str
    reason: str = ""


class HostReachable(Event, tag="host.reachable"):
    """The link to a remote host is back after ``gap`` seconds: nothing of its agents was seen
    meanwhile (their screens are captured again at once)."""

    host: str
    gap: float = 0.0


# --- agent lifecycle --------------------------------------------------------------------------


class AgentSpawned(Event, tag="agent.spawned"):
    agent: str
    command: list[str] = []
    cwd: str = ""
    role: str = ""
    roles: list[str] = []
    model: str = ""
    template: str = ""
    adopted: bool = False
    #: The ``hosts:`` entry it runs on ("": this machine).
    host: str = ""


class AgentStarted(Event, tag="agent.started"):
    agent: str
    pid: int | None = None
    pane: str = ""
    width: int = 0
    height: int = 0


class AgentOutput(Event, tag="agent.output", gc=False):
    """What the agent's pane shows: ``changes`` are ``(row, text)`` pairs against the previous
    screen, after scrolling it up by ``scroll`` rows (the lines the agent printed pushed the
    top ones out; blank rows come in at the bottom); a ``keyframe`` replaces the whole screen
    (``height`` rows, missing rows blank). Text keeps the pane's ANSI SGR colour codes.

    Most of a log: not tracked by the garbage collector (``gc=False``: it holds only rows of
    text, so it is never part of a cycle), which makes reading a log a third cheaper."""

    chatty: ClassVar[bool] = True
    in_timeline: ClassVar[bool] = False
    reacts: ClassVar[bool] = False

    agent: str
    changes: list[tuple[int, str]] = []
    scroll: int = 0
    keyframe: bool = False
    width: int = 0
    height: int = 0
    #: The pane it came from (empty in older logs): output of a replaced pane is ignored. Read
    #: from the log it is empty when its record left it off: then it is the pane the agent's
    #: output last named (``FleetState.output_panes``).
    pane: str = ""


class AgentStatus(Event, tag="agent.status"):
    """A status observation. ``explicit`` ones come from the agent itself (``source``
    ``hook:<cli>`` or ``agent:<name>``); the others from its screen (``source: screen``). The
    newest wins: a claim holds until the screen shows a new status (see ``fold._set_status``)."""

    chatty: ClassVar[bool] = True

    agent: str
    status: str
    explicit: bool = False
    reason: str = ""


class AgentSession(Event, tag="agent.session"):
    """The agent CLI's own session, as its hooks report it: ``tool`` (``claude``, ``codex``),
    its ``session_id``, the ``transcript`` file it writes (where its costs are read), and the
    ``model`` it says it runs, when it says."""

    agent: str
    tool: str = ""
    session_id: str = ""
    transcript: str = ""
    model: str = ""


class AgentTouched(Event, tag="agent.touched"):
    """The agent edited ``path`` (its CLI's hook saw a file-editing tool finish)."""

    agent: str
    path: str
    tool: str = ""


class AgentPaused(Event, tag="agent.paused"):
    agent: str
    reason: str = ""


class AgentResumed(Event, tag="agent.resumed"):
    agent: str


class AgentPrompted(Event, tag="agent.prompted"):
    agent: str
    text: str
    task: str | None = None
    delivered: bool = True
    #: Why fleet-tui sent it (routing, a subscription); empty for the user's own prompts.
    reason: str = ""


class AgentExited(Event, tag="agent.exited"):
    agent: str
    code: int | None = None
    signal: str = ""
    last_lines: list[str] = []
    #: The pane that exited (empty in older logs): a late report about a pane a restart
    #: replaced is ignored.
    pane: str = ""


class AgentRestarting(Event, tag="agent.restarting"):
    """The decision to start an exited agent again (its ``restart:`` policy): ``attempt`` of
    ``limit`` since the user last started it, ``delay`` seconds after this event (backoff)."""

    agent: str
    reason: str = ""
    attempt: int = 0
    limit: int = 0
    delay: float = 0.0


class AgentKilled(Event, tag="agent.killed"):
    agent: str
    reason: str = ""
    how: str = ""  # "interrupt", "term", "kill": which step of the graceful kill ended it


class AgentLost(Event, tag="agent.lost"):
    agent: str
    reason: str = ""


# --- tasks and approvals ----------------------------------------------------------------------


class TaskCreated(Event, tag="task.created"):
    task: str
    title: str
    description: str = ""
    role: str = ""
    column: str = "backlog"
    depends_on: list[str] = []
    acceptance: list[str] = []
    tags: list[str] = []
    parent: str | None = None
    agent: str | None = None


class TaskUpdated(Event, tag="task.updated"):
    task: str
    title: str | None = None
    description: str | None = None
    role: str | None = None
    tags: list[str] | None = None
    depends_on: list[str] | None = None


class TaskAssigned(Event, tag="task.assigned"):
    """``agent`` None unassigns. ``reason`` says why (routing decisions always give one)."""

    task: str
    agent: str | None = None
    reason: str = ""


class TaskMoved(Event, tag="task.moved"):
    task: str
    column: str
    from_column: str = ""
    reason: str = ""
    agent: str | None = None


class TaskReported(Event, tag="task.reported"):
    """An agent says it finished (``outcome`` done) or cannot go on (blocked) with a task;
    routing decides what happens next."""

    task: str
    outcome: str
    agent: str | None = None
    note: str = ""


class TaskNote(Event, tag="task.note"):
    """Handoff or decision text left on a task. ``kind``: note, handoff, decision, blocked."""

    task: str
    text: str
    kind: str = "note"
    agent: str | None = None


class ApprovalRequested(Event, tag="approval.requested"):
    task: str
    approval: str
    transition: str = ""
    to_column: str = ""
    reason: str = ""


class ApprovalGranted(Event, tag="approval.granted"):
    task: str
    approval: str
    comment: str = ""


class ApprovalDenied(Event, tag="approval.denied"):
    task: str
    approval: str
    comment: str = ""


class CostReported(Event, tag="cost.reported"):
    """Tokens spent and what they cost. ``input_tokens`` is fresh input; prompt-cache writes
    and reads are counted apart. ``message`` names the model call in the agent's transcript
    (one call may be reported in several parts as its usage grows); ``sidechain`` calls were
    made by one of the agent's sub-agents (so their model is not the agent's)."""

    agent: str | None = None
    task: str | None = None
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    message: str = ""
    sidechain: bool = False


EVENT_TYPES: tuple[type[Event], ...] = (
    LogHeader,
    ConfigLoaded,
    DaemonStopped,
    Error,
    Alert,
    HostUnreachable,
    HostReachable,
    AgentSpawned,
    AgentStarted,
    AgentOutput,
    AgentStatus,
    AgentSession,
    AgentTouched,
    AgentPaused,
    AgentResumed,
    AgentPrompted,
    AgentExited,
    AgentRestarting,
    AgentKilled,
    AgentLost,
    TaskCreated,
    TaskUpdated,
    TaskAssigned,
    TaskMoved,
    TaskReported,
    TaskNote,
    ApprovalRequested,
    ApprovalGranted,
    ApprovalDenied,
    CostReported,
    WorkspaceCreated,
    WorkspaceSwitched,
    WorkspaceChanged,
    WorkspaceRemoved,
    MergeQueued,
    MergeStarted,
    MergeChecked,
    MergeMerged,
    MergeFailed,
)

#: The tagged union of ``EVENT_TYPES`` (one list to keep), for ``msgspec.json.Decoder(AnyEvent)``.
AnyEvent = Union[EVENT_TYPES]  # type: ignore[valid-type]  # noqa: UP007

EVENTS_BY_TYPE: dict[str, type[Event]] = {
    cls.__struct_config__.tag: cls for cls in EVENT_TYPES  # type: ignore[misc]
}


class UnknownEvent(msgspec.Struct, kw_only=True):
    """A record whose ``type`` this version does not know: kept (so it is written back and
    replayed as it was) and skipped by the fold."""

    type_name: str
    seq: int = 0
    ts: float = 0.0
    raw: bytes = b""


def is_chatty(event: Event) -> bool:
    return type(event).chatty


def event_from_dict(data: dict[str, Any]) -> Event:
    """Validate a plain dict (e.g. from an inbox file) into an event; raises msgspec errors."""
    return msgspec.convert(data, AnyEvent)
