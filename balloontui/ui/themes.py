"""Themes are data: TOML files turned into Textual themes.

Shipped themes live in the top-level ``themes/`` folder (inside the wheel as
``balloontui/_themes``); users add their own in ``$XDG_CONFIG_HOME/balloontui/themes/``. App
colours travel as theme variables (``bt-actual``, ``bt-target``, ...), with defaults from
:data:`VARIABLE_DEFAULTS` so that Textual's own themes work too.
"""

from __future__ import annotations

import dataclasses
import logging
import tomllib
from pathlib import Path

from textual.theme import Theme

import balloontui
from balloontui.config import config_dir

log = logging.getLogger(__name__)

DEFAULT_THEME = "balloontui-dark"

VARIABLE_DEFAULTS = {
    "bt-actual": "#56B6F2",
    "bt-target": "#E8A33D",
    "bt-available": "#7FB77E",
    "bt-free": "#8792A2",
    "bt-oom": "#D77FD8",
    "bt-stall": "#E8C547",
    "bt-death": "#E06C6C",
    "bt-elsewhere": "#A88BEB",
}

_THEME_FIELDS = {f.name for f in dataclasses.fields(Theme)}


class ThemeFileError(ValueError):
    """A theme file we cannot use."""


def shipped_theme_dir() -> Path:
    """The shipped themes: in the wheel, or beside the package in a source checkout."""
    package = Path(balloontui.__file__).resolve().parent
    for candidate in (package / "_themes", package.parent / "themes"):
        if candidate.is_dir():
            return candidate
    return package / "_themes"


def user_theme_dir() -> Path:
    return config_dir() / "themes"


def load_theme_file(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ThemeFileError(f"{path}: {err}") from None
    unknown = set(data) - _THEME_FIELDS
    if unknown:
        raise ThemeFileError(f"{path}: unknown keys {', '.join(sorted(unknown))}")
    data.setdefault("name", path.stem)
    if "primary" not in data:
        raise ThemeFileError(f"{path}: a theme needs at least 'primary'")
    variables = {**VARIABLE_DEFAULTS, **{str(k): str(v) for k, v in
                                         (data.pop("variables", None) or {}).items()}}
    try:
        return Theme(**data, variables=variables)
    except (TypeError, ValueError) as err:
        raise ThemeFileError(f"{path}: {err}") from None


def load_themes() -> tuple[list[Theme], list[str]]:
    """Shipped themes, then the user's (a user theme may replace a shipped one by name).

    Returns the themes and the problems found, one message per unusable file."""
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    for directory in (shipped_theme_dir(), user_theme_dir()):
        for path in sorted(directory.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ThemeFileError as err:
                problems.append(str(err))
                continue
            themes[theme.name] = theme
    return list(themes.values()), problems
