"""The fleet.yaml schema as msgspec Structs (unknown fields are errors).

Durations are seconds as a number or a string with a unit: ``90``, ``"90s"``, ``"10m"``,
``"1h"``; ``duration_seconds`` turns them into seconds. The JSON Schema printed by
``fleet-tui schema`` is generated from these classes, so docstrings here are user-facing.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from fleet_tui.core.costs import Price

Duration = int | float | str

#: Built-in presets (see ``fleet_tui.config.presets`` and ``fleet_tui.config.agent_cli``).
Preset = Literal["claude", "codex", "aider", "gemini", "opencode", "shell", "demo", "none"]

RestartPolicy = Literal["never", "on-failure", "always"]

#: ``worktree``: the agent works in its own git worktree, on one branch per task (the default
#: when the fleet has a repository); ``shared``: in its ``cwd`` as it is.
WorkspaceMode = Literal["worktree", "shared"]


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    pass


class Budget(Strict):
    """Limits for one agent: tokens (input + output), dollars, and minutes spent running (not
    paused), summed over restarts. Going over one pauses the agent and raises an alert, once
    per limit: resuming it lets it go on until it goes over another."""

    tokens: int | None = None
    usd: float | None = None
    minutes: float | None = None


class StatusPatterns(Strict):
    """Regular expressions matched against the agent's visible screen."""

    waiting: list[str] = []
    working: list[str] = []
    idle: list[str] = []
    done: list[str] = []


class Subscription(Strict):
    """Prompt this agent when an event of type ``event`` matching ``where`` (field: value; a
    list field matches if it holds the value) is appended by or about another agent.
    ``prompt`` is a template with {type}, {summary}, {fields} and the event's fields; none
    are sent while ``routing.auto_route`` is false."""

    event: str
    where: dict[str, str] = {}
    prompt: str = ""


class AgentSpec(Strict):
    """One agent (or ``replicas`` of it, named ``name-1..N``). ``preset`` (how its screen is
    read, how it is told its model, its hooks) follows from the program's name when unset:
    ``claude``, ``codex``, ``aider``, ``gemini``, ``opencode``, a shell. ``model`` is passed as
    the CLI's own option (``--model``) for those presets unless the command has one."""

    name: str
    command: list[str]
    roles: list[str] = []
    cwd: str = "."
    env: dict[str, str] = {}
    model: str = ""
    prompt: str = ""
    preset: Preset | None = None
    status_patterns: StatusPatterns | None = None
    budget: Budget | None = None
    replicas: int = 1
    autostart: bool = True
    max_tasks: int | None = None
    stall_after: Duration | None = None
    restart: RestartPolicy | None = None
    max_restarts: int | None = None
    subscribe: list[Subscription] = []
    width: int | None = None
    height: int | None = None
    workspace: WorkspaceMode | None = None
    host: str = ""

    @property
    def role(self) -> str:
        return self.roles[0] if self.roles else ""


class HostSpec(Strict):
    """A machine agents run on (an agent's ``host: NAME``), reached over SSH: ``ssh`` is the
    destination (``user@host`` or ``host``), ``port`` and ``identity`` (a private key file)
    are optional. Its agents run in a private tmux server there, driven over one multiplexed
    SSH connection; the host needs tmux, Python and fleet-tui, and ``python`` names the
    interpreter that has fleet-tui installed. A remote agent's ``cwd`` is a path on that host
    (``.``: the login folder)."""

    name: str
    ssh: str
    port: int | None = None
    identity: str = ""
    python: str = "python3"


class Defaults(Strict):
    """Settings every agent gets unless it sets its own."""

    cwd: str = "."
    env: dict[str, str] = {}
    max_tasks: int = 1
    stall_after: Duration = "10m"
    restart: RestartPolicy = "never"
    max_restarts: int = 3
    budget: Budget | None = None
    width: int = 120
    height: int = 40
    history_limit: int = 50000
    workspace: WorkspaceMode | None = None


class TaskSpec(Strict):
    """A seed task, created when a new session starts."""

    id: str
    title: str
    description: str = ""
    role: str = ""
    column: str = "backlog"
    acceptance: list[str] = []
    blocked_by: list[str] = []
    tags: list[str] = []


class Stage(Strict):
    """One column of the pipeline, and the roles that work tasks in it."""

    name: str
    roles: list[str] = []


