"""Theme files: find ``<name>.yaml`` theme files and turn them into Textual themes.

Search order: ``~/.config/fleet-tui/themes/``, the themes shipped in the wheel
(``fleet_tui/_themes``), the repo's ``themes/`` folder (editable installs). The format is
documented in ``themes/README.md``.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
from textual.theme import Theme

from fleet_tui.config.errors import ConfigError
from fleet_tui.config.loader import load_yaml_file

_PACKAGE = Path(__file__).resolve().parent.parent


class ThemeFile(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    primary: str
    dark: bool = True
    secondary: str | None = None
    accent: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    warning: str | None = None
    error: str | None = None
    success: str | None = None
    variables: dict[str, str] = {}


class ThemeError(Exception):
    pass


def theme_dirs() -> list[Path]:
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return [Path(xdg) / "fleet-tui" / "themes", _PACKAGE / "_themes", _PACKAGE.parent / "themes"]


def load_theme_file(path: Path) -> Theme:
    try:
        data = msgspec.convert(load_yaml_file(path), ThemeFile)
    except ConfigError as exc:
        raise ThemeError(str(exc)) from None
    except msgspec.ValidationError as exc:
        raise ThemeError(f"{path}: {exc}") from None
    return Theme(**msgspec.structs.asdict(data))


def discover_themes() -> dict[str, Theme]:
    """Every theme file found, by name; earlier folders win."""
    found: dict[str, Theme] = {}
    for folder in reversed(theme_dirs()):
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                theme = load_theme_file(path)
                found[theme.name] = theme
    return found
