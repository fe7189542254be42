"""Carries out the overlap rule's conflict checks (``core/overlaps.py``) on a thread of its
own, so an alert never waits behind prompts or a merge: ``git merge-tree`` on the two heads
(``adapters/merge_tree.py``), then the core's ``checked`` decides the alert, recorded through
the pipeline. Checks of one overlap queued meanwhile are done once, for its latest heads, and
the answer for a pair of heads is kept (edits not committed yet do not run git again)."""

from __future__ import annotations

import queue

from fleet_tui.adapters.git import GitError
from fleet_tui.adapters.merge_tree import merge_conflicts
from fleet_tui.core import overlaps
from fleet_tui.core.overlaps import CheckOverlap, Conflict
from fleet_tui.daemon.pipeline import EventPipeline
from fleet_tui.daemon.queue_worker import QueueWorker

#: Answers kept before the oldest are forgotten.
KEPT = 1000


class OverlapChecker(QueueWorker[CheckOverlap]):
    thread_name = "fleet-overlaps"

    def __init__(self, pipeline: EventPipeline) -> None:
        super().__init__()
        self.pipeline = pipeline
        #: Conflicts found by pair of heads (commits do not change): at most ``KEPT``.
        self._known: dict[tuple[str, str], list[Conflict]] = {}

    def put(self, check: CheckOverlap) -> None:
        self._queue.put(check)

    def _batch(self) -> list[CheckOverlap] | None:
        """The next checks, the latest of each overlap; None to stop."""
        first = self._queue.get()
        batch = {} if first is None else {first.key: first}
        while True:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is None:
                return None
            batch[more.key] = more
        return None if first is None else list(batch.values())

    def _run(self) -> None:
        while (batch := self._batch()) is not None:
            for check in batch:
                self._check(check)

    def _check(self, check: CheckOverlap) -> None:
        conflicts: list[Conflict] | None = None
        problem = "no repository known for these branches"
        if check.repo and all(check.heads):
            conflicts = self._known.get(check.heads)
            try:
                if conflicts is None:
                    conflicts = merge_conflicts(check.repo, *check.heads)
                    self._known[check.heads] = conflicts
                    if len(self._known) > KEPT:
                        del self._known[next(iter(self._known))]
            except GitError as exc:
                problem = str(exc)
        elif check.repo:
            problem = "a branch has no commit yet"
        pipeline = self.pipeline
        with pipeline.lock:
            if pipeline.log is None:
                return
            alert = overlaps.checked(pipeline.state, check, conflicts, problem)
            if alert is not None:
                pipeline.submit(alert)
