"""The merge queue end to end in a real daemon on a real tmux server, with real git
repositories: a task reaching done is merged into main (its checks run in a pane of the
fleet, a card of its own), a failing check and a conflict send it back to its implementer with
a note, and a dirty checkout of main is never moved. The workspace events are recorded as the
workspace watcher would record them, about worktrees the test makes with git."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fleet_tui.adapters import merge_worktree as mw
from fleet_tui.config.errors import ConfigError
from fleet_tui.config.loader import load_config_text
from fleet_tui.core import events as ev
from fleet_tui.core import workspace_events as wev
from fleet_tui.core.merge_rules import RUNNER
from fleet_tui.core.state import MERGED
from fleet_tui.daemon.service import FleetService
from tests.fleets import Daemons, fleet
from tests.gitrepo import add_worktree, commit, git, make_repo
from tests.helpers import retry_until
from tests.merge_repos import LINES, PROJECT, changed, created, edited

STAGES = [{"name": "backlog"}, {"name": "in_progress", "roles": ["developer"]}, {"name": "done"}]
#: An implementer that takes prompts and does nothing with them.
IDLER = {"name": "dev", "roles": ["developer"], "command": ["cat"], "preset": "shell"}


def check(code: str, **more: Any) -> dict[str, Any]:
    """A check running ``code`` with this Python (an argv list, no shell)."""
    return {"run": [sys.executable, "-c", code], **more}


PASSES = check("import pathlib, sys; print('tests pass'); "
               "sys.exit(0 if 'done' in pathlib.Path('app.py').read_text() else 1)")
FAILS = check("import sys\nfor i in range(30): print(f'test {i} ok')\n"
              "print('FAILED test_login')\nsys.exit(3)")


@pytest.fixture
def make_service(tmp_path: Path, tmux_socket: str) -> Iterator[Callable[..., FleetService]]:
    made = Daemons(tmp_path, tmux_socket)
    yield lambda config=None: made(config).service
    made.stop_all()


def _start(make_service, tmp_path: Path, **merge: Any) -> tuple[FleetService, Path, Path]:
    """A fleet whose one developer holds T1 on branch fleet/T1 of a repository with main
    checked out; returns the service, the repository and the developer's worktree."""
    orch = make_service(fleet(IDLER, {**IDLER, "name": "dev2"}, stages=STAGES, tasks=[], approvals=[],
                              routing={"stages": STAGES, "auto_route": False}, merge=merge))
    orch.start()
    repo, _ = make_repo(tmp_path / "repo", PROJECT)
    return orch, repo, _hold(orch, repo, tmp_path, "dev", "T1")


def _hold(orch: FleetService, repo: Path, tmp_path: Path, agent: str, task: str) -> Path:
    """``agent`` holds ``task`` in in_progress, its worktree on fleet/<task>; the worktree."""
    tree = add_worktree(repo, tmp_path / f"{agent}-tree", f"fleet/{task}")
    orch.submit(ev.TaskCreated(task=task, title="Login", column="in_progress", source=ev.SOURCE_USER))
    orch.submit(ev.TaskAssigned(task=task, agent=agent, reason="test"))
    orch.submit(created(agent, repo, tree))
    orch.submit(ev.WorkspaceSwitched(agent=agent, task=task, branch=f"fleet/{task}",
                                     base_commit=git(repo, "rev-parse", "main")))
    return tree


def _finish(orch: FleetService, tree: Path, files: dict[str, str], agent: str = "dev",
            task: str = "T1") -> None:
    """The developer commits ``files`` and reports the task done."""
    commit(tree, files, "login form")
    orch.submit(changed(agent, task, tree, sorted(files)))
    orch.submit(ev.TaskReported(task=task, outcome="done", agent=agent, note="ready"))


def _merge_events(orch: FleetService) -> list[ev.Event]:
    return [e for e in orch.state.timeline if e.type_name.startswith("merge.")]


def _failure(orch: FleetService) -> ev.MergeFailed:
    return retry_until(lambda: next((e for e in _merge_events(orch) if isinstance(e, ev.MergeFailed)), None),
                       timeout=60, message="the merge failed")


