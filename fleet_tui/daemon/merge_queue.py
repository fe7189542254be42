"""The merge queue's worker: one task at a time, in the queue's order, on a thread of its own
(woken by the rules' ``MergeNext``; at start it resumes a merge a previous daemon left).

For a task it: brings the branch up to date with the base in the merge worktree under the
session's folder (``adapters/merge_worktree.py``; never the agent's worktree), runs the
checks there in a pane of the fleet's tmux server (the pseudo-agent ``merge-queue``, a card
that can be zoomed and replayed like any agent, running ``python -m fleet_tui.check_runner``),
then moves the base branch and deletes or pushes as configured. Every step is an event:
``merge.started``, one ``merge.checked`` per check, then ``merge.merged`` or ``merge.failed``
with its reason (the rules send a failed task back to its implementer).
"""

from __future__ import annotations

import json
import shlex
import sys
import threading
from pathlib import Path

from fleet_tui.adapters import merge_worktree as mw
from fleet_tui.adapters import paths
from fleet_tui.adapters.git import GitError
from fleet_tui.config.resolve import AgentLaunch
from fleet_tui.config.schema import MergeSettings, duration_seconds
from fleet_tui.core import events as ev
from fleet_tui.core import workspace_events as wev
from fleet_tui.core.merge_rules import RUNNER
from fleet_tui.daemon.agents import AgentOps
from fleet_tui.daemon.pipeline import ServiceError

#: Times a merge is brought up to date again when the base moved meanwhile.
ATTEMPTS = 3
#: Seconds allowed beyond the checks' own timeouts (start, shutdown, exit seen by the monitor).
SLACK = 30.0


class _Failed(Exception):
    def __init__(self, reason: str, message: str, files: list[str] | None = None,
                 tail: list[str] | None = None) -> None:
        super().__init__(message)
        self.reason, self.files, self.tail = reason, files or [], tail or []


class _Stopping(Exception):
    """The fleet is closing: the merge is left for the next daemon to resume."""


