"""``fleet-tui serve``: the fleet's UI in a browser, through textual-serve.

Each browser tab gets its own ``fleet-tui run`` process (a client of the daemon, like a UI in a
terminal) behind one aiohttp server. This module owns what stands in front of it: a random
token in the URL it prints, then an HttpOnly cookie, checked in constant time on every request
(the page, its static files, downloads and the websocket alike); a websocket opened from a
page of another origin is refused; nothing is bound beyond localhost unless its user brings a
token or TLS; and there is no access log, since the first request's URL carries the token.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import re
import secrets
import shlex
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote, urlsplit

from aiohttp import web
from textual_serve.server import Server

#: The query parameter of the printed URL that carries the token.
TOKEN_PARAM = "token"
#: A token of one's own (``--token``): at least this long, URL- and cookie-safe characters.
MIN_TOKEN = 16
TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~-]+")
#: Seconds the tabs' apps get to quit when the server stops.
APP_QUIT_TIMEOUT = 10.0
FORBIDDEN = "forbidden: open the URL fleet-tui serve printed (it carries ?token=...)\n"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ServeError(Exception):
    """Why ``fleet-tui serve`` will not serve (one line for the user)."""


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, own_token: bool, public_url: str) -> None:
    """Beyond localhost, the token would cross the network: only with TLS in front
    (``--public-url https://...``) or a token the user chose to expose (``--token``)."""
    if is_loopback(host) or own_token or public_url.startswith("https://"):
        return
    raise ServeError(f"refusing to serve on {host} beyond localhost without --token or TLS in front "
                     "(--public-url https://...): the URL's token would cross the network in clear; "
                     "keep 127.0.0.1 and use an SSH tunnel (ssh -L 8420:127.0.0.1:8420 host) instead")


def check_token(token: str) -> str:
    if len(token) < MIN_TOKEN or not TOKEN_CHARS.fullmatch(token):
        raise ServeError(f"--token needs at least {MIN_TOKEN} characters among A-Z a-z 0-9 . _ ~ -")
    return token


def app_command(config: Path, read_only: bool) -> str:
    """The shell command textual-serve runs for each browser tab: every part quoted."""
    argv = [sys.executable, "-m", "fleet_tui", "--config", str(config), "run", "--client", "web"]
    return shlex.join([*argv, "--read-only"] if read_only else argv)


class Guard:
    """The token check in front of every route, as an aiohttp middleware."""

    def __init__(self, token: str, cookie: str, secure: bool, public_url: str) -> None:
        self._token = token.encode()
        self.cookie = cookie
        self.secure = secure
        self._public_host = urlsplit(public_url).netloc

    def allows(self, request: web.Request) -> bool:
        given = request.query.get(TOKEN_PARAM)
        if given is None:  # an explicit wrong token is refused even with a good cookie
            given = request.cookies.get(self.cookie, "")
        token_ok = hmac.compare_digest(given.encode("utf-8", "replace"), self._token)
        origin = request.headers.get("Origin")
        # A page's own requests name its origin; another site's page (or "null") is refused.
        same_origin = origin is None or urlsplit(origin).netloc in {request.host, self._public_host} - {""}
        return token_ok and same_origin

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self.allows(request):
            return web.Response(status=403, text=FORBIDDEN)
        response = await handler(request)
        if TOKEN_PARAM in request.query and isinstance(response, web.Response):
            # The page's own requests (static files, the websocket) carry the cookie instead.
            response.set_cookie(self.cookie, self._token.decode(), httponly=True, samesite="Strict",
                                secure=self.secure, path="/")
        return response


class FleetServer(Server):
    """textual-serve's server with the guard in front of its routes, no banner, and its open
    tabs ended at shutdown (their apps told to quit) rather than waited for."""

    def __init__(self, command: str, guard: Guard, title: str, public_url: str) -> None:
        super().__init__(command, title=title, public_url=public_url.rstrip("/") or "http://localhost")
        self.guard = guard
        self._fixed_url = bool(public_url)
        self._tabs: set[asyncio.Task[object]] = set()

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        """The page points its websocket and files at the address the browser used (whatever
        the bound host), unless ``--public-url`` names it (e.g. TLS in front)."""
        if not self._fixed_url:  # read by the handler before it first yields: no other request between
            self.public_url = f"http://{request.host}"
        return await super().handle_index(request)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        tab = asyncio.current_task()
        assert tab is not None
        self._tabs.add(tab)
        try:
            return await super().handle_websocket(request)
        finally:
            self._tabs.discard(tab)

    async def on_shutdown(self, app: web.Application) -> None:
        """textual-serve closes a cancelled tab's websocket and stops its app."""
        tabs = list(self._tabs)
        for tab in tabs:
            tab.cancel()
        if tabs:
            await asyncio.wait(tabs, timeout=APP_QUIT_TIMEOUT)

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.guard.middleware)
        return app

    async def on_startup(self, app: web.Application) -> None:
        """The URL is printed by ``serve`` once the port is known."""


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


async def serve(server: FleetServer, host: str, port: int, token: str, public_url: str,
                prepare: Callable[[], None], announce: Callable[[str], None]) -> None:
    """Serve until SIGINT or SIGTERM: once the port is bound, ``prepare`` runs (in a thread),
    then ``announce`` gets the URL to open (with the token)."""
    runner = web.AppRunner(await server._make_app(), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        await asyncio.to_thread(prepare)
        shown = socket.gethostname() if host in ("0.0.0.0", "::") else url_host(host)
        url = public_url.rstrip("/") or f"http://{shown}:{runner.addresses[0][1]}"
        announce(f"{url}/?{TOKEN_PARAM}={quote(token)}")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()  # closes the websockets: each tab's app quits


def run_server(config: Path, title: str, host: str, port: int, token: str, public_url: str,
               read_only: bool, prepare: Callable[[], None], announce: Callable[[str], None]) -> None:
    """Serve the fleet of ``config`` until SIGINT or SIGTERM (blocking); see ``serve``."""
    # A cookie name of its own, so two servers on one host do not overwrite each other's.
    guard = Guard(token, f"fleet-tui-{secrets.token_hex(4)}", public_url.startswith("https://"),
                  public_url)
    server = FleetServer(app_command(config, read_only), guard, title, public_url)
    try:
        asyncio.run(serve(server, host, port, token, public_url, prepare, announce))
    except OSError as exc:
        raise ServeError(f"cannot listen: {exc.strerror or exc}") from None
