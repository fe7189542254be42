"""``fleet-tui serve``: the token in front of every route (aiohttp test server), the refusals
before anything starts, the read-only app (Pilot, real daemon), and the real thing: the
command serving a fleet of demo agents to a real headless Chromium (``tests/browser.py``),
which loads the page, shows the grid and pauses an agent with a key press; a wrong token gets a
403 and no websocket. Its screenshot is kept in ``.pytest_cache/d/browser/``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import select
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestServer

from fleet_tui.adapters import paths
from fleet_tui.adapters.eventlog_read import read_log
from fleet_tui.cli import main
from fleet_tui.client.live import LiveFleet
from fleet_tui.core import events as ev
from fleet_tui.core.sanitize import strip_ansi
from fleet_tui.ui.agent_grid import AgentGrid
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.serve import FORBIDDEN, FleetServer, Guard, app_command, is_loopback
from tests.browser import Browser, chromium_path
from tests.fleets import Daemons, demo_agent, fleet
from tests.helpers import async_retry_until, pilot_until

pytestmark = pytest.mark.anyio

TOKEN = "t0ken-of-the-test-0123456789"
COOKIE = "fleet-tui-test"
#: Two agents with names no other text on the screen has.
ALPHA = demo_agent("alpha7", "developer", "--seed", "1")
BRAVO = demo_agent("bravo7", "reviewer", "--seed", "2")
#: Seconds for the served page to show the grid, and for a key to come back as an event.
PAGE_TIMEOUT = 60.0
EVENT_TIMEOUT = 30.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def daemons(tmp_path: Path, tmux_socket: str) -> Iterator[Daemons]:
    made = Daemons(tmp_path, tmux_socket)
    yield made
    made.stop_all()


# --- refusals and the command ---------------------------------------------------------------


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("fleet.example", False),
])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(("args", "says"), [
    (["--host", "0.0.0.0"], "refusing to serve on 0.0.0.0 beyond localhost without --token or TLS"),
    (["--host", "192.168.1.20", "--public-url", "http://192.168.1.20:8420"], "refusing to serve"),
    (["--token", "short"], "--token needs at least 16 characters"),
    (["--port", "70000"], "--port must be 0 to 65535"),
    (["--host", "0.0.0.0", "--token", "no spaces allowed in it"], "--token needs"),
])
def test_serve_refuses_in_one_line_before_starting_anything(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        args: list[str], says: str) -> None:
    config = tmp_path / "fleet.yaml"
    config.write_text(yaml.safe_dump(fleet(ALPHA, BRAVO)))
    monkeypatch.setenv("FLEET_TMUX_SOCKET", f"fleet-test-never-{os.getpid()}")
    assert main(["--config", str(config), "serve", *args]) == 1
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1
    assert not (tmp_path / "fleet-home" / "sessions").exists()  # no daemon was started


def test_app_command_quotes_every_part(tmp_path: Path) -> None:
    config = tmp_path / "a b;$(touch x)'\"`" / "fleet.yaml"
    assert shlex.split(app_command(config, read_only=True)) == [
        sys.executable, "-m", "fleet_tui", "--config", str(config), "run", "--client", "web", "--read-only"]
    assert "--read-only" not in shlex.split(app_command(config, read_only=False))


# --- the guard ------------------------------------------------------------------------------


async def test_every_route_wants_the_token() -> None:
    server = FleetServer("true", Guard(TOKEN, COOKIE, False, ""), "fleet-tui: t", "")
    async with TestServer(await server._make_app()) as http, aiohttp.ClientSession() as plain:
        url = http.make_url

        async def status(path: str, **kwargs: object) -> int:
            async with plain.get(url(path), **kwargs) as response:
                assert response.status != 403 or await response.text() == FORBIDDEN
                return response.status

        assert await status("/") == 403
        assert await status("/", params={"token": "wrong"}) == 403
        assert await status("/", params={"token": TOKEN[:-1]}) == 403
        assert await status("/static/js/textual.js") == 403
        assert await status("/download/x") == 403
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await plain.ws_connect(url("/ws"))
        assert refused.value.status == 403
        assert not plain.cookie_jar.filter_cookies(url("/"))

        # keeps the cookie the page sets (unsafe: the jar takes cookies from IP addresses)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            async with browser.get(url("/"), params={"token": TOKEN}) as page:
                assert page.status == 200
                set_cookie = page.headers["Set-Cookie"]
                assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
                # the websocket at the address the browser used
                assert f'"ws://{http.host}:{http.port}/ws"' in await page.text()
            async with browser.get(url("/static/js/textual.js")) as script:
                assert script.status == 200  # the cookie instead of the token
            async with browser.get(url("/static/js/textual.js"), params={"token": "wrong"}) as wrong:
                assert wrong.status == 403  # a wrong token is wrong, whatever the cookie says
            for origin in ("http://evil.example", "null"):  # another site's page, even with the cookie
                with pytest.raises(aiohttp.WSServerHandshakeError) as foreign:
                    await browser.ws_connect(url("/ws"), origin=origin)
                assert foreign.value.status == 403


async def test_the_page_behind_tls_points_at_the_public_url() -> None:
    guard = Guard(TOKEN, COOKIE, True, "https://fleet.example/")
    server = FleetServer("true", guard, "fleet-tui: t", "https://fleet.example/")
    async with TestServer(await server._make_app()) as http, aiohttp.ClientSession() as browser:
        async with browser.get(http.make_url("/"), params={"token": TOKEN}) as page:
            assert '"wss://fleet.example/ws"' in await page.text()
            assert "Secure" in page.headers["Set-Cookie"]
        async with browser.get(http.make_url("/"), params={"token": TOKEN},
                               headers={"Origin": "https://fleet.example"}) as proxied:
            assert proxied.status == 200  # the proxy's origin is this server's


# --- read-only ------------------------------------------------------------------------------


async def test_read_only_app_refuses_every_key_that_acts(daemons: Daemons, tmux_socket: str) -> None:
    daemon = daemons(fleet(ALPHA, BRAVO))
    daemon.start()
    service = daemon.service
    app = FleetApp(LiveFleet(service.loaded, driver=service.driver, client="web"), read_only=True)
    notices: list[str] = []
    shown = app.notify
    app.notify = lambda message, **kwargs: (notices.append(message), shown(message, **kwargs))[-1]
    async with app.run_test(size=(120, 40)) as pilot:
        grid = app.query_one(AgentGrid)
        await pilot_until(pilot, lambda: grid.focused_agent() == "alpha7", message="alpha7 focused")
        for key in ("p", "x", "r", "s", "n", "enter", "Y", "2", "t", "m", "A", "a", "D"):
            notices.clear()
            await pilot.press(key)
            assert len(app.screen_stack) == 1, f"{key} opened a dialog"
            if key != "2":
                assert notices and notices[-1].startswith("this view is read-only: nothing here can"), key
        await pilot.press("1", "z", "escape", "question_mark", "escape")  # watching still works
        await pilot.press("q")  # leaves this view only: no "stop the fleet" on offer
        await pilot_until(pilot, lambda: not app.is_running, message="the app quits")
    assert [e for e in service.state.timeline if e.client] == []  # no request from this client
    assert not service.state.stopped
    assert all(service.state.agents[name].alive for name in ("alpha7", "bravo7"))


# --- the real thing: fleet-tui serve and a headless Chromium ---------------------------------


def alive_in_group(group: int) -> list[str]:
    """The processes of a process group that have not ended (zombies aside), from /proc."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ")"
            state, _, pgrp = stat.read_text().rpartition(")")[2].split()[:3]
            if int(pgrp) == group and state != "Z":
                alive.append(stat.parent.name)
    return alive