class MergeQueue:
    def __init__(self, ops: AgentOps, settings: MergeSettings | None) -> None:
        self.ops = ops
        self.settings = settings
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        #: The runner's exits seen, by pane (told by the pipeline, under its lock).
        self._exits: dict[str, ev.AgentExited] = {}
        self._exited = threading.Condition()
        self._runs = 0
        ops.pipeline.listeners.append(self._observe)

    def kick(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self.settings is None:
            return
        self._thread = threading.Thread(target=self._run, name="fleet-merge", daemon=True)
        self._thread.start()
        self.kick()  # a merge a previous daemon left, or tasks queued meanwhile

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        with self._exited:
            self._exited.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _observe(self, event: ev.Event) -> None:
        if isinstance(event, ev.AgentExited) and event.agent == RUNNER:
            with self._exited:
                self._exits[event.pane] = event
                self._exited.notify_all()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait()
            self._wake.clear()
            while not self._stopping.is_set() and (task := self._next()) is not None:
                self._merge(task)
                if self._next() == task:
                    break  # its outcome was not recorded (the log refused it): wait for news

    def _next(self) -> str | None:
        with self.ops.pipeline.lock:
            merge = self.ops.state.merge
            return merge.current or (merge.queue[0] if merge.queue else None)

    def _submit(self, event: ev.Event) -> None:
        self.ops.submit(event)

    # --- one task ------------------------------------------------------------------------------

    def _merge(self, task: str) -> None:
        try:
            self._attempt(task)
        except (_Stopping, ServiceError):
            self._stopping.set()
        except _Failed as failed:
            self._fail(task, failed.reason, str(failed), failed.files, failed.tail)
        except mw.MergeRefused as refused:
            reason = wev.MERGE_CONFLICT if refused.files else wev.MERGE_ERROR
            self._fail(task, reason, str(refused), refused.files)
        except (GitError, OSError) as exc:
            self._fail(task, wev.MERGE_ERROR, f"the merge could not be done: {exc}")
        except Exception as exc:  # a bug must not stop the queue: the task leaves it, saying why
            self._fail(task, wev.MERGE_ERROR, f"the merge failed unexpectedly: {exc!r}")

    def _fail(self, task: str, reason: str, message: str, files: list[str] | None = None,
              tail: list[str] | None = None) -> None:
        try:
            self._submit(ev.MergeFailed(task=task, reason=reason, message=message,
                                        files=files or [], tail=tail or []))
        except ServiceError:
            self._stopping.set()  # the fleet is closing: the next daemon resumes the merge

    def _where(self, task: str) -> tuple[str, str, str, str, str]:
        """(repo, base, branch, agent, agent's worktree if on that branch) for ``task``."""
        with self.ops.pipeline.lock:
            state = self.ops.state
            branch = state.branches.get(task)
            workspace = state.workspaces.get(branch.agent) if branch else None
            if branch is None or workspace is None or not (workspace.repo and workspace.base):
                raise _Failed(wev.MERGE_ERROR, f"no repository known for {task}'s branch")
            tree = workspace.path if workspace.branch == branch.branch else ""
            return workspace.repo, workspace.base, branch.branch, branch.agent, tree

    def _attempt(self, task: str) -> None:
        settings = self.settings
        assert settings is not None
        repo, base, branch, agent, tree = self._where(task)
        path = mw.merge_path(paths.session_dir(self.ops.session_id) / "merge", repo)
        checks = settings.check_list()
        for _ in range(ATTEMPTS):
            base_commit = mw.prepare(repo, path, base)
            self._submit(ev.MergeStarted(task=task, branch=branch, base_commit=base_commit,
                                         path=str(path), runner=RUNNER if checks else ""))
            # Untracked files are left out: caches a tool made must not block every merge.
            left = mw.uncommitted(tree, untracked=False) if tree and Path(tree).is_dir() else []
            if left:
                raise _Failed(wev.MERGE_ERROR, f"{agent}'s worktree has uncommitted changes on "
                              f"{branch} ({', '.join(left[:8])}): commit them and report done again")
            commit = mw.integrate(path, branch, base, base_commit, settings.strategy)
            if checks:
                self._run_checks(task, path, checks, f"{branch} brought up to date with {base}")
            try:
                commits = mw.land(repo, base, base_commit, commit)
            except mw.BaseMoved:
                continue
            self._landed(task, repo, base, branch, commit, commits)
            return
        raise _Failed(wev.MERGE_ERROR, f"{base} kept moving while {task} was being merged")

    def _landed(self, task: str, repo: str, base: str, branch: str, commit: str,
                commits: list[str]) -> None:
        settings = self.settings
        assert settings is not None
        deleted = settings.delete_branch and mw.delete_branch(repo, branch)
        pushed = False
        if settings.remote:
            try:
                mw.push(repo, settings.remote, base)
                pushed = True
            except GitError as exc:
                self._submit(ev.Error(kind="merge", task=task,
                                      message=f"could not push {base} to {settings.remote}: {exc}"))
        self._submit(ev.MergeMerged(task=task, branch=branch, base=base, commit=commit,
                                    commits=commits, branch_deleted=deleted, pushed=pushed))

    # --- the checks, in a pane ------------------------------------------------------------------

    def _run_checks(self, task: str, path: Path, checks: list, what: str) -> None:
        runs = paths.ensure_private_dir(paths.session_dir(self.ops.session_id) / "merge-runs")
        self._runs += 1
        spec, result = runs / f"{self._runs}.json", runs / f"{self._runs}.result.json"
        result.unlink(missing_ok=True)
        timeouts = [duration_seconds(c.timeout) for c in checks]
        paths.replace_private(spec, json.dumps({
            "result": str(result),
            "checks": [{"run": c.run, "timeout": t} for c, t in zip(checks, timeouts, strict=True)],
        }).encode())
        ops = self.ops
        runner = ops.state.agents.get(RUNNER)
        if runner is not None and runner.alive:
            ops.driver.kill(RUNNER)  # a run a previous daemon left in the worktree
        ops.spawn(AgentLaunch(name=RUNNER, template=RUNNER, cwd=str(path), workspace="shared",
                              command=[sys.executable, "-m", "fleet_tui.check_runner", str(spec)]))
        with ops.pipeline.lock:
            pane = ops.state.agents[RUNNER].pane
        exited = self._wait_exit(pane, sum(timeouts) + SLACK)
        if exited is None:
            ops.driver.kill(RUNNER)
            raise _Failed(wev.MERGE_ERROR, f"the checks of {task} did not finish in time")
        try:
            ran = json.loads(result.read_text(encoding="utf-8"))["checks"]
        except (OSError, ValueError, KeyError):
            raise _Failed(wev.MERGE_ERROR, f"the check runner exited with code {exited.code} "
                          "without a result", tail=exited.last_lines) from None
        for r in ran:
            self._submit(ev.MergeChecked(task=task, check=r["check"], ok=r["ok"], code=r["code"],
                                         seconds=r["seconds"], tail=r["tail"]))
        failed = next((r for r in ran if not r["ok"]), None)
        if failed is not None:
            how = "timed out" if failed["code"] is None else f"exited with code {failed['code']}"
            raise _Failed(wev.MERGE_CHECK, f"check `{shlex.join(failed['check'])}` {how} on {what}: "
                          "fix it, commit, and report done again", tail=failed["tail"])

    def _wait_exit(self, pane: str, timeout: float) -> ev.AgentExited | None:
        with self._exited:
            self._exited.wait_for(lambda: pane in self._exits or self._stopping.is_set(), timeout)
            if self._stopping.is_set() and pane not in self._exits:
                raise _Stopping
            return self._exits.pop(pane, None)
