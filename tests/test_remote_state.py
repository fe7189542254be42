"""A remote host's link dropping and coming back, as the fold sees it: that host's live agents
are ``unreachable`` (not lost, not exited) and back to what they showed; others untouched."""

from __future__ import annotations

from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from fleet_tui.core.state import EXITED, IDLE, UNREACHABLE, WORKING, FleetState
from fleet_tui.core.summary import summarize


def test_a_dropped_link_makes_its_agents_unreachable_until_it_is_back() -> None:
    state = fold_all([
        ev.AgentSpawned(agent="far", host="gpu", ts=1),
        ev.AgentStarted(agent="far", pane="%1", ts=1),
        ev.AgentStatus(agent="far", status=WORKING, ts=2),
        ev.AgentSpawned(agent="gone", host="gpu", ts=1),
        ev.AgentExited(agent="gone", code=0, ts=2),
        ev.AgentSpawned(agent="here", ts=1),
        ev.AgentStatus(agent="here", status=IDLE, ts=2),
        ev.HostUnreachable(host="gpu", reason="connection closed", ts=3),
    ], FleetState())
    agents = state.agents
    assert agents["far"].host == "gpu"
    assert (agents["far"].status, agents["far"].alive, agents["far"].status_since) == (UNREACHABLE, True, 3)
    assert agents["gone"].status == EXITED and agents["here"].status == IDLE
    assert state.hosts_down == {"gpu": "connection closed"}
    assert state.copy().hosts_down is not state.hosts_down
    assert agents["far"].out_of_reach.startswith("far runs on host gpu, which cannot be reached")
    assert agents["here"].out_of_reach == ""
    back = ev.HostReachable(host="gpu", gap=4.0, ts=7)
    fold_all([back], state)
    assert (agents["far"].status, agents["far"].unreachable) == (WORKING, False)
    assert state.hosts_down == {} and agents["far"].out_of_reach == ""
    fold_all([ev.HostUnreachable(host="gpu", ts=8), ev.ConfigLoaded(path="f", ts=9)], state)
    assert state.hosts_down == {}  # a new daemon says again which hosts it cannot reach
    assert summarize(back) == "host gpu back after a gap of 4s (its agents' screens captured again)"
