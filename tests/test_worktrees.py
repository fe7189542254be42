"""The worktree adapter and its watcher on real git repositories: making, switching, reading
what a worktree changed (committed, uncommitted, untracked, binary), pruning that never loses
work, and the watcher reporting file writes and commits but not ignored files."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from fleet_tui.adapters import worktrees as wt
from fleet_tui.adapters.git import GitError, run_git
from fleet_tui.adapters.worktree_watch import Watched, WorktreeWatcher
from fleet_tui.config.loader import load_config
from fleet_tui.core.branch_names import branch_for, task_of
from fleet_tui.core.workspace_events import FileChange
from tests.gitrepo import commit, git, make_repo
from tests.helpers import retry_until


@pytest.fixture
def repo(tmp_path: Path) -> wt.Repo:
    make_repo(tmp_path / "repo")
    found = wt.find_repo(tmp_path / "repo")
    assert found is not None
    return found


def _tree(repo: wt.Repo, tmp_path: Path, name: str) -> Path:
    path = tmp_path / "trees" / name
    path.parent.mkdir(exist_ok=True)
    wt.add_worktree(repo, path)
    return path


def test_the_repo_holding_a_folder_and_its_current_branch(tmp_path: Path) -> None:
    make_repo(tmp_path / "repo", branch="trunk")
    (tmp_path / "repo" / "sub").mkdir()
    assert wt.find_repo(tmp_path / "repo" / "sub") == wt.Repo(root=str(tmp_path / "repo"), base="trunk")
    assert wt.find_repo(tmp_path / "elsewhere-not-made") is None
    (tmp_path / "plain").mkdir()
    assert wt.find_repo(tmp_path / "plain") is None
    with pytest.raises(GitError, match="not a git repository"):
        wt.find_repo(tmp_path, repo="plain")
    with pytest.raises(GitError, match="no branch 'nope'"):
        wt.find_repo(tmp_path / "repo", base="nope")


def test_a_new_worktree_is_detached_at_the_base_and_switches_to_a_task_branch(
        repo: wt.Repo, tmp_path: Path) -> None:
    path = _tree(repo, tmp_path, "dev")
    base = wt.commit_of(repo.root, repo.base)
    snap = wt.inspect(path, repo.base)
    assert (snap.head, snap.branch, snap.dirty, snap.files) == (base, "", False, [])
    wt.switch(path, "fleet/T1", base)
    assert wt.worktree_at(repo.root, path).branch == "fleet/T1"
    assert wt.branch_exists(repo.root, "fleet/T1")
    assert wt.git_dir(path).startswith(repo.root + "/.git/worktrees/")


def test_inspect_counts_committed_uncommitted_untracked_and_binary_changes(
        repo: wt.Repo, tmp_path: Path) -> None:
    path = _tree(repo, tmp_path, "dev")
    wt.switch(path, "fleet/T1", wt.commit_of(repo.root, repo.base))
    committed = commit(path, {"app.py": "one\nTWO\nthree\nfour\n"}, "work")
    (path / "lib.py").write_text("a\nb")  # untracked, no final newline
    (path / "logo.png").write_bytes(b"\x89PNG\0\0")
    (path / "debug.log").write_text("ignored\n")
    (path / "app.py").write_text("one\nTWO\n")  # uncommitted on top of the commit
    snap = wt.inspect(path, repo.base)
    assert snap.head == committed and snap.dirty
    assert snap.base_commit == wt.commit_of(repo.root, repo.base)
    assert snap.files == [FileChange("app.py", 1, 2), FileChange("lib.py", 2, 0),
                          FileChange("logo.png", -1, -1)]


def test_a_hostile_file_name_is_read_back_as_it_is(repo: wt.Repo, tmp_path: Path) -> None:
    path = _tree(repo, tmp_path, "dev")
    name = "we\tird \"name\"\n\x1b[31m.txt"
    (path / name).write_text("x\n")
    assert wt.inspect(path, repo.base).files == [FileChange(name, 1, 0)]


def test_prune_removes_merged_clean_worktrees_and_keeps_all_work(repo: wt.Repo, tmp_path: Path) -> None:
    base = wt.commit_of(repo.root, repo.base)
    merged = _tree(repo, tmp_path, "merged")
    unmerged = _tree(repo, tmp_path, "unmerged")
    wt.switch(unmerged, "fleet/T2", base)
    commit(unmerged, {"new.py": "x\n"}, "not in main")
    changed = _tree(repo, tmp_path, "changed")
    (changed / "app.py").write_text("edited\n")
    untracked = _tree(repo, tmp_path, "untracked")
    (untracked / "notes.md").write_text("mine\n")
    busy = _tree(repo, tmp_path, "busy")
    ignored_only = _tree(repo, tmp_path, "ignored")
    (ignored_only / "build").mkdir()
    (ignored_only / "build" / "out.o").write_text("ignored\n")
    merge_queue = _tree(repo, tmp_path, ".merge")  # the fleet's own, no agent's: never pruned

    removed, kept = wt.prune_fleet(repo, tmp_path / "trees", busy={"busy"})

    assert [Path(t.path).name for t in removed] == ["ignored", "merged"]
    assert not merged.exists() and not ignored_only.exists()
    assert dict(kept) == {
        "busy": "its agent is running in it",
        "changed": "uncommitted changes or untracked files (1 paths)",
        "unmerged": "fleet/T2 has commits not in main",
        "untracked": "uncommitted changes or untracked files (1 paths)",
    }
    assert (unmerged / "new.py").exists() and (changed / "app.py").read_text() == "edited\n"
    assert (untracked / "notes.md").read_text() == "mine\n" and busy.exists()
    run_git(repo.root, ["merge", "-q", "--ff-only", "fleet/T2"])
    removed, kept = wt.prune_fleet(repo, tmp_path / "trees", busy=set())
    assert [Path(t.path).name for t in removed] == ["busy", "unmerged"]
    assert [a for a, _ in kept] == ["changed", "untracked"]
    assert merge_queue.is_dir() and wt.worktree_at(repo.root, merge_queue) is not None


def test_list_fleet_shows_each_worktree(repo: wt.Repo, tmp_path: Path) -> None:
    path = _tree(repo, tmp_path, "dev")
    wt.switch(path, "fleet/T1", wt.commit_of(repo.root, repo.base))
    (path / "app.py").write_text("one\n")
    [row] = wt.list_fleet(repo, tmp_path / "trees")
    assert (row.agent, row.branch, row.files, row.added, row.removed, row.dirty) == (
        "dev", "fleet/T1", 1, 0, 2, True)


@pytest.mark.parametrize(("task", "branch"), [
    ("T1", "fleet/T1"), ("fix login", "fleet/fix-login"), ("..x..y.lock", "fleet/x.y-lock"),
    ("-a~b^c:d?e*f[g\\h", "fleet/a-b-c-d-e-f-g-h"), ("", "fleet/task"), ("\x1b[2J", "fleet/2J"),
])
def test_task_branch_names_are_valid_git_branches(repo: wt.Repo, task: str, branch: str) -> None:
    assert branch_for(task) == branch
    run_git(repo.root, ["check-ref-format", "--branch", branch])
    assert task_of(branch, ["other", task]) == task
    assert task_of("main", [task]) == ""


def test_the_watcher_reports_writes_and_commits_but_not_ignored_files(
        repo: wt.Repo, tmp_path: Path) -> None:
    a, b = _tree(repo, tmp_path, "a"), _tree(repo, tmp_path, "b")
    wt.switch(a, "fleet/A", wt.commit_of(repo.root, repo.base))
    seen: list[set[str]] = []
    changed = threading.Event()

    def on_change(keys: set[str]) -> None:
        seen.append(keys)
        changed.set()

    watcher = WorktreeWatcher(on_change)
    watched = {name: Watched(tree=str(p), git_dir=wt.git_dir(p)) for name, p in (("a", a), ("b", b))}
    assert WorktreeWatcher._changed(watched, {str(b / "x.log"), str(b / "build" / "o")}) == set()
    assert WorktreeWatcher._changed(watched, {str(b / "x.log"), str(b / "x.py")}) == {"b"}
    watcher.set(watched)
    watcher.start()
    try:
        # The watch starts on its thread: write until the first report shows it is on.
        retry_until(lambda: (b / "probe.txt").write_text(str(len(seen))) and changed.wait(0.2),
                    message="the watcher's first report")
        assert seen[-1] == {"b"}
        (a / "app.py").write_text("changed\n")
        retry_until(lambda: {"a"} in seen, message="a's write reported")
        git(a, "add", "-A")
        retry_until(lambda: seen.count({"a"}) >= 2, message="a's staging reported")
        seen.clear()  # the commit changes no file of the work tree: only its git dir
        git(a, "commit", "-q", "-m", "commit")
        retry_until(lambda: {"a"} in seen, message="a's commit reported")
    finally:
        watcher.stop()


def test_the_demo_fleet_works_in_its_throwaway_project_never_in_this_repository(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_HOME", str(tmp_path / "home"))
    project = Path(__file__).resolve().parent.parent
    found = wt.fleet_repo(load_config(project / "fleet.yaml"), "demo-key")
    assert found == wt.Repo(root=str(tmp_path / "home" / "demo" / "demo-key"), base="main")
    assert run_git(found.root, ["ls-files"]).stdout.split() == [
        ".gitignore", "README.md", "src/__init__.py", "src/app.py", "tests/__init__.py", "tests/test_app.py"]
    # made once: a second daemon finds the same project with its work
    commit(Path(found.root), {"NOTES.md": "kept\n"}, "notes")
    assert wt.fleet_repo(load_config(project / "fleet.yaml"), "demo-key") == found
    assert (Path(found.root) / "NOTES.md").read_text() == "kept\n"
