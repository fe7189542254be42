"""Stalls, exits and restarts, pure: one stall alert an episode, an exit alert for a held
task, on-failure restarts up to the limit (never after the user's kill), and late reports
about a replaced pane ignored."""

from __future__ import annotations

from fleet_tui.core import events as ev
from fleet_tui.core.failures import Restart, RestartPolicy
from fleet_tui.core.state import STALLED, WORKING
from fleet_tui.core.summary import summarize
from tests.world import World


def _fleet(mode: str = "on-failure", limit: int = 2) -> World:
    w = World(restarts={"dev": RestartPolicy(mode=mode, limit=limit)})
    w.apply(ev.AgentSpawned(agent="dev", roles=["developer"]), ev.AgentStarted(agent="dev", pane="%1"),
            ev.TaskCreated(task="T1", title="Login form", column="ready"))
    w.idle("dev")
    assert w.state.tasks["T1"].assignee == "dev"
    return w


def _alerts(w: World, kind: str) -> list[ev.Alert]:
    return [a for a in w.of(ev.Alert) if a.kind == kind]


def _respawn(w: World, pane: str) -> None:
    w.apply(ev.AgentSpawned(agent="dev", roles=["developer"]), ev.AgentStarted(agent="dev", pane=pane))


def test_a_stall_is_alerted_once_an_episode_and_not_while_paused() -> None:
    w = _fleet()
    stalled = ev.AgentStatus(agent="dev", status=STALLED, reason="no output for 600s")
    w.apply(stalled)
    [alert] = _alerts(w, ev.ALERT_STALL)
    assert (alert.agent, alert.task) == ("dev", "T1")
    assert alert.message == "dev stalled holding T1: no output for 600s"
    w.apply(ev.AgentStatus(agent="dev", status=STALLED))  # the monitor says it again
    assert len(_alerts(w, ev.ALERT_STALL)) == 1
    w.apply(ev.AgentStatus(agent="dev", status=WORKING), ev.AgentPaused(agent="dev"),
            ev.AgentStatus(agent="dev", status=STALLED))
    assert len(_alerts(w, ev.ALERT_STALL)) == 1  # paused on purpose: not a stall
    w.apply(ev.AgentResumed(agent="dev"))
    assert len(_alerts(w, ev.ALERT_STALL)) == 2


def test_on_failure_restarts_up_to_the_limit_then_alerts() -> None:
    w = _fleet()
    w.apply(ev.AgentExited(agent="dev", code=3, pane="%1", last_lines=["KeyError: 'x'"]))
    [exit_alert] = _alerts(w, ev.ALERT_EXIT)
    assert exit_alert.message == "dev exited (exit 3) holding T1"
    t1 = w.state.tasks["T1"]
    assert t1.column == "blocked" and "code 3" in t1.notes[-1].text and "KeyError" in t1.notes[-1].text
    [restarting] = w.of(ev.AgentRestarting)
    assert restarting.reason == "restart dev: on-failure, exit 3, attempt 1/2, in 1s"
    assert summarize(restarting) == restarting.reason
    assert w.commands[-1] == Restart(agent="dev", delay=1.0)
    _respawn(w, "%2")
    w.apply(ev.AgentExited(agent="dev", signal="SIGKILL", pane="%2"))
    assert w.of(ev.AgentRestarting)[-1].reason == \
        "restart dev: on-failure, signal SIGKILL, attempt 2/2, in 2s"
    _respawn(w, "%3")
    w.apply(ev.AgentExited(agent="dev", code=1, pane="%3"))
    assert len(w.of(ev.AgentRestarting)) == 2
    [limit] = _alerts(w, ev.ALERT_RESTART)
    assert limit.message == "dev exited (exit 1) after 2 restarts: not restarting it again (max_restarts 2)"
    assert len(_alerts(w, ev.ALERT_EXIT)) == 1  # it held no task the later times
    # the user starting it again begins a new count
    w.apply(ev.AgentSpawned(agent="dev", source=ev.SOURCE_USER), ev.AgentStarted(agent="dev", pane="%4"),
            ev.AgentExited(agent="dev", code=1, pane="%4"))
    assert w.of(ev.AgentRestarting)[-1].reason == "restart dev: on-failure, exit 1, attempt 1/2, in 1s"