class Notify(Strict):
    """How the fleet calls you when it needs you: the terminal bell, a desktop notification
    through the terminal (OSC 777 / OSC 9), and/or a command run with the message as its last
    argument (an argv list, never a shell string)."""

    bell: bool = True
    desktop: bool = False
    command: list[str] = []


class Routing(Strict):
    auto_route: bool = True
    stages: list[Stage] = msgspec.field(default_factory=lambda: default_stages())
    prompt_template: str = ""


def default_stages() -> list[Stage]:
    return [Stage(name=n) for n in ("backlog", "ready", "in_progress", "review", "done")]


class Approval(Strict):
    """A transition that needs a person: ``from``/``to`` columns (either may be omitted, meaning
    any), or any move of a task carrying ``tag``."""

    from_: str | None = msgspec.field(default=None, name="from")
    to: str | None = None
    tag: str | None = None
    name: str = ""


class LogSettings(Strict):
    """The session log. Once the pane output logged in one session passes ``output_cap_mb``
    megabytes (of pane text), each agent's screen is logged at most once every
    ``sample_every``, and an alert says so; lifecycle, task and approval events are always
    logged."""

    output_cap_mb: float = 200
    sample_every: Duration = "5s"


class MergeCheck(Strict):
    """One check of the merge queue: an argv list (never a shell string) run in the merge
    worktree, failed if it exits non-zero or runs past ``timeout``."""

    run: list[str]
    timeout: Duration = "10m"


class MergeSettings(Strict):
    """The merge queue. A task reaching ``stage`` (default: the last stage, i.e. done after its
    approval) joins it; one at a time, in order, its branch is brought up to date with the base
    (``strategy``: merge the base in, or rebase onto it) in a merge worktree of its own, the
    ``checks`` run there in a pane of the fleet (each an argv list, or ``{run: [...], timeout:
    5m}``), and on success the base branch is fast-forwarded and the task moves to ``merged``.
    A conflict or a failed check sends the task back to its implementer with a note.
    ``delete_branch`` deletes the task's branch once merged; ``push`` names a remote to push
    the base branch to (``true``: origin); nothing is pushed without it."""

    stage: str | None = None
    checks: list[list[str] | MergeCheck] = []
    strategy: Literal["merge", "rebase"] = "merge"
    delete_branch: bool = False
    push: bool | str = False

    def check_list(self) -> list[MergeCheck]:
        """Every check with its timeout."""
        return [c if isinstance(c, MergeCheck) else MergeCheck(run=list(c)) for c in self.checks]

    @property
    def remote(self) -> str:
        """The remote to push to, or "" for none."""
        return "origin" if self.push is True else self.push or ""


class FleetConfig(Strict):
    """A fleet: its agents, seed tasks, routing, approval gates and look. ``prices`` are US
    dollars per million tokens by model id prefix (``claude-sonnet-4-5: {input: 3, output:
    15}``), over the built-in list prices; agents' real usage is costed with them. ``repo``:
    the git repository agents get worktrees of (default: the one holding fleet.yaml, if any;
    ``"@demo"``: a throwaway demo project fleet-tui makes in its state folder); ``base``: the
    branch task branches start from (default: the repository's current one)."""

    fleet: str
    agents: list[AgentSpec] = []
    defaults: Defaults = msgspec.field(default_factory=Defaults)
    tasks: list[TaskSpec] = []
    routing: Routing = msgspec.field(default_factory=Routing)
    approvals: list[Approval] = []
    log: LogSettings = msgspec.field(default_factory=LogSettings)
    theme: str = "fleet-dark"
    keymap: dict[str, str] = {}
    prices: dict[str, Price] = {}
    notify: Notify = msgspec.field(default_factory=Notify)
    repo: str = ""
    base: str = ""
    merge: MergeSettings | None = None
    hosts: list[HostSpec] = []


#: ``repo:`` naming the demo project rather than a folder.
DEMO_REPO = "@demo"


def duration_seconds(value: Duration) -> float:
    """``90`` / ``"90s"`` / ``"10m"`` / ``"1h"`` -> seconds. Raises ValueError for bad strings."""
    if isinstance(value, int | float):
        return float(value)
    text = value.strip().lower()
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    for suffix in ("ms", "s", "m", "h"):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * units[suffix]
    return float(text)
