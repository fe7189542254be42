"""Event types: the one tagged union every log line, inbox file and command result is made of.

Each event is a msgspec Struct tagged by ``type`` (a dotted name). Every event carries
``seq`` (monotonic per log, set by the log writer), ``ts`` (seconds since the epoch, set by
whoever observed the event: the core never reads a clock) and ``source`` (``user``,
``orchestrator``, ``agent:<name>`` or ``hook:<name>``). Events about one agent or task carry
``agent`` / ``task``.

Schema rules: a new field must have a default, so older logs stay readable; a new event type
is just a new class in ``EVENT_TYPES``. Readers that meet a type they do not know keep it as an
``UnknownEvent`` and the fold skips it.
"""

from __future__ import annotations

from typing import Any, ClassVar, Union

import msgspec

SCHEMA_VERSION = 1

#: Event sources (``agent:<name>`` and ``hook:<name>`` are built with the helpers below).
SOURCE_USER = "user"
SOURCE_ORCHESTRATOR = "orchestrator"
#: The pane monitor's reading of an agent's screen (its ``agent.status`` events).
SOURCE_SCREEN = "screen"


def agent_source(name: str) -> str:
    return f"agent:{name}"


def hook_source(name: str) -> str:
    return f"hook:{name}"


class Event(msgspec.Struct, kw_only=True, tag_field="type", omit_defaults=True):
    """Fields every event has. Subclasses set ``tag`` to their dotted type name."""

    seq: int = 0
    ts: float = 0.0
    source: str = SOURCE_ORCHESTRATOR
    #: The inbox message this event came from (empty for everything else): makes ingestion
    #: idempotent across restarts.
    ref: str = ""

    #: The client (UI, command line, browser) through which a person caused this event; empty
    #: for everything the daemon, agents and hooks cause.
    client: str = ""

    #: Chatty events are group-committed; everything else is fsynced before append returns.
    chatty: ClassVar[bool] = False
    #: What the event means to the rest of the system: whether the timeline keeps it, and
    #: whether the rules react to it (pane contents do neither: they are not happenings).
    in_timeline: ClassVar[bool] = True
    reacts: ClassVar[bool] = True

    @property
    def type_name(self) -> str:
        return type(self).__struct_config__.tag  # type: ignore[return-value]


# --- log and config ---------------------------------------------------------------------------


class LogHeader(Event, tag="log.header"):
    schema: int = SCHEMA_VERSION
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
#: A remote host's link dropped (key: the host).
ALERT_HOST = "host"


class Alert(Event, tag="alert"):
    """Something a person should look at: ``budget``, ``stall``, ``exit``, ``restart``,
    ``delivery``, ``output`` (the session's pane output is being sampled), ``log``. ``key`` says
    what within its kind (a budget's dimension: ``usd``), so a rule can raise it once."""

    kind: str
    message: str
    agent: str | None = None
    task: str | None = None
    key: str = ""


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


class AgentOutput(Event, tag="agent.output"):
    """What the agent's pane shows: ``changes`` are ``(row, text)`` pairs against the previous
    screen, after scrolling it up by ``scroll`` rows (the lines the agent printed pushed the
    top ones out; blank rows come in at the bottom); a ``keyframe`` replaces the whole screen
    (``height`` rows, missing rows blank). Text keeps the pane's ANSI SGR colour codes."""

    chatty: ClassVar[bool] = True
    in_timeline: ClassVar[bool] = False
    reacts: ClassVar[bool] = False

    agent: str
    changes: list[tuple[int, str]] = []
    scroll: int = 0
    keyframe: bool = False
    width: int = 0
    height: int = 0
    #: The pane it came from (empty in older logs): output of a replaced pane is ignored.
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
