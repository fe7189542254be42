"""Where an agent's program is found: the PATH a spawn gives the agent and the lookup it makes,
shared by the tmux driver and ``fleet-tui validate`` (which warns about a command that would
not be found, i.e. exit with 127, before anything starts)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from fleet_tui.config.errors import one_line
from fleet_tui.config.resolve import resolve_agent
from fleet_tui.config.schema import FleetConfig


def spawn_path(env: Mapping[str, str]) -> str:
    """An agent's PATH: the agent's own ``PATH`` (its env, else ours), after the folder of
    fleet-tui's interpreter, so ``python`` and ``fleet-tui`` in commands and hooks mean
    fleet-tui's own environment."""
    base = env.get("PATH") or os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    return os.pathsep.join([os.path.dirname(sys.executable), base])


def find_program(program: str, cwd: str, path: str) -> str | None:
    """The file ``program`` runs, as exec would find it: a name with a '/' is taken from
    ``cwd``, a bare name is looked up in ``path``; None if there is no such executable."""
    if "/" in program:
        full = program if os.path.isabs(program) else os.path.join(cwd, program)
        return full if os.path.isfile(full) and os.access(full, os.X_OK) else None
    return shutil.which(program, path=path)


def missing_programs(config: FleetConfig, base_dir: Path) -> list[str]:
    """One warning per agent (replicas share theirs) whose program would not be found here
    (an agent on another host is looked up there, when it starts)."""
    warnings = []
    for spec in config.agents:
        if spec.host:
            continue
        launch = resolve_agent(spec, config, base_dir)
        program = launch.command[0]
        if find_program(program, launch.cwd, spawn_path(launch.env)) is None:
            where = "is not an executable file" if "/" in program else "is not on PATH"
            warnings.append(one_line(f"agent '{spec.name}': '{program}' {where} "
                                     "(the agent would exit with 127)"))
    return warnings
