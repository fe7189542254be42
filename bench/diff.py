"""Benchmark of the diff screen (``d``) on big diffs: prints JSON.

Makes a repository in a temporary folder with two changes: ``many`` (300 files of 200 changed
lines each: over the whole-diff limit) and ``huge`` (one 400,000-line file rewritten, 800,000
diff lines, about 20 MB: over every limit), then for each:

- ``git_s``: ``git diff`` alone (through ``run_git``); ``load_s``: ``load_diff`` (git, parse,
  limits); ``lines_s``: making every file's drawn lines (safe text, for search);
- ``page_ms``: colouring one 24-line page of the biggest shown file, in its middle (what a
  PgDn costs the UI thread); ``whole_file_ms``: colouring all of it (what the pane avoids);
- ``loop_lag_ms``: the longest the UI's event loop went without running while the screen
  loaded the diff in its worker (a 5 ms timer in a headless app; the worker holds the GIL in
  turns), and ``open_s`` the time until the diff is shown;
- ``render_ms``: drawing a 24-row page of the pane from cold caches.

``baseline_loop_lag_ms``: the same timer's longest gap over 3 s with no diff at all (what the
loaded machine alone costs).

Run: ``python bench/diff.py``. The machine's load average comes with the figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual.app import App

from fleet_tui.adapters.diff_parse import parse_diff
from fleet_tui.adapters.git import run_git
from fleet_tui.adapters.git_diff import _DIFF, DiffRequest, load_diff
from fleet_tui.ui.diff_lines import Highlighted, file_lines
from fleet_tui.ui.diff_view import DiffScreen
from tests.gitrepo import commit, make_repo


def code(n: int, tag: str) -> str:
    return "".join(f"def f_{i}(x):  # {tag}\n    return x * {i} + len('{tag}')\n" for i in range(n // 2))


def repository(root: Path) -> tuple[Path, dict[str, tuple[str, str]]]:
    repo, base = make_repo(root / "repo", {f"pkg/m{i:03d}.py": code(200, "a") for i in range(300)}
                           | {"big.py": code(400_000, "a")})
    many = commit(repo, {f"pkg/m{i:03d}.py": code(200, "b") for i in range(300)}, "many")
    huge = commit(repo, {"big.py": code(400_000, "b")}, "huge")
    return repo, {"many": (base, many), "huge": (many, huge)}


class Host(App[None]):
    def __init__(self, request: DiffRequest | None) -> None:
        super().__init__()
        self.request = request
        self.gaps: list[float] = []
        self._last = 0.0

    def on_mount(self) -> None:
        self._last = time.perf_counter()
        self.set_interval(0.005, self.tick)
        if self.request is not None:
            self.push_screen(DiffScreen(self.request))

    def tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now


async def open_screen(request: DiffRequest) -> dict:
    app = Host(request)
    async with app.run_test(size=(80, 24)) as pilot:
        start = time.perf_counter()
        while not (isinstance(app.screen, DiffScreen) and app.screen.diff is not None):
            await pilot.pause(0.01)
        opened = time.perf_counter() - start
        pane = app.screen.pane
        pane._cache.clear()
        t = time.perf_counter()
        for y in range(24):
            pane.render_line(y)
        render = time.perf_counter() - t
    return {"open_s": round(opened, 3), "loop_lag_ms": round(max(app.gaps) * 1000, 1),
            "render_ms": round(render * 1000, 2)}


async def baseline() -> float:
    app = Host(None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(3.0)
    return round(max(app.gaps) * 1000, 1)


def measure(repo: Path, base: str, head: str) -> dict:
    t = time.perf_counter()
    text = run_git(repo, [*_DIFF, base, head, "--"]).stdout
    git_s = time.perf_counter() - t
    t = time.perf_counter()
    parse_diff(text)
    parse_s = time.perf_counter() - t
    request = DiffRequest("bench", str(repo), base, head)
    t = time.perf_counter()
    diff = load_diff(request)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    lines = [file_lines(f) for f in diff.files]
    lines_s = time.perf_counter() - t
    biggest = max(range(len(lines)), key=lambda i: len(lines[i]))
    texts = Highlighted(diff.files[biggest].path, lines[biggest], True)
    texts[0]  # the lexer's first use
    middle = len(lines[biggest]) // 2
    t = time.perf_counter()
    for index in range(middle, middle + 24):
        texts[index]
    page_ms = (time.perf_counter() - t) * 1000
    texts = Highlighted(diff.files[biggest].path, lines[biggest], True)
    t = time.perf_counter()
    for index in range(len(texts)):
        texts[index]
    whole_ms = (time.perf_counter() - t) * 1000
    return {"diff_mb": round(len(text) / 1e6, 1), "files": len(diff.files), "truncated": diff.truncated,
            "shown_lines": sum(f.shown_lines for f in diff.files),
            "counted": f"+{diff.added} -{diff.removed}", "git_s": round(git_s, 3),
            "parse_s": round(parse_s, 3), "load_s": round(load_s, 3), "lines_s": round(lines_s, 3),
            "biggest_file_lines": len(lines[biggest]), "page_ms": round(page_ms, 1),
            "whole_file_ms": round(whole_ms, 1),
            **asyncio.run(open_screen(request))}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo, changes = repository(Path(tmp))
        results = {name: measure(repo, *pair) for name, pair in changes.items()}
    print(json.dumps({"loadavg": os.getloadavg(), "baseline_loop_lag_ms": asyncio.run(baseline()),
                      **results}, indent=1))


if __name__ == "__main__":
    main()
