"""Worktrees run by the real daemon, on a real tmux server and real git repositories: each
agent gets its own worktree as its cwd; a routed task puts it on ``fleet/<task>`` before the
prompt; a dirty tree holds the assignment back with one alert and lets it go once clean;
changes reach ``workspace.changed`` through the watcher; a task coming back reuses its branch;
restarted daemons and new sessions adopt worktrees; prune never loses work; the log folded
again shows the same file lists."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fleet_tui.adapters import worktrees as wt
from fleet_tui.adapters.eventlog_read import read_log
from fleet_tui.cli import main
from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from fleet_tui.core.state import IDLE
from fleet_tui.core.workspace_events import ALERT_WORKSPACE, FileChange
from fleet_tui.daemon.service import FleetService
from fleet_tui.replay.report import markdown_report
from tests.fleets import DEV, REV, Daemons, answer_questions, fleet
from tests.gitrepo import commit, make_repo
from tests.helpers import retry_until

#: A pipeline with one work stage (no reviewer): a routed task stays with the developer.
DEV_ONLY = [{"name": "backlog"}, {"name": "ready"}, {"name": "in_progress", "roles": ["developer"]},
            {"name": "done"}]


def _fleet(*agents: dict, stages: list[dict] | None = None, **more: object) -> dict:
    """The fleet's repository is ``proj`` beside fleet.yaml; agents work in its root."""
    return fleet(*agents, stages=stages, repo="proj", defaults={"cwd": "proj"}, **more)


def _events(orch: FleetService, kind: type) -> list:
    with orch.pipeline.lock:
        return [e for e in orch.state.timeline if isinstance(e, kind)]


def _log(orch: FleetService, kind: type) -> list:
    return [e for e in read_log(orch.log_path)[0] if isinstance(e, kind)]


def _tree(orch: FleetService, agent: str) -> Path:
    return Path(retry_until(lambda: (w := orch.state.workspaces.get(agent)) and w.path,
                            message=f"{agent}'s worktree"))


def test_a_dirty_tree_holds_the_task_back_once_and_lets_it_go_when_clean(
        tmp_path: Path, tmux_socket: str) -> None:
    make_repo(tmp_path / "proj")
    made = Daemons(tmp_path, tmux_socket)
    daemon = made(_fleet(DEV, stages=DEV_ONLY, approvals=[],
                         tasks=[{"id": "T1", "title": "Login", "role": "developer", "column": "backlog"}]))
    orch = daemon.service
    try:
        daemon.start()
        tree = _tree(orch, "dev")
        assert tree.is_relative_to(tmp_path / "fleet-home" / "worktrees")
        assert orch.launches["dev"].cwd == str(tree)
        [spawned] = _events(orch, ev.AgentSpawned)
        assert spawned.cwd == str(tree)
        retry_until(lambda: orch.state.agents["dev"].status == IDLE, timeout=20, message="dev idle")

        (tree / "scratch.txt").write_text("half done\n")  # seen through the watcher
        retry_until(lambda: orch.state.workspaces["dev"].dirty, message="the dirty tree seen")
        assert orch.state.workspaces["dev"].files == [FileChange("scratch.txt", 1, 0)]
        orch.ops.task_move("T1", "ready")
        held = retry_until(lambda: [e for e in _events(orch, ev.AgentPrompted) if not e.delivered],
                           message="the prompt held back")
        assert held[0].reason.startswith("held back: dev's worktree has uncommitted changes (1 paths)")
        retry_until(lambda: orch.state.tasks["T1"].column == "ready"
                    and orch.state.tasks["T1"].assignee is None, message="T1 back in ready")
        [alert] = [a for a in _events(orch, ev.Alert) if a.kind == ALERT_WORKSPACE]
        assert (alert.agent, alert.task, alert.key) == ("dev", "T1", "dirty")
        assert (tree / "scratch.txt").read_text() == "half done\n"  # never discarded

        (tree / "scratch.txt").unlink()
        [switched] = retry_until(lambda: _events(orch, ev.WorkspaceSwitched), message="the switch")
        assert (switched.agent, switched.task, switched.branch, switched.created) == (
            "dev", "T1", "fleet/T1", True)
        assert switched.base_commit == wt.commit_of(str(tmp_path / "proj"), "main")
        assert wt.worktree_at(str(tmp_path / "proj"), tree).branch == "fleet/T1"
        retry_until(lambda: [e for e in _events(orch, ev.AgentPrompted) if e.delivered and e.task == "T1"],
                    timeout=10, message="T1's prompt delivered after the switch")
        assert len([a for a in _events(orch, ev.Alert) if a.kind == ALERT_WORKSPACE]) == 1

        commit(tree, {"app.py": "one\n"}, "dev's work")
        (tree / "more.py").write_text("a\nb\nc\n")
        want = [FileChange("app.py", 0, 2), FileChange("more.py", 3, 0)]
        retry_until(lambda: orch.state.branches["T1"].files == want, message="T1's files")
        head = wt.inspect(tree, "main").head
        assert orch.state.workspaces["dev"].head == head
    finally:
        made.stop_all()
    events = read_log(orch.log_path)[0]
    replayed = fold_all(events)
    assert replayed.workspaces["dev"].files == want and replayed.branches["T1"].files == want
    assert replayed.branches["T1"].head == head
    report = markdown_report(events)
    assert "#### T1 on `fleet/T1`" in report and f"commits: `{head[:10]}`." in report
    assert "| app.py | 0 | 2 |" in report and "| more.py | 3 | 0 |" in report
    assert f"| dev | {tree} | T1 | 2 | 1 |" in report


