"""Overlaps between task branches: the pure rule (when, once per episode, cleared), git
merge-tree finding real conflicts and their hunks without touching any worktree, and the
daemon raising the alert from ``workspace.changed`` events about real worktrees."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fleet_tui.adapters.merge_tree import merge_conflicts
from fleet_tui.config.schema import FleetConfig
from fleet_tui.core import events as ev
from fleet_tui.core import overlaps
from fleet_tui.core.fold import fold
from fleet_tui.core.overlaps import CheckOverlap, Conflict
from fleet_tui.core.rules import react
from fleet_tui.core.state import FleetState
from fleet_tui.daemon.policies import fleet_policy
from fleet_tui.daemon.service import FleetService
from fleet_tui.ui.card_overlap import overlap_label
from tests.fleets import Daemons, fleet
from tests.gitrepo import add_worktree, commit, git, make_repo
from tests.helpers import retry_until
from tests.merge_repos import PROJECT, changed, created, edited


def _changed(agent: str, task: str, paths: list[str], head: str = "h") -> ev.WorkspaceChanged:
    return ev.WorkspaceChanged(agent=agent, task=task, branch=f"fleet/{task}", head=head * 40,
                               files=[ev.FileChange(path=p, added=1) for p in paths])


class Fleet:
    """A state and the overlap rule's reactions, folding what the rule (and the checker,
    answering every check with ``conflicts``) would record."""

    def __init__(self) -> None:
        self.state = FleetState()
        self.alerts: list[ev.Alert] = []
        self.checks: list[CheckOverlap] = []
        self.conflicts: list[Conflict] | None = []

    def apply(self, event: ev.Event) -> None:
        fold(self.state, event)
        alerts, checks = overlaps.on_event(self.state, event)
        for alert in alerts:
            self.record(alert)
        for check in checks:
            self.checks.append(check)
            alert = overlaps.checked(self.state, check, self.conflicts)
            if alert is not None:
                self.record(alert)

    def record(self, alert: ev.Event) -> None:
        assert isinstance(alert, ev.Alert)
        self.alerts.append(alert)
        fold(self.state, alert)


def test_an_overlap_is_alerted_once_an_episode_and_cleared_when_one_side_drops_the_file() -> None:
    f = Fleet()
    f.apply(_changed("dev-1", "T1", ["a.py", "b.py"]))
    f.apply(_changed("dev-2", "T2", ["c.py"]))
    assert f.alerts == []
    f.apply(_changed("dev-2", "T2", ["c.py", "a.py"], head="i"))
    [alert] = f.alerts
    assert alert.kind == ev.ALERT_OVERLAP and not alert.cleared
    assert alert.key == overlaps.pair_key("T2", "T1") == '["T1","T2"]'
    assert (alert.agent, alert.task, alert.files) == ("dev-1", "T1", ["a.py"])
    assert "dev-1 (T1) and dev-2 (T2) both change a.py" in alert.message
    assert overlap_label(f.state, "dev-1") == "⚠ T2@dev-2"
    assert overlap_label(f.state, "dev-2") == "⚠ T1@dev-1"

    f.apply(_changed("dev-1", "T1", ["a.py", "b.py", "d.py"], head="j"))  # the same episode
    f.apply(_changed("dev-2", "T2", ["a.py"], head="k"))
    assert len(f.alerts) == 1

    f.apply(_changed("dev-2", "T2", ["c.py"], head="l"))  # dropped a.py: over
    cleared = f.alerts[-1]
    assert cleared.cleared and cleared.key == alert.key and len(f.alerts) == 2
    assert f.state.overlaps == {} and f.state.alerts == 1  # a clearing is not a new alert
    assert overlap_label(f.state, "dev-1") == ""

    f.apply(_changed("dev-2", "T2", ["a.py"], head="m"))  # a new episode
    assert len(f.alerts) == 3 and not f.alerts[-1].cleared


def test_a_merged_side_clears_the_overlap_and_a_conflict_escalates_once() -> None:
    f = Fleet()
    f.apply(_changed("dev-1", "T1", ["a.py"]))
    f.apply(_changed("dev-2", "T2", ["a.py"]))
    assert [a.kind for a in f.alerts] == [ev.ALERT_OVERLAP]
    f.conflicts = [Conflict("a.py", ((3, 7),))]
    f.apply(_changed("dev-2", "T2", ["a.py"], head="i"))
    assert [a.kind for a in f.alerts] == [ev.ALERT_OVERLAP, ev.ALERT_CONFLICT]
    assert "would conflict in a.py (lines 3-7)" in f.alerts[-1].message
    assert overlap_label(f.state, "dev-1") == "✖ T2@dev-2"
    f.apply(_changed("dev-2", "T2", ["a.py"], head="j"))  # no more checks once conflicting
    assert len(f.alerts) == 2 and len(f.checks) == 2

    f.apply(ev.MergeMerged(task="T1", branch="fleet/T1", base="main", commit="c" * 40))
    assert f.alerts[-1].cleared and f.alerts[-1].kind == ev.ALERT_CONFLICT
    assert f.alerts[-1].message == "over: T1 is merged"
    assert f.state.overlaps == {}


def test_three_branches_on_one_file_are_three_pairs_and_hostile_ids_keep_keys_apart() -> None:
    f = Fleet()
    for agent, task in (("a", 'x"|y'), ("b", "x"), ("c", 'y"|x')):
        f.apply(_changed(agent, task, ["same.py"]))
    keys = {a.key for a in f.alerts}
    assert len(keys) == 3 and all(overlaps.pair_of(k) for k in keys)


def test_the_rules_ask_for_checks_and_the_daemon_policy_keeps_them_apart() -> None:
    state = FleetState()
    policy = fleet_policy(FleetConfig(fleet="t"), {})
    for event in (_changed("dev-1", "T1", ["a.py"]), _changed("dev-2", "T2", ["a.py"])):
        fold(state, event)
        events, commands = react(state, policy, event)
    assert events == [] and [type(c) for c in commands] == [CheckOverlap]


def test_merge_tree_finds_real_conflicts_and_their_hunks_without_touching_worktrees(tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path / "repo", PROJECT)
    one = add_worktree(repo, tmp_path / "one", "fleet/T1")
    two = add_worktree(repo, tmp_path / "two", "fleet/T2")
    head1 = commit(one, {"app.py": edited(3, "one")})
    head2 = commit(two, {"app.py": edited(3, "two"), "util.py": edited(18, "two")})
    (two / "scratch.txt").write_text("uncommitted")
    before = [git(t, "status", "--porcelain") for t in (repo, one, two)]

    [conflict] = merge_conflicts(repo, head1, head2)
    assert conflict.path == "app.py" and conflict.hunks == ((3, 7),)
    assert [git(t, "status", "--porcelain") for t in (repo, one, two)] == before
    assert git(repo, "rev-parse", "main") == git(repo, "rev-parse", "fleet/T1~1")

    head2 = commit(two, {"app.py": edited(15, "two")})  # app.py now touches another line
    assert merge_conflicts(repo, head1, head2) == []


@pytest.fixture
def make_service(tmp_path: Path, tmux_socket: str) -> Iterator[Callable[..., FleetService]]:
    made = Daemons(tmp_path, tmux_socket)
    yield lambda config=None: made(config).service
    made.stop_all()


def test_the_daemon_alerts_a_real_conflict_between_two_worktrees_and_clears_it(
        make_service, tmp_path: Path) -> None:
    orch = make_service(fleet(tasks=[], approvals=[], stages=[{"name": "backlog"}, {"name": "done"}]))
    orch.start()
    repo, _ = make_repo(tmp_path / "repo", PROJECT)
    one = add_worktree(repo, tmp_path / "one", "fleet/T1")
    two = add_worktree(repo, tmp_path / "two", "fleet/T2")
    orch.submit(created("dev-1", repo, one))
    orch.submit(created("dev-2", repo, two))
    commit(one, {"app.py": edited(3, "one")})
    orch.submit(changed("dev-1", "T1", one, ["app.py"]))
    commit(two, {"app.py": edited(3, "two")})
    orch.submit(changed("dev-2", "T2", two, ["app.py"]))

    alert = retry_until(lambda: next((e for e in orch.state.timeline if isinstance(e, ev.Alert)), None),
                        timeout=10, message="the conflict alert")
    assert alert.kind == ev.ALERT_CONFLICT and alert.files == ["app.py"]
    assert "dev-1 (T1) and dev-2 (T2) both change app.py" in alert.message
    assert "app.py (lines 3-7)" in alert.message

    commit(two, {"app.py": edited(3, "line 3")})  # back to the base's: T2 drops app.py
    orch.submit(changed("dev-2", "T2", two, []))
    retry_until(lambda: not orch.state.overlaps, timeout=10, message="the overlap cleared")
    kinds = [(e.kind, e.cleared) for e in orch.state.timeline if isinstance(e, ev.Alert)]
    assert kinds == [(ev.ALERT_CONFLICT, False), (ev.ALERT_CONFLICT, True)]
