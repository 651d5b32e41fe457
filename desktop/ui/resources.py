"""Where the SVG icons and other resources are, in a checkout, a wheel or a frozen bundle."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from PySide6.QtGui import QIcon


@lru_cache(maxsize=1)
def resources_dir() -> Path:
    here = Path(__file__).resolve()
    candidates = [
        here.parents[2] / "resources",  # source checkout / editable install
        Path(getattr(sys, "_MEIPASS", "/nonexistent")) / "resources",  # PyInstaller bundle
        Path(sys.prefix) / "share" / "pilothouse" / "resources",  # wheel data files
    ]
    for c in candidates:
        if (c / "icons").is_dir():
            return c
    return candidates[0]


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """An SVG icon from resources/icons (crisp at any scale)."""
    return QIcon(str(resources_dir() / "icons" / f"{name}.svg"))


def app_icon() -> QIcon:
    return QIcon(str(resources_dir() / "pilothouse.svg"))
