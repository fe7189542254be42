"""Turns an AgentSpec plus the fleet defaults into the concrete agents to launch.

``replicas: N`` becomes agents ``name-1..N``; relative ``cwd`` is taken from the config file's
folder; env is defaults.env overlaid with the agent's env, and a budget the defaults' budget
overlaid limit by limit with the agent's; durations become seconds. The preset follows from
the program when unset, and the command gets its CLI's model option and hooks
(``fleet_tui.config.agent_cli``). ``describe_agents`` says all that in lines for ``validate``.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from fleet_tui.config.agent_cli import MODEL_OPTIONS, has_option, hooks_added, launch_argv
from fleet_tui.config.presets import infer_preset
from fleet_tui.config.schema import (
    AgentSpec,
    Budget,
    FleetConfig,
    StatusPatterns,
    Subscription,
    duration_seconds,
)


class AgentLaunch(msgspec.Struct, kw_only=True):
    """Everything needed to start one agent process in tmux."""

    name: str
    template: str
    command: list[str]
    roles: list[str] = []
    cwd: str = "."
    env: dict[str, str] = {}
    model: str = ""
    prompt: str = ""
    preset: str = "none"
    status_patterns: StatusPatterns | None = None
    budget: Budget | None = None
    max_tasks: int = 1
    stall_after: float = 600.0
    restart: str = "never"
    max_restarts: int = 3
    subscribe: list[Subscription] = []
    width: int = 120
    height: int = 40
    #: ``worktree``, ``shared``, or "" (a worktree when the fleet has a repository).
    workspace: str = ""
    #: The ``hosts:`` entry the agent runs on ("": this machine).
    host: str = ""

    @property
    def role(self) -> str:
        return self.roles[0] if self.roles else ""


def resolve_agent(
    spec: AgentSpec, config: FleetConfig, base_dir: Path, name: str | None = None,
    hook: list[str] | None = None,
) -> AgentLaunch:
    """``hook``: how the agent's CLI calls ``fleet-tui hook`` (default: this interpreter)."""
    d = config.defaults
    cwd = Path(spec.cwd if spec.cwd != "." else d.cwd).expanduser()
    if spec.host:  # a path on the host: absolute, or "" for the login folder
        cwd_text = spec.cwd if spec.cwd.startswith("/") else ""
    elif not cwd.is_absolute():
        cwd_text = str((base_dir / cwd).resolve())
    else:
        cwd_text = str(cwd)
    preset = spec.preset or infer_preset(spec.command)
    if spec.host and hook is None:  # its hooks run on its host, with the host's Python
        python = next((h.python for h in config.hosts if h.name == spec.host), "python3")
        hook = [python, "-m", "fleet_tui.cli", "hook"]
    return AgentLaunch(
        name=name or spec.name,
        template=spec.name,
        command=launch_argv(preset, list(spec.command), spec.model, hook),
        roles=list(spec.roles),
        cwd=cwd_text,
        env={**d.env, **spec.env},
        model=spec.model,
        prompt=spec.prompt,
        preset=preset,
        status_patterns=spec.status_patterns,
        budget=_budget(d.budget, spec.budget),
        max_tasks=spec.max_tasks if spec.max_tasks is not None else d.max_tasks,
        stall_after=duration_seconds(
            spec.stall_after if spec.stall_after is not None else d.stall_after
        ),
        restart=spec.restart or d.restart,
        max_restarts=spec.max_restarts if spec.max_restarts is not None else d.max_restarts,
        subscribe=list(spec.subscribe),
        width=spec.width or d.width,
        height=spec.height or d.height,
        workspace=spec.workspace or d.workspace or "",
        host=spec.host,
    )


def _budget(default: Budget | None, own: Budget | None) -> Budget | None:
    if default is None or own is None:
        return own or default
    return Budget(**{f: getattr(own, f) if getattr(own, f) is not None else getattr(default, f)
                     for f in Budget.__struct_fields__})


def agent_names(spec: AgentSpec) -> list[str]:
    if spec.replicas <= 1:
        return [spec.name]
    return [f"{spec.name}-{i}" for i in range(1, spec.replicas + 1)]


def resolve_agents(config: FleetConfig, base_dir: Path, autostart_only: bool = True) -> list[AgentLaunch]:
    """The agents a new session starts, in config order."""
    return [
        resolve_agent(spec, config, base_dir, name)
        for spec in config.agents
        if spec.autostart or not autostart_only
        for name in agent_names(spec)
    ]


def describe_agents(config: FleetConfig) -> list[str]:
    """One line per agent entry: its preset (and whether it was inferred), its model and how
    the model reaches the CLI, for claude and codex whether fleet-tui adds its hooks, and the
    host it runs on when that is not this machine."""
    lines = []
    for spec in config.agents:
        preset = spec.preset or infer_preset(spec.command)
        how = "set" if spec.preset else "from the program name"
        if not spec.model:
            model = "model: the CLI's default"
        elif preset in MODEL_OPTIONS and has_option(spec.command, MODEL_OPTIONS[preset]):
            model = f"model: {spec.model} (the command's own {MODEL_OPTIONS[preset][0]} wins)"
        elif preset in MODEL_OPTIONS:
            model = f"model: {spec.model} ({MODEL_OPTIONS[preset][0]})"
        else:
            model = f"model: {spec.model} ($FLEET_MODEL only)"
        count = f" x{spec.replicas}" if spec.replicas > 1 else ""
        hooks = ""
        if preset in ("claude", "codex"):
            hooks = (", hooks: added at spawn" if hooks_added(preset, spec.command)
                     else ", hooks: none (the command sets its own)")
        where = f", on host {spec.host}" if spec.host else ""
        lines.append(f"  {spec.name}{count}: preset {preset} ({how}), {model}{hooks}{where}")
    return lines
