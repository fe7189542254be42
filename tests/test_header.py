"""The header line: agents by status with lost apart from exited, and unseen alerts."""

from __future__ import annotations

from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from fleet_tui.ui.header import header_text


def test_lost_agents_are_counted_apart_from_exited_ones_and_alerts_until_seen() -> None:
    state = fold_all([
        ev.LogHeader(fleet="crew"),
        *(ev.AgentSpawned(agent=name) for name in ("a", "b", "c")),
        *(ev.AgentStarted(agent=name, pane=f"%{i}") for i, name in enumerate(("a", "b", "c"))),
        ev.AgentExited(agent="a", code=1, pane="%0"),
        ev.AgentLost(agent="b", reason="its tmux session is gone"),
        ev.Alert(kind=ev.ALERT_EXIT, agent="a", message="a exited"),
        ev.Alert(kind=ev.ALERT_STALL, agent="c", message="c stalled"),
    ])
    assert state.alerts == 2
    text = header_text(state, unseen_alerts=2).plain
    assert "1 exited" in text and "1 lost" in text and "⚠ 2 alerts" in text
    assert "alert" not in header_text(state).plain
    assert "⚠ 1 alert " in header_text(state, unseen_alerts=1).plain + " "


def test_hosts_unreachable_are_named_until_they_are_back() -> None:
    state = fold_all([ev.LogHeader(fleet="crew"), ev.HostUnreachable(host="gpu", reason="refused")])
    assert "⚠ host gpu unreachable" in header_text(state).plain
    fold_all([ev.HostUnreachable(host="cpu")], state)
    assert "⚠ 2 hosts unreachable" in header_text(state).plain
    fold_all([ev.HostReachable(host="gpu"), ev.HostReachable(host="cpu")], state)
    assert "unreachable" not in header_text(state).plain
