"""The pane monitor's map of panes (``adapters/pane_map.py``) kept across a link that dropped:
a pane id the server still shows for the same process is the same pane; an id a new server
gave again, to another agent or another process, is another pane (its own first screen)."""

from __future__ import annotations

from fleet_tui.adapters.pane_map import AgentSettings, OutputCap, PaneMap
from fleet_tui.adapters.tmux_cli import PaneInfo
from fleet_tui.core import events as ev


def row(agent: str, pane_id: str, pid: int) -> PaneInfo:
    return PaneInfo(agent=agent, session=f"fleet_{agent}", pane_id=pane_id, pid=pid, dead=False,
                    dead_status=None, dead_signal=None, width=20, height=2, window_id="@1")


def test_a_pane_id_given_again_by_a_new_server_is_another_pane() -> None:
    emitted: list[ev.Event] = []
    panes = PaneMap(emitted.append, lambda: 100.0, AgentSettings(None, None), OutputCap(None, 0, 1.0),
                    holds_task=lambda _a: False, exit_known=lambda _a, _p: False, working_for=3.0,
                    keyframe_interval=60.0)

    def listing(*rows: PaneInfo) -> set[str]:
        return panes.apply_listing(list(rows), {"@1"}, link=False, link_now=False, mono=1.0)[1]

    assert listing(row("a", "%0", 10)) == {"%0"}  # new: to be captured
    first = panes.panes["%0"]
    panes.apply_capture(first, ["hello", ""], 1.0)
    assert [type(e) for e in emitted] == [ev.AgentOutput, ev.AgentStatus]  # (working)

    assert listing(row("a", "%0", 10)) == set()  # the same pane, its screen known
    assert panes.panes["%0"] is first
    assert panes.apply_capture(first, ["hello", ""], 2.0) == (False, False)  # nothing new

    assert listing(row("a", "%0", 11)) == {"%0"}  # the same id, another process
    assert panes.panes["%0"] is not first and panes.by_agent == {"a": "%0"}
    assert listing(row("b", "%0", 12)) == {"%0"}  # the same id, another agent
    assert panes.panes["%0"].agent == "b" and panes.by_agent == {"b": "%0"}