def test_a_task_reaching_done_is_merged_into_main_after_its_checks_pass_in_a_pane(
        make_service, tmp_path: Path) -> None:
    orch, repo, tree = _start(make_service, tmp_path, checks=[PASSES], delete_branch=True, push=True)
    main_before = git(repo, "rev-parse", "main")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    _finish(orch, tree, {"app.py": edited(3, "done")})

    retry_until(lambda: orch.state.tasks["T1"].column == MERGED, timeout=60, message="T1 merged")
    kinds = [e.type_name for e in _merge_events(orch)]
    assert kinds == ["merge.queued", "merge.started", "merge.checked", "merge.merged"]
    queued, started, checked, merged = _merge_events(orch)
    assert queued.reason == "T1 reached done" and started.base_commit == main_before
    assert started.runner == RUNNER and Path(started.path).is_dir()
    assert not Path(started.path).is_relative_to(tree) and checked.ok and checked.code == 0
    assert "tests pass" in checked.tail
    assert merged.commit == git(repo, "rev-parse", "main") == git(tree, "rev-parse", "HEAD")
    assert merged.commits == [merged.commit]  # main had not moved: a fast-forward
    assert (repo / "app.py").read_text() == edited(3, "done")  # the user's checkout followed
    assert git(repo, "status", "--porcelain") == ""
    assert not merged.branch_deleted  # the developer's worktree still has it checked out
    assert merged.pushed and git(remote, "rev-parse", "main") == merged.commit
    runner = orch.state.agents[RUNNER]
    assert runner.exit_code == 0 and not runner.alive  # its card, with the run's screen
    assert orch.state.merge.queue == [] and orch.state.merge.current == ""
    moved = [e for e in orch.state.timeline if isinstance(e, ev.TaskMoved) and e.column == MERGED]
    assert moved[0].reason.startswith("merged into main at ")


def test_the_queue_merges_one_task_at_a_time_in_order(make_service, tmp_path: Path) -> None:
    orch, repo, tree = _start(make_service, tmp_path, checks=[check("print('ok')")])
    other = _hold(orch, repo, tmp_path, "dev2", "T2")
    _finish(orch, tree, {"app.py": edited(3, "done")})
    _finish(orch, other, {"util.py": edited(9, "done too")}, agent="dev2", task="T2")

    retry_until(lambda: all(orch.state.tasks[t].column == MERGED for t in ("T1", "T2")), timeout=60,
                message="T1 and T2 merged")
    steps = [(e.type_name, e.task) for e in _merge_events(orch) if e.type_name != "merge.queued"]
    assert steps == [("merge.started", "T1"), ("merge.checked", "T1"), ("merge.merged", "T1"),
                     ("merge.started", "T2"), ("merge.checked", "T2"), ("merge.merged", "T2")]
    assert (repo / "app.py").read_text() == edited(3, "done")
    assert (repo / "util.py").read_text() == edited(9, "done too")
    parents = git(repo, "rev-list", "--parents", "-n", "1", "main").split()
    assert len(parents) == 3  # main had moved: T2 came in with a merge commit


def test_a_failing_check_sends_the_task_back_to_its_implementer_with_the_last_lines(
        make_service, tmp_path: Path) -> None:
    orch, repo, tree = _start(make_service, tmp_path, checks=[FAILS])
    main_before = git(repo, "rev-parse", "main")
    _finish(orch, tree, {"app.py": edited(3, "done")})

    failed = _failure(orch)
    assert failed.reason == wev.MERGE_CHECK and "exited with code 3" in failed.message
    assert failed.tail[-1] == "FAILED test_login"
    retry_until(lambda: orch.state.tasks["T1"].assignee == "dev", timeout=10, message="T1 back to dev")
    task = orch.state.tasks["T1"]
    assert task.column == "in_progress"
    note = task.notes[-1]
    assert note.kind == "blocked" and "FAILED test_login" in note.text and "exited with code 3" in note.text
    prompt = retry_until(lambda: next((e for e in orch.state.timeline if isinstance(e, ev.AgentPrompted)
                                       and e.agent == "dev"), None), timeout=10, message="dev prompted")
    assert prompt.text.startswith("Sent back to you.") and "FAILED test_login" in prompt.text
    assert git(repo, "rev-parse", "main") == main_before
    assert orch.state.merge.failures == {"T1": wev.MERGE_CHECK}


def test_a_conflict_with_main_sends_the_task_back_with_the_conflicting_files(
        make_service, tmp_path: Path) -> None:
    orch, repo, tree = _start(make_service, tmp_path, strategy="rebase")
    main_moved = commit(repo, {"app.py": edited(3, "main's own")}, "meanwhile on main")
    _finish(orch, tree, {"app.py": edited(3, "done"), "new.py": "x = 1\n"})

    failed = _failure(orch)
    assert failed.reason == wev.MERGE_CONFLICT and failed.files == ["app.py"]
    retry_until(lambda: orch.state.tasks["T1"].assignee == "dev", timeout=10, message="T1 back to dev")
    note = orch.state.tasks["T1"].notes[-1]
    assert "conflicting files: app.py" in note.text and "git merge main" in note.text
    assert git(repo, "rev-parse", "main") == main_moved
    assert git(tree, "status", "--porcelain") == ""  # the developer's worktree untouched
    assert RUNNER not in orch.state.agents  # no checks configured: no pane


