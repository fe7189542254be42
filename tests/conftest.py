"""Shared fixtures: a private fleet home per test and a private tmux server per test."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sshd import sshd  # noqa: F401 (a fixture: a real sshd on 127.0.0.1)


@pytest.fixture(autouse=True)
def fleet_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own FLEET_HOME and XDG dirs, never the user's."""
    home = tmp_path / "fleet-home"
    monkeypatch.setenv("FLEET_HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("FLEET_CONFIG", raising=False)
    monkeypatch.delenv("TMUX", raising=False)
    return home


@pytest.fixture
def tmux_socket() -> Iterator[str]:
    """A unique tmux socket name; the server on it is killed after the test."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    name = f"fleet-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    yield name
    from fleet_tui.adapters.tmux import TmuxDriver

    TmuxDriver(name).kill_server()  # also reaps agents' process trees and the socket file
