"""Watching the agents' worktrees with watchfiles, on one thread, without polling them.

Each watched worktree is two folders: the work tree (changes under any ``.git`` folder and
files git ignores do not count) and its own git folder (``.git/worktrees/<name>`` of the main
repository: HEAD, index and HEAD's log change when the agent commits, stages or switches, while
its work tree may not change at all). Changes are coalesced by watchfiles (a burst is reported
once it pauses for ``STEP_MS``, or after ``COALESCE_MS`` at most), and ``on_change`` is called
once per batch with the keys of the worktrees that changed. Setting new folders restarts the
watch (worktrees come and go rarely), and every worktree is reported once then: what changed
while no watch ran is not lost.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import msgspec
import watchfiles

from fleet_tui.adapters.worktrees import ignored

#: The most a burst of changes is held before it is reported (ms).
COALESCE_MS = 300
#: A burst is reported once nothing changed for this long (ms).
STEP_MS = 50
#: Seconds before watching again after the watch failed (a folder removed under it).
RETRY_DELAY = 1.0


class Watched(msgspec.Struct, frozen=True):
    """One worktree: its work tree and its own git folder."""

    tree: str
    git_dir: str


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + os.sep)


class WorktreeWatcher:
    def __init__(self, on_change: Callable[[set[str]], None],
                 on_error: Callable[[str], None] = lambda message: None) -> None:
        self._on_change = on_change
        self._on_error = on_error
        self._watched: dict[str, Watched] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._restart = threading.Event()
        self._thread: threading.Thread | None = None

    def set(self, watched: dict[str, Watched]) -> None:
        """Watch these worktrees (by key) from now on."""
        with self._lock:
            if watched == self._watched:
                return
            self._watched = dict(watched)
        self._restart.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="worktrees", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._restart.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        started = False
        while not self._stop.is_set():
            self._restart.clear()
            with self._lock:
                watched = dict(self._watched)
            if started and watched:
                self._on_change(set(watched))
            started = True
            folders = [f for w in watched.values() for f in (w.tree, w.git_dir) if os.path.isdir(f)]
            if not folders:
                self._restart.wait()
                continue
            try:
                for changes in watchfiles.watch(
                    *folders, watch_filter=self._wanted(watched), debounce=COALESCE_MS,
                    step=STEP_MS, stop_event=self._restart, raise_interrupt=False,
                ):
                    keys = self._changed(watched, {path for _, path in changes})
                    if keys:
                        self._on_change(keys)
            except Exception as exc:  # a folder removed under the watch: watch the rest again
                self._on_error(f"watching worktrees: {type(exc).__name__}: {exc}")
                self._stop.wait(RETRY_DELAY)

    @staticmethod
    def _wanted(watched: dict[str, Watched]) -> Callable[[watchfiles.Change, str], bool]:
        git_dirs = [w.git_dir for w in watched.values()]

        def wanted(change: watchfiles.Change, path: str) -> bool:
            if any(_inside(path, d) for d in git_dirs):
                return not path.endswith(".lock")
            return ".git" not in path.split(os.sep)

        return wanted

    @staticmethod
    def _changed(watched: dict[str, Watched], paths: set[str]) -> set[str]:
        """The worktrees whose change counts: their git folder changed, or a path git does not
        ignore (one ``check-ignore`` per worktree and batch)."""
        keys = set()
        for key, w in watched.items():
            if any(_inside(p, w.git_dir) for p in paths):
                keys.add(key)
                continue
            names = [os.path.relpath(p, w.tree) for p in paths if _inside(p, w.tree)]
            try:
                if names and len(ignored(w.tree, names)) < len(names):
                    keys.add(key)
            except Exception:
                keys.add(key)  # cannot tell: look
        return keys
