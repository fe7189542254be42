"""Running the machine's git: one argv-list call with a bounded time, a clean environment (no
pager, no prompts, no user hooks reached through ``GIT_*`` variables) and a one-line error.
Every other module that needs git goes through ``run_git``."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

#: Seconds one git command may take before it is given up.
GIT_TIMEOUT = 60.0
#: git >= 2.38 has ``merge-tree --write-tree`` (conflicts found without touching a worktree).
MERGE_TREE_VERSION = (2, 38)


class GitError(Exception):
    """A git command failed: the message is one line (git's own first line of stderr)."""


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_PAGER="cat", PAGER="cat", LC_ALL="C",
               GIT_OPTIONAL_LOCKS="0")
    return env


def run_git(cwd: str | Path, args: Sequence[str], *, check: bool = True, timeout: float = GIT_TIMEOUT,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
    """``git -C cwd ARGS``; raises ``GitError`` (one line) when it fails and ``check`` is set.
    Output is text, decoded with replacement (file names and diffs may be any bytes)."""
    argv = ["git", "-C", str(cwd), *args]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, encoding="utf-8", errors="replace",
                              timeout=timeout, env=_environment(), input=input,
                              stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise GitError(f"git {' '.join(args[:2])} took over {timeout:g}s") from exc
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from exc
    if check and done.returncode != 0:
        first = next((line for line in done.stderr.splitlines() if line.strip()), f"exit {done.returncode}")
        raise GitError(f"git {' '.join(args[:2])}: {first.strip()}")
    return done


def git_version() -> tuple[int, ...]:
    """The machine's git version as numbers (``(2, 39, 5)``)."""
    words = run_git(".", ["--version"]).stdout.split()
    numbers = words[2].split(".") if len(words) > 2 else []
    return tuple(int(n) for n in numbers if n.isdigit())
