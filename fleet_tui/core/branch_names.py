"""Task branch names: ``fleet/<task>``, the task id made a valid git branch name (the same id
always gives the same name; ids that are valid names already are kept as they are)."""

from __future__ import annotations

import re
from collections.abc import Iterable

PREFIX = "fleet/"
_BAD = re.compile(r"[^A-Za-z0-9._-]+")


def branch_for(task: str) -> str:
    """``fleet/<task>``: characters git refuses become ``-``, no ``..``, no leading dot or dash,
    no ``.lock`` ending."""
    name = _BAD.sub("-", task)
    name = re.sub(r"\.{2,}", ".", name).strip(".-")
    if name.endswith(".lock"):
        name = name[: -len(".lock")] + "-lock"
    return PREFIX + (name[:200] or "task")


def task_of(branch: str, tasks: Iterable[str]) -> str:
    """The task among ``tasks`` (ids) whose branch is ``branch``, or ""."""
    if not branch.startswith(PREFIX):
        return ""
    return next((t for t in tasks if branch_for(t) == branch), "")