def test_which_exits_are_restarted() -> None:
    clean = _fleet()
    clean.apply(ev.AgentExited(agent="dev", code=0, pane="%1"))
    unknown = _fleet()
    unknown.apply(ev.AgentExited(agent="dev", code=None, pane="%1"))
    never = _fleet(mode="never")
    never.apply(ev.AgentExited(agent="dev", code=2, pane="%1"))
    assert [w.of(ev.AgentRestarting) for w in (clean, unknown, never)] == [[], [], []]
    always = _fleet(mode="always")
    always.apply(ev.AgentExited(agent="dev", code=0, pane="%1"))
    assert always.of(ev.AgentRestarting)[0].reason == "restart dev: always, exit 0, attempt 1/2, in 1s"


def test_an_exit_the_user_caused_is_never_restarted_nor_alerted() -> None:
    w = _fleet(mode="always")
    w.stopping.add("dev")
    w.apply(ev.AgentExited(agent="dev", code=130, pane="%1"),
            ev.AgentKilled(agent="dev", how="interrupt", source=ev.SOURCE_USER))
    assert w.of(ev.AgentRestarting) == [] and w.of(ev.Alert) == []
    assert not any(isinstance(c, Restart) for c in w.commands)


def test_late_reports_about_a_replaced_pane_are_ignored() -> None:
    w = _fleet()
    w.apply(ev.AgentKilled(agent="dev", reason="restart", source=ev.SOURCE_USER))
    w.apply(ev.AgentSpawned(agent="dev", roles=["developer"], source=ev.SOURCE_USER))
    # between the spawn and the new pane's start, and after it: the old pane's exit is stale
    w.apply(ev.AgentExited(agent="dev", code=1, pane="%1"))
    assert w.state.agents["dev"].alive
    w.apply(ev.AgentStarted(agent="dev", pane="%2"),
            ev.AgentOutput(agent="dev", pane="%1", keyframe=True, changes=[(0, "old screen")]),
            ev.AgentOutput(agent="dev", pane="%2", keyframe=True, changes=[(0, "new screen")]),
            ev.AgentExited(agent="dev", code=1, pane="%1"))
    dev = w.state.agents["dev"]
    assert dev.alive and dev.screen == ["new screen"] and dev.exit_code is None
    assert w.of(ev.AgentRestarting) == [] and _alerts(w, ev.ALERT_EXIT) == []
    w.apply(ev.AgentExited(agent="dev", code=1, pane="%2"))
    assert not w.state.agents["dev"].alive and len(w.of(ev.AgentRestarting)) == 1


def test_restarts_back_off_doubling_to_the_cap_and_reset_after_a_long_run() -> None:
    policy = RestartPolicy(mode="always", limit=100, backoff=1.0, backoff_max=300.0, reset_after=60.0)
    w = World(restarts={"dev": policy})
    t = 1000.0
    delays = []
    for i in range(12):  # each incarnation fails 0.5 s after its spawn
        w.apply(ev.AgentSpawned(agent="dev", ts=t), ev.AgentStarted(agent="dev", pane=f"%{i}", ts=t),
                ev.AgentExited(agent="dev", code=1, pane=f"%{i}", ts=t + 0.5))
        [*_, restarting] = w.of(ev.AgentRestarting)
        delays.append(restarting.delay)
        dev = w.state.agents["dev"]
        assert dev.restart_at == restarting.ts + restarting.delay == restarting.ts + w.commands[-1].delay
        t += 0.5 + restarting.delay
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    assert w.of(ev.AgentRestarting)[3].reason.endswith("attempt 4/100, in 8s")
    assert w.of(ev.AgentRestarting)[9].reason.endswith("in 5min")
    # an incarnation that ran a minute starts the backoff over
    w.apply(ev.AgentSpawned(agent="dev", ts=t), ev.AgentStarted(agent="dev", pane="%50", ts=t),
            ev.AgentExited(agent="dev", code=1, pane="%50", ts=t + 60))
    assert w.of(ev.AgentRestarting)[-1].delay == 1.0
    # and so does the user starting it
    w.apply(ev.AgentSpawned(agent="dev", ts=t + 61), ev.AgentStarted(agent="dev", pane="%51", ts=t + 61),
            ev.AgentExited(agent="dev", code=1, pane="%51", ts=t + 61.5))
    assert w.of(ev.AgentRestarting)[-1].delay == 2.0
    w.apply(ev.AgentSpawned(agent="dev", source=ev.SOURCE_USER, ts=t + 70),
            ev.AgentStarted(agent="dev", pane="%52", ts=t + 70),
            ev.AgentExited(agent="dev", code=1, pane="%52", ts=t + 70.5))
    assert w.of(ev.AgentRestarting)[-1].delay == 1.0
    w.apply(ev.AgentKilled(agent="dev", source=ev.SOURCE_USER, ts=t + 71))
    assert w.state.agents["dev"].restart_at == 0.0  # no restart pending once the user stopped it