@contextlib.asynccontextmanager
async def serving(config: Path, tmux_socket: str, log: Path, *args: str):
    """``fleet-tui serve --port 0 ARGS`` for ``config``: yields (its URL, its output so far).
    Stopped with SIGTERM, it must exit 0 and take its tabs' apps with it."""
    env = {**os.environ, "FLEET_TMUX_SOCKET": tmux_socket}
    with open(log, "wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "fleet_tui", "--config", str(config), "serve", "--port", "0", *args,
            stdout=asyncio.subprocess.PIPE, stderr=err, env=env, start_new_session=True)
    output: list[str] = []
    try:
        async def url() -> str:
            while line := (await proc.stdout.readline()).decode():
                output.append(line)
                if found := re.search(r"at (http://\S+)", line):
                    return found.group(1)
            raise AssertionError(f"fleet-tui serve ended: {output} {log.read_text()}")

        yield await asyncio.wait_for(url(), PAGE_TIMEOUT), output
        proc.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(proc.communicate(), EVENT_TIMEOUT)
        output.append(rest.decode())
        assert proc.returncode == 0, log.read_text()
        await async_retry_until(lambda: not alive_in_group(proc.pid), EVENT_TIMEOUT,
                                message="the served apps to quit")
    finally:
        if proc.returncode is None:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()


@contextlib.asynccontextmanager
async def browsing(profile: Path):
    """A headless Chromium watching its page's network (skips the test where there is none)."""
    if chromium_path() is None:
        pytest.skip("chromium is not installed and could not be (.ci/run installs Debian's chromium)")
    browser = await Browser.start(profile)
    try:
        await browser.call("Network.enable")
        await browser.call("Page.enable")
        yield browser
    finally:
        await browser.close()


def shown_text(browser: Browser) -> str:
    return strip_ansi(browser.websocket_bytes().decode("utf-8", "replace"))


