"""The timeline follows new events while at the bottom and stays put while the user reads up;
its filter keeps the events of an agent, and of the host it runs on."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from fleet_tui.core import events as ev
from fleet_tui.core.state import AgentState
from fleet_tui.core.summary import subject
from fleet_tui.ui.timeline import Timeline, matches

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class TimelineApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Timeline()


def _events(n: int) -> list[ev.Event]:
    return [ev.TaskNote(task=f"T{i}", text=f"note {i}", seq=i + 1, ts=1.0 + i) for i in range(n)]


async def test_follows_live_and_holds_while_reading_back() -> None:
    app = TimelineApp()
    async with app.run_test(size=(80, 10)) as pilot:
        timeline = app.query_one(Timeline)
        for n in (3, 8, 30, 60):  # grows past the height, then keeps growing
            timeline.sync(_events(n))
            await pilot.pause()
            assert timeline.max_scroll_y > 0 or n < 10
            assert timeline.scroll_y == timeline.max_scroll_y, f"following at {n} events"
        timeline.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        timeline.sync(_events(80))
        await pilot.pause()
        assert timeline.scroll_y == 0  # the reader keeps their place
        timeline.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        timeline.sync(_events(90))
        await pilot.pause()
        assert timeline.scroll_y == timeline.max_scroll_y  # back at the bottom: following again


def test_an_agent_filter_keeps_its_hosts_events() -> None:
    hosts = {"far": "loop", "farther": "loop", "other": "elsewhere"}  # near runs here
    down = ev.HostUnreachable(host="loop", reason="connection refused")
    back = ev.HostReachable(host="loop", gap=3.0)
    alert = ev.Alert(kind=ev.ALERT_HOST, key="loop", message="host loop unreachable (retrying)")
    elsewhere = ev.HostUnreachable(host="elsewhere")
    stall = ev.Alert(kind=ev.ALERT_STALL, key="loop", message="stalled", agent="near")
    prompted = ev.AgentPrompted(agent="far", text="hi")
    near = ev.AgentPrompted(agent="near", text="hi")

    def kept(*words: str, known: dict[str, str] | None = hosts) -> list[ev.Event]:
        return [e for e in (down, back, alert, elsewhere, stall, prompted, near)
                if matches(e, words, known)]

    assert kept("agent:far") == [down, back, alert, prompted]
    assert kept("far") == [down, back, alert, prompted]  # a bare word names the agent too
    assert kept("agent:far", "type:host") == [down, back]
    assert kept("agent:other") == [elsewhere]
    assert kept("agent:near") == [stall, near]  # on this machine: no host's events
    assert kept("agent:far", known=None) == [prompted]  # without the hosts, as before
    assert kept("type:alert") == [alert, stall]
    assert kept("agent:loop") == [down, back, alert]  # the host's own name: its subject
    assert subject(down) == subject(alert) == "loop"


async def test_the_filter_follows_the_agents_hosts() -> None:
    far = AgentState(name="far", host="loop")
    events = [ev.HostUnreachable(host="loop", seq=1, ts=1.0),
              ev.AgentPrompted(agent="far", text="x", seq=2, ts=2.0)]
    async with TimelineApp().run_test(size=(80, 10)) as pilot:
        timeline = pilot.app.query_one(Timeline)
        timeline.set_filter("agent:far")
        timeline.sync(events)  # far not known yet: its host's event is not its own
        await pilot.pause()
        assert "host.unreachable" not in timeline.render_line(0).text
        timeline.sync(events, {"far": far})  # the same events, far's host known: redrawn
        await pilot.pause()
        assert [timeline.render_line(y).text.split()[1] for y in range(2)] == [
            "host.unreachable", "agent.prompted"]
