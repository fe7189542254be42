"""A real headless Chromium for the browser tests, driven over its DevTools protocol (CDP).

No chromedriver, no selenium: chromium itself and one websocket to its page (aiohttp, which
textual-serve brings anyway). CDP also gives what WebDriver does not: HTTP status codes, the
websockets a page opens and the frames they carry. Every wait is bounded and named.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from tests.helpers import async_retry_until

#: Seconds to wait for chromium to start, and for any one answer from it.
START_TIMEOUT = 30.0
CALL_TIMEOUT = 30.0


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


class Browser:
    """One headless chromium with one page. ``events`` keeps every event the page sent."""

    def __init__(self, proc: subprocess.Popen[bytes], session: aiohttp.ClientSession,
                 ws: aiohttp.ClientWebSocketResponse) -> None:
        self.proc = proc
        self._session = session
        self._ws = ws
        self._next_id = 0
        self._answers: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []
        self._new_event = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, profile: Path, size: tuple[int, int] = (1280, 800)) -> Browser:
        binary = chromium_path()
        assert binary, "chromium is not installed"
        profile.mkdir(parents=True, exist_ok=True)
        (profile / "DevToolsActivePort").unlink(missing_ok=True)  # a previous run's
        argv = [binary, "--headless", "--no-sandbox", "--remote-debugging-port=0",
                f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                "--disable-dev-shm-usage", "about:blank"]
        with open(profile / "chromium.log", "wb") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        session = aiohttp.ClientSession()
        try:
            port = await async_retry_until(lambda: _devtools_port(profile, proc), START_TIMEOUT,
                                           message="chromium's DevToolsActivePort")
            async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
                pages = [t for t in await response.json() if t["type"] == "page"]
            ws = await session.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0)
        except BaseException:
            await session.close()
            _kill(proc)
            raise
        return cls(proc, session, ws)

    async def _read(self) -> None:
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = message.json()
            if "id" in data:
                answer = self._answers.pop(data["id"], None)
                if answer is not None and not answer.done():
                    answer.set_result(data)
            else:
                async with self._new_event:
                    self.events.append(data)
                    self._new_event.notify_all()

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._answers[self._next_id] = answer
        await self._ws.send_json({"id": self._next_id, "method": method, "params": params})
        data = await asyncio.wait_for(answer, CALL_TIMEOUT)
        assert "error" not in data, f"{method}: {data['error']}"
        return data["result"]

    def seen(self, method: str) -> list[dict[str, Any]]:
        """The params of every ``method`` event so far."""
        return [e["params"] for e in self.events if e.get("method") == method]

    async def wait_until(self, check: Callable[[], Any], timeout: float, message: str) -> Any:
        """Wait (bounded) until ``check()`` is truthy, re-checking as events arrive."""
        async def until() -> Any:
            async with self._new_event:
                while not (found := check()):
                    await self._new_event.wait()
                return found

        try:
            return await asyncio.wait_for(until(), timeout)
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}") from None

    def websocket_bytes(self) -> bytes:
        """Everything the page's websockets received in binary frames (the app's output)."""
        return b"".join(base64.b64decode(p["response"]["payloadData"])
                        for p in self.seen("Network.webSocketFrameReceived")
                        if p["response"]["opcode"] == 2)

    async def focus(self, selector: str) -> None:
        found = await self.call("Runtime.evaluate", returnByValue=True, expression=(
            f"(e => {{ if (e) e.focus(); return !!e; }})(document.querySelector({selector!r}))"))
        assert found["result"]["value"], f"no {selector} in the page"

    async def press(self, key: str) -> None:
        """Type one printable key into the focused element."""
        code = f"Key{key.upper()}" if key.isalpha() else f"Digit{key}"
        common = {"key": key, "code": code, "windowsVirtualKeyCode": ord(key.upper())}
        await self.call("Input.dispatchKeyEvent", type="keyDown", text=key, **common)
        await self.call("Input.dispatchKeyEvent", type="keyUp", **common)

    async def screenshot(self, path: Path) -> None:
        shot = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader
        await self._session.close()
        _kill(self.proc)


def _devtools_port(profile: Path, proc: subprocess.Popen[bytes]) -> int | None:
    if proc.poll() is not None:
        raise AssertionError(f"chromium exited ({proc.returncode}); see {profile / 'chromium.log'}")
    try:
        first = (profile / "DevToolsActivePort").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    return int(first)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Chromium and its helpers (its own process group, started with it)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
