"""The core stays pure: importing it pulls in no UI, tmux or file-watching library."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import fleet_tui.core.events, fleet_tui.core.state, fleet_tui.core.fold
import fleet_tui.core
import pkgutil, importlib
for m in pkgutil.iter_modules(fleet_tui.core.__path__):
    importlib.import_module("fleet_tui.core." + m.name)
bad = sorted(n for n in ("textual", "libtmux", "watchfiles", "yaml") if n in sys.modules)
print(",".join(bad))
"""


def test_core_imports_no_textual_libtmux_or_watchfiles() -> None:
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_config_imports_no_adapters_or_ui() -> None:
    code = ("import sys, fleet_tui.config.loader, fleet_tui.config.resolve; "
            "print(sorted(m for m in sys.modules if m.startswith(('fleet_tui.adapters', "
            "'fleet_tui.ui', 'textual', 'libtmux'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