async def open_grid(browser: Browser, url: str) -> None:
    """Open the page; wait for its websocket and both agents' cards; focus the first card."""
    await browser.call("Page.navigate", url=url)
    await browser.wait_until(lambda: browser.seen("Network.webSocketCreated"), PAGE_TIMEOUT,
                             "the page's websocket")
    await browser.wait_until(lambda: all(n in shown_text(browser) for n in ("alpha7", "bravo7")),
                             PAGE_TIMEOUT, "both agents' cards in the page")
    await browser.focus(".xterm-helper-textarea")  # where xterm.js takes keys
    await browser.press("1")  # the grid, its first card focused


def logged(session_id: str, kind: type[ev.Event]) -> list[ev.Event]:
    """The events of ``kind`` in the session's log on disk."""
    events, _ = read_log(paths.events_path(session_id), repair=False)
    return [e for e in events if isinstance(e, kind)]


async def test_browser_shows_the_grid_and_pauses_an_agent(
        daemons: Daemons, tmux_socket: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    daemon = daemons(fleet(ALPHA, BRAVO))
    daemon.start()
    session = daemon.service.session_id
    cache = getattr(request.config, "cache", None)  # pytest's cache folder, kept between runs
    artifacts = Path(cache.mkdir("browser")) if cache is not None else tmp_path
    # the browser outlives the server: serve stops (SIGTERM) with the tab open
    async with (browsing(tmp_path / "chromium") as browser,
                serving(daemons.config, tmux_socket, tmp_path / "serve.err") as (url, output)):
        token = url.split("token=", 1)[1]

        # a wrong token: a 403 and no UI, no websocket
        wrong = url.replace(token, "not-the-token")
        await browser.call("Page.navigate", url=wrong)
        answers = browser.seen
        forbidden = await browser.wait_until(
            lambda: [r for r in answers("Network.responseReceived") if r["response"]["url"] == wrong],
            EVENT_TIMEOUT, "the answer to a wrong token")
        assert forbidden[0]["response"]["status"] == 403
        await browser.wait_until(lambda: browser.seen("Page.loadEventFired"), EVENT_TIMEOUT, "page load")
        body = await browser.call("Runtime.evaluate", expression="document.body.innerText")
        assert body["result"]["value"].strip() == FORBIDDEN.strip()
        assert not browser.seen("Network.webSocketCreated")

        # the token: the page, its websocket, the grid; p pauses the focused agent
        await open_grid(browser, url)
        await browser.press("p")
        paused = await browser.wait_until(lambda: logged(session, ev.AgentPaused), EVENT_TIMEOUT,
                                          "agent.paused in the log")
        assert paused[0].agent == "alpha7" and paused[0].client.startswith("web pid ")
        await browser.wait_until(lambda: "PAUSED" in shown_text(browser), EVENT_TIMEOUT,
                                 "the paused card in the page")
        await browser.screenshot(artifacts / "serve-grid.png")
    # the token was printed once, in the URL, and is in no log
    assert "".join(output).count(token) == 1
    assert token not in (tmp_path / "serve.err").read_text()
    assert (artifacts / "serve-grid.png").stat().st_size > 10_000


async def test_browser_read_only_refuses_a_key_that_acts(
        daemons: Daemons, tmux_socket: str, tmp_path: Path) -> None:
    daemon = daemons(fleet(ALPHA, BRAVO))
    daemon.start()
    async with (serving(daemons.config, tmux_socket, tmp_path / "serve.err", "--read-only") as (url, output),
                browsing(tmp_path / "chromium") as browser):
        assert "read-only at http://" in "".join(output)
        await open_grid(browser, url)
        await browser.press("p")
        await browser.wait_until(lambda: "this view is read-only" in shown_text(browser), EVENT_TIMEOUT,
                                 "the read-only notice in the page")
    assert logged(daemon.service.session_id, ev.AgentPaused) == []


def test_a_tabs_client_whose_server_is_gone_ends(daemons: Daemons, tmux_socket: str) -> None:
    """A tab's client reads its keys from stdin, which textual-serve writes; when serve is gone
    before it could say "quit" (killed, crashed), that input ends, and the client must end too
    rather than live on, orphaned, drawing for nobody."""
    daemon = daemons(fleet(ALPHA, BRAVO))
    daemon.start()
    env = {**os.environ, "FLEET_TMUX_SOCKET": tmux_socket,
           "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver"}  # as textual-serve runs it
    client = subprocess.Popen(shlex.split(app_command(daemons.config, read_only=False)),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, env=env)
    assert client.stdin is not None and client.stdout is not None
    try:
        ready, _, _ = select.select([client.stdout], [], [], PAGE_TIMEOUT)
        assert ready and client.stdout.readline() == b"__GANGLION__\n"  # its driver is up
        threading.Thread(target=client.stdout.read, daemon=True).start()  # what it draws
        client.stdin.close()  # serve is gone
        assert client.wait(timeout=EVENT_TIMEOUT) == 0
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
