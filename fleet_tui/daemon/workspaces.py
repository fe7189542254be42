"""The agents' worktrees, run by the daemon: each agent (``workspace: worktree``, the default
when the fleet has a repository) gets its own git worktree in the fleet's state folder, made
once and adopted by later daemons and sessions; its ``cwd`` maps into it. When a task is routed
to it, the worktree is put on ``fleet/<task>`` before the prompt goes (``prepare``); a tree
with uncommitted work is never switched: the prompt is held back (routing takes the task back
as for an undelivered prompt) and an alert says why, once until the tree is clean. The watcher
reports changes, and each becomes a ``workspace.changed`` event when what the worktree changes
against the base differs from what the log last said.

Git work on the worktrees is done one operation at a time (``_git``), never under the
pipeline's lock.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from fleet_tui.adapters import paths
from fleet_tui.adapters import worktrees as wt
from fleet_tui.adapters.git import GitError
from fleet_tui.adapters.worktree_watch import Watched, WorktreeWatcher
from fleet_tui.config.loader import LoadedConfig
from fleet_tui.config.resolve import AgentLaunch
from fleet_tui.config.schema import DEMO_REPO
from fleet_tui.core import events as ev
from fleet_tui.core.branch_names import branch_for, task_of
from fleet_tui.core.workspace_events import ALERT_WORKSPACE
from fleet_tui.daemon.pipeline import EventPipeline


class Workspaces:
    def __init__(self, loaded: LoadedConfig, pipeline: EventPipeline, fleet_key: str) -> None:
        self.loaded = loaded
        self.fleet_key = fleet_key
        self.pipeline = pipeline
        self.folder = Path(os.path.realpath(paths.worktrees_dir(fleet_key)))
        self.repo: wt.Repo | None = None
        self._git = threading.RLock()
        #: Worktrees by agent.
        self._watched: dict[str, Watched] = {}
        #: Agents whose dirty tree held a task back and was alerted (until it is clean).
        self._alerted: set[str] = set()
        self._last_error = ""
        self._watcher = WorktreeWatcher(self._on_change, self._error)

    def open(self, launches: list[AgentLaunch]) -> None:
        """Find the repository and give each agent its worktree (call with the log open)."""
        try:
            self.repo = wt.fleet_repo(self.loaded, self.fleet_key)
        except GitError as exc:
            self._error(f"no worktrees: {exc}")
        asking = [launch.name for launch in launches if launch.workspace == "worktree"]
        if self.repo is None and asking:
            self._error(f"{', '.join(asking)}: workspace: worktree, but the fleet has no git repository "
                        "(set repo: in fleet.yaml); they work in their cwd")
        for launch in launches:
            self.place(launch)
        self._watcher.start()

    def stop(self) -> None:
        self._watcher.stop()

    def _error(self, message: str) -> None:
        if message != self._last_error:
            self._last_error = message
            self.pipeline.submit(ev.Error(kind="workspace", message=message))

    # --- making and adopting ----------------------------------------------------------------

    def place(self, launch: AgentLaunch) -> None:
        """Give ``launch`` its worktree (made, or found) and its ``cwd`` inside it; a shared agent,
        one on another host, one whose ``cwd`` is outside the repository, or a fleet without one
        is left as it is (the
        demo project's agents work at its top)."""
        repo, path = self.repo, wt.agent_tree(self.folder, launch.name)
        if repo is None or path is None or launch.workspace == "shared" or launch.host:
            return
        cwd = os.path.realpath(launch.cwd)
        inside = cwd == str(path) or cwd.startswith(f"{path}{os.sep}")  # placed before
        if inside and launch.name in self._watched and path.is_dir():
            return
        # the demo project lives in the state folder: its agents work at its top
        demo = self.loaded.config.repo == DEMO_REPO and not inside
        rel = "." if demo else os.path.relpath(cwd, path if inside else repo.root)
        if rel == os.pardir or rel.startswith(os.pardir + os.sep):
            return
        with self._git:
            try:
                self._ensure(launch.name, path)
                self._watched[launch.name] = Watched(tree=str(path), git_dir=wt.git_dir(path))
            except (GitError, OSError) as exc:
                self._error(f"{launch.name} works in {launch.cwd}: its worktree failed: {exc}")
                return
        launch.cwd = str(paths.make_private_dirs(path / rel) if rel != "." else path)
        self._watcher.set(self._watched)
        self._on_change({launch.name})

    def _ensure(self, agent: str, path: Path) -> None:
        assert self.repo is not None
        with self.pipeline.lock:
            known = self.pipeline.state.workspaces.get(agent)
        tree = wt.worktree_at(self.repo.root, path) if path.exists() else None
        if tree is None:
            if path.exists():
                path.rmdir()  # an empty leftover; anything else is not ours to delete (OSError)
            if known is not None:
                self.pipeline.submit(ev.WorkspaceRemoved(agent=agent, path=known.path,
                                                         reason="its folder is gone"))
            paths.make_private_dirs(path.parent)
            wt.add_worktree(self.repo, path)
            self.pipeline.submit(ev.WorkspaceCreated(agent=agent, path=str(path), repo=self.repo.root,
                                                     base=self.repo.base))
        elif known is None or known.path != str(path):
            self.pipeline.submit(ev.WorkspaceCreated(agent=agent, path=str(path), repo=self.repo.root,
                                                     base=self.repo.base, adopted=True))
            with self.pipeline.lock:
                task = task_of(tree.branch, self.pipeline.state.tasks)
            if task:
                self.pipeline.submit(ev.WorkspaceSwitched(
                    agent=agent, task=task, branch=tree.branch, created=False,
                    base_commit=wt.inspect(path, self.repo.base).base_commit))

    # --- one branch per task ----------------------------------------------------------------

    def prepare(self, agent: str, task: str) -> str:
        """Put ``agent``'s worktree on ``task``'s branch before its prompt goes; "" when done (or
        the agent has no worktree), else why the prompt must wait."""
        watched, repo = self._watched.get(agent), self.repo
        if watched is None or repo is None:
            return ""
        branch = branch_for(task)
        with self._git:
            try:
                return self._switch(agent, task, branch, watched.tree, repo)
            except GitError as exc:
                return self._hold(agent, task, f"{agent}'s worktree cannot go on {branch}: {exc}")

    def _switch(self, agent: str, task: str, branch: str, tree: str, repo: wt.Repo) -> str:
        trees = wt.list_worktrees(repo.root)
        mine = next((t for t in trees if os.path.realpath(t.path) == tree), None)
        if mine is not None and mine.branch == branch:
            return ""
        if count := wt.dirty_paths(tree):
            on = mine.branch if mine is not None and mine.branch else "its HEAD"
            return self._hold(agent, task,
                              f"{agent}'s worktree has uncommitted changes ({count} paths) on {on}")
        holder = next((t for t in trees if t.branch == branch and t is not mine), None)
        if holder is not None and (why := self._release(holder, branch)):
            return self._hold(agent, task, why)
        created = not wt.branch_exists(repo.root, branch)
        start = wt.commit_of(repo.root, repo.base) if created else ""
        wt.switch(tree, branch, start)
        base_commit = start or wt.inspect(tree, repo.base).base_commit
        self.pipeline.submit(ev.WorkspaceSwitched(agent=agent, task=task, branch=branch,
                                                  base_commit=base_commit, created=created))
        self.refresh(agent)
        return ""

    def _release(self, holder: wt.Worktree, branch: str) -> str:
        """Take ``branch`` from the worktree holding it (detached there, at the same commit);
        why not, if it cannot be."""
        other = next((a for a, w in self._watched.items() if w.tree == os.path.realpath(holder.path)), None)
        if other is None:
            return f"{branch} is checked out at {holder.path}, outside the fleet"
        if wt.dirty_paths(holder.path):
            return f"{branch} is checked out in {other}'s worktree, which has uncommitted changes"
        wt.detach(holder.path)
        self.pipeline.submit(ev.WorkspaceSwitched(agent=other, task="", branch="", base_commit=""))
        self.refresh(other)
        return ""

    def _hold(self, agent: str, task: str, why: str) -> str:
        if agent not in self._alerted:
            self._alerted.add(agent)
            self.pipeline.submit(ev.Alert(
                kind=ALERT_WORKSPACE, key="dirty", agent=agent, task=task,
                message=f"{task} waits: {why}; it goes on once the tree is clean"))
        self._on_change({agent})
        return f"held back: {why}"

    # --- what each worktree changed -----------------------------------------------------------

    def _on_change(self, agents: set[str]) -> None:
        for agent in sorted(agents):
            try:
                self.refresh(agent)
            except GitError as exc:
                self._error(f"{agent}'s worktree: {exc}")

    def refresh(self, agent: str) -> None:
        """Read the worktree and log ``workspace.changed`` if it differs from what the log says."""
        watched, repo = self._watched.get(agent), self.repo
        if watched is None or repo is None:
            return
        with self._git:
            snap = wt.inspect(watched.tree, repo.base)
            with self.pipeline.lock:
                state = self.pipeline.state
                ws = state.workspaces.get(agent)
                if ws is not None and (ws.head, ws.files, ws.dirty, ws.base_commit) == (
                        snap.head, snap.files, snap.dirty, snap.base_commit):
                    return
                same = ws is not None and ws.branch == snap.branch
                task = ws.task if ws is not None and same else task_of(snap.branch, state.tasks)
                self.pipeline.submit(ev.WorkspaceChanged(
                    agent=agent, task=task, branch=snap.branch, head=snap.head,
                    base_commit=snap.base_commit, files=snap.files, dirty=snap.dirty))
            if not snap.dirty:
                self._alerted.discard(agent)

    # --- pruning ------------------------------------------------------------------------------

    def prune(self) -> dict[str, list]:
        """``workspaces prune`` through the daemon: remove merged, clean worktrees of agents not
        running (each a ``workspace.removed`` event); say why each other one is kept."""
        repo = self.repo
        if repo is None:
            return {"removed": [], "kept": []}
        with self.pipeline.lock:
            busy = {name for name, a in self.pipeline.state.agents.items() if a.alive}
        with self._git:
            removed, kept = wt.prune_fleet(repo, self.folder, busy)
            for tree in removed:
                agent = Path(tree.path).name
                self._watched.pop(agent, None)
                self.pipeline.submit(ev.WorkspaceRemoved(agent=agent, path=tree.path,
                                                         reason=f"merged into {repo.base}, clean"))
        self._watcher.set(self._watched)
        return {"removed": [[Path(t.path).name, t.path] for t in removed], "kept": [list(k) for k in kept]}
