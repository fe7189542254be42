"""Every package keeps to its layer (``../shared/DESIGN.md``): imports point downward only,
including imports made inside functions, and the lower layers pull in no UI library."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "fleet_tui"

#: Each layer and the fleet_tui layers it may import (itself included).
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "config": {"core", "config"},
    "adapters": {"core", "config", "adapters"},
    "daemon": {"core", "config", "adapters", "replay", "daemon"},  # it keeps the replay index
    "replay": {"core", "config", "adapters", "replay"},
    "client": {"core", "config", "adapters", "replay", "client"},
    "ui": {"core", "config", "adapters", "replay", "client", "ui"},
    "cli": {"core", "config", "adapters", "daemon", "replay", "client", "ui", "cli"},
    # stand-alone programs run in agents' panes: they stand on their own
    "programs": set(),
}
#: Third-party libraries a layer must not import.
FORBIDDEN: dict[str, set[str]] = {
    "core": {"textual", "libtmux", "watchfiles", "yaml", "rich"},
    "config": {"textual", "libtmux", "watchfiles"},
    "adapters": {"textual"},
    "daemon": {"textual"},
    "replay": {"textual", "libtmux"},
    "client": {"textual"},
}
TOP_LEVEL = {"cli.py": "cli", "cli_fleet.py": "cli", "cli_workspaces.py": "cli", "__main__.py": "cli",
             "__init__.py": "core", "demo_agent.py": "programs", "supervisor.py": "programs",
             "check_runner.py": "programs"}


def layer_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    if len(relative.parts) == 1:
        return TOP_LEVEL[relative.name]
    return relative.parts[0]


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, anywhere in the file (line, dotted name)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    assert {layer_of(p) for p in MODULES} <= set(ALLOWED)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_downward(path: Path) -> None:
    layer = layer_of(path)
    wrong = []
    for line, module in imported_modules(path):
        parts = module.split(".")
        if parts[0] == "fleet_tui" and len(parts) > 1:
            target = parts[1] if (PACKAGE / parts[1]).is_dir() else TOP_LEVEL.get(f"{parts[1]}.py", "cli")
            if target not in ALLOWED[layer]:
                wrong.append(f"{path.name}:{line}: {layer} imports {module} ({target})")
        elif parts[0] in FORBIDDEN.get(layer, set()):
            wrong.append(f"{path.name}:{line}: {layer} imports {module}")
    assert not wrong


def test_importing_the_core_loads_no_ui_tmux_or_watcher_library() -> None:
    code = ("import sys, pkgutil, importlib, fleet_tui.core\n"
            "for m in pkgutil.iter_modules(fleet_tui.core.__path__):\n"
            "    importlib.import_module('fleet_tui.core.' + m.name)\n"
            "loaded = ('textual', 'libtmux', 'watchfiles', 'yaml')\n"
            "print(','.join(sorted(n for n in loaded if n in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_daemon_loads_no_textual() -> None:
    code = "import sys, fleet_tui.daemon.main; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