def test_a_task_moving_between_agents_takes_its_branch_and_comes_back_to_it(
        tmp_path: Path, tmux_socket: str) -> None:
    make_repo(tmp_path / "proj")
    made = Daemons(tmp_path, tmux_socket)
    daemon = made(_fleet(DEV, REV))
    orch = daemon.service
    try:
        daemon.start()

        def switches() -> list[tuple[str, str, bool]]:
            answer_questions(orch)
            return [(e.agent, e.task, e.created) for e in _events(orch, ev.WorkspaceSwitched)]

        retry_until(lambda: len(switches()) >= 5, timeout=60, interval=0.1, message="T1 back with dev")
        assert switches()[:5] == [("dev", "T1", True),   # new branch from the base
                                  ("dev", "", True),     # dev lets it go: the reviewer takes it
                                  ("rev", "T1", False),
                                  ("rev", "", True),     # sent back: dev takes it again
                                  ("dev", "T1", False)]
        assert not wt.dirty_paths(_tree(orch, "dev"))
    finally:
        made.stop_all()


def test_daemons_adopt_worktrees_and_prune_keeps_work(
        tmp_path: Path, tmux_socket: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    make_repo(tmp_path / "proj")
    made = Daemons(tmp_path, tmux_socket)
    config = _fleet(DEV, REV, stages=DEV_ONLY, approvals=[], tasks=[])
    daemon = made(config)
    daemon.start()
    dev, rev = _tree(daemon.service, "dev"), _tree(daemon.service, "rev")
    (rev / "notes.md").write_text("mine\n")
    retry_until(lambda: daemon.service.state.workspaces["rev"].dirty, message="rev's change seen")
    daemon.close()
    changed = len(_log(daemon.service, ev.WorkspaceChanged))

    again = made()  # the same session: nothing made or announced again
    again.start()
    assert again.service.session_id == daemon.service.session_id
    assert len(_log(again.service, ev.WorkspaceCreated)) == 2
    assert len(_log(again.service, ev.WorkspaceChanged)) == changed
    assert again.service.launches["dev"].cwd == str(dev)
    again.service.ops.kill("dev")  # killing an agent keeps its worktree
    retry_until(lambda: not again.service.state.agents["dev"].alive, message="dev killed")
    assert dev.is_dir()

    monkeypatch.setenv("FLEET_TMUX_SOCKET", tmux_socket)
    monkeypatch.chdir(tmp_path)
    assert main(["workspaces", "prune"]) == 0  # through the daemon: rev runs, dev is merged
    out = capsys.readouterr().out
    assert f"removed dev: {dev}" in out and "kept rev: its agent is running in it" in out
    assert not dev.exists() and (rev / "notes.md").read_text() == "mine\n"
    [removed] = retry_until(lambda: _events(again.service, ev.WorkspaceRemoved), message="removed event")
    assert removed.agent == "dev"
    again.service.ops.restart("dev")  # its worktree made again, at the latest base
    retry_until(lambda: again.service.state.agents["dev"].alive, message="dev restarted")
    assert dev.is_dir() and again.service.state.agents["dev"].cwd == str(dev)
    assert [(e.agent, e.adopted) for e in _log(again.service, ev.WorkspaceCreated)][2:] == [("dev", False)]
    again.kill_agents = True
    again.close()  # the fleet stops: the next daemon opens a new session

    third = made()
    third.start()
    assert third.service.session_id != daemon.service.session_id
    created = {e.agent: e.adopted for e in _log(third.service, ev.WorkspaceCreated)}
    assert created == {"dev": True, "rev": True}  # found on disk: announced in the new log
    assert (rev / "notes.md").read_text() == "mine\n"
    assert len(wt.fleet_worktrees(third.service.workspaces.repo, rev.parent)) == 2
    third.kill_agents = True
    third.close()
    assert main(["workspaces", "prune"]) == 0  # no daemon: git directly
    out = capsys.readouterr().out
    assert f"removed dev: {dev}" in out
    assert "kept rev: uncommitted changes or untracked files (1 paths)" in out
    assert main(["workspaces", "--json"]) == 0
    assert '"agent":"rev"' in capsys.readouterr().out
    assert os.path.exists(rev / "notes.md")


def test_cwd_maps_into_the_worktree_and_shared_agents_stay_put(tmp_path: Path, tmux_socket: str) -> None:
    make_repo(tmp_path / "proj")
    commit(tmp_path / "proj", {"src/main.py": "x\n"}, "src")
    made = Daemons(tmp_path, tmux_socket)
    ops = {"name": "ops", "command": ["sleep", "1000"], "workspace": "shared"}
    outside = {"name": "out", "command": ["sleep", "1000"], "cwd": str(tmp_path)}
    daemon = made(_fleet({**DEV, "cwd": "proj/src"}, ops, outside, stages=DEV_ONLY, approvals=[], tasks=[]))
    orch = daemon.service
    try:
        daemon.start()
        tree = _tree(orch, "dev")
        assert orch.launches["dev"].cwd == str(tree / "src")
        assert orch.launches["ops"].cwd == str(tmp_path / "proj")
        assert orch.launches["out"].cwd == str(tmp_path)  # outside the repository: no worktree
        assert set(orch.state.workspaces) == {"dev"}
    finally:
        made.stop_all()