def test_main_checked_out_with_uncommitted_changes_is_never_moved(make_service, tmp_path: Path) -> None:
    orch, repo, tree = _start(make_service, tmp_path)
    main_before = git(repo, "rev-parse", "main")
    (repo / "util.py").write_text("the user's own edit\n")
    _finish(orch, tree, {"app.py": edited(3, "done")})

    failed = _failure(orch)
    assert failed.reason == wev.MERGE_ERROR and "uncommitted changes (util.py)" in failed.message
    assert git(repo, "rev-parse", "main") == main_before
    assert (repo / "util.py").read_text() == "the user's own edit\n"


def test_merge_settings_are_checked() -> None:
    for text, problem in (
        ("merge: {stage: shipped}", "merge.stage: unknown stage 'shipped'"),
        ("merge: {checks: [[]]}", "merge.checks[0]: a check is an argv list and must not be empty"),
        ("merge: {checks: [{run: [make], timeout: 0}]}", "merge.checks[0].timeout: a duration must be"),
        ("merge: {push: --force}", "merge.push: '--force' is not a remote name"),
        ("merge: {strategy: squash}", "merge.strategy: expected one of: merge, rebase"),
        ("agents: [{name: merge-queue, command: [x]}]\nmerge: {}", "the merge queue's card"),
    ):
        with pytest.raises(ConfigError, match=re.escape(problem)):
            load_config_text(f"fleet: t\n{text}\n")
    merge = load_config_text("fleet: t\nmerge: {checks: [[make, test]], push: true}\n").merge
    assert merge is not None and merge.remote == "origin" and merge.strategy == "merge"
    assert [(c.run, c.timeout) for c in merge.check_list()] == [(["make", "test"], "10m")]


def test_the_check_runner_ends_a_check_past_its_timeout_and_runs_no_more(tmp_path: Path) -> None:
    spec, result = tmp_path / "spec.json", tmp_path / "result.json"
    spec.write_text(json.dumps({"result": str(result), "checks": [
        {"run": [sys.executable, "-c", "print('started', flush=True); import time; time.sleep(60)"],
         "timeout": 0.5},
        {"run": [sys.executable, "-c", "print('never')"], "timeout": 5},
    ]}))
    done = subprocess.run([sys.executable, "-m", "fleet_tui.check_runner", str(spec)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and "never" not in done.stdout
    [ran] = json.loads(result.read_text())["checks"]
    assert ran["code"] is None and not ran["ok"] and ran["tail"] == ["started", "timed out after 0.5s"]


def test_work_left_uncommitted_in_the_implementers_worktree_is_not_merged_without_it(
        make_service, tmp_path: Path) -> None:
    orch, repo, tree = _start(make_service, tmp_path)
    main_before = git(repo, "rev-parse", "main")
    commit(tree, {"app.py": edited(3, "done")})
    (tree / "util.py").write_text("half done\n")
    (tree / ".cache").write_text("a tool's leftovers are not work\n")
    orch.submit(changed("dev", "T1", tree, ["app.py", "util.py"]))
    orch.submit(ev.TaskReported(task="T1", outcome="done", agent="dev"))

    failed = _failure(orch)
    assert failed.reason == wev.MERGE_ERROR
    assert "dev's worktree has uncommitted changes on fleet/T1 (util.py)" in failed.message
    assert git(repo, "rev-parse", "main") == main_before
    assert (tree / "util.py").read_text() == "half done\n"


def test_the_merge_worktree_is_reset_between_runs_and_made_again_when_git_lost_it(tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path / "repo", PROJECT)
    path = tmp_path / "state" / "merge" / "x"
    main = git(repo, "rev-parse", "main")
    assert mw.prepare(str(repo), path, "main") == main
    (path / "leftover.txt").write_text("from the last run")
    (path / "app.py").write_text("changed by the last run")
    assert mw.prepare(str(repo), path, "main") == main
    assert not (path / "leftover.txt").exists() and (path / "app.py").read_text() == LINES
    shutil.rmtree(repo / ".git" / "worktrees")  # e.g. pruned meanwhile
    assert mw.prepare(str(repo), path, "main") == main
    assert str(path) in git(repo, "worktree", "list") and git(repo, "status", "--porcelain") == ""
