"""``fleet-tui validate`` warns, one line per agent and exit 0, when an agent's program would
not be found by the spawn (the agent's own PATH if its env sets one, a '/' name from its cwd)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FLEET = """\
fleet: x
agents:
  - {name: found, command: [sh, -c, 'exit 0']}
  - {name: missing, command: [no-such-program-for-fleet-tui], replicas: 3}
  - {name: own-path, command: [sh], env: {PATH: /nonexistent}}
  - {name: script, command: [./run.sh], cwd: work}
  - {name: no-script, command: [./gone.sh], cwd: work}
  - {name: not-executable, command: [work/data.txt]}
  - {name: ugly, command: ["\\e]0;title\\a"]}
"""


def test_validate_warns_about_programs_not_found(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    script = tmp_path / "work" / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o700)
    (tmp_path / "work" / "data.txt").write_text("x")
    (tmp_path / "fleet.yaml").write_text(FLEET)
    out = subprocess.run([sys.executable, "-m", "fleet_tui.cli", "validate", "fleet.yaml"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60, env=os.environ)
    assert (out.returncode, out.stdout.splitlines()[0]) == (0, "ok: 9 agents, 0 tasks")
    assert out.stderr.splitlines() == [
        "fleet-tui: warning: agent 'missing': 'no-such-program-for-fleet-tui' is not on PATH "
        "(the agent would exit with 127)",
        "fleet-tui: warning: agent 'own-path': 'sh' is not on PATH (the agent would exit with 127)",
        "fleet-tui: warning: agent 'no-script': './gone.sh' is not an executable file "
        "(the agent would exit with 127)",
        "fleet-tui: warning: agent 'not-executable': 'work/data.txt' is not an executable file "
        "(the agent would exit with 127)",
        "fleet-tui: warning: agent 'ugly': '\\x1b]0;title\\x07' is not on PATH "
        "(the agent would exit with 127)",
    ]


def test_a_fleet_whose_programs_exist_validates_silently(tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text("fleet: x\nagents:\n  - {name: a, command: [python, -V]}\n")
    out = subprocess.run([sys.executable, "-m", "fleet_tui.cli", "validate", "fleet.yaml"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert (out.returncode, out.stdout.splitlines()[0], out.stderr) == (0, "ok: 1 agents, 0 tasks", "")
