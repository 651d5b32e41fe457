"""Where resources/ (icons, app icon) is: a checkout, a wheel or a frozen bundle. Qt-free."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def resources_dir() -> Path:
    here = Path(__file__).resolve()
    candidates = [
        here.parents[1] / "resources",  # source checkout / editable install
        Path(getattr(sys, "_MEIPASS", "/nonexistent")) / "resources",  # PyInstaller bundle
        Path(sys.prefix) / "share" / "pilothouse" / "resources",  # wheel data files (venv, pipx)
        Path(sys.base_prefix) / "share" / "pilothouse" / "resources",
        Path.home() / ".local" / "share" / "pilothouse" / "resources",  # pip install --user
    ]
    for c in candidates:
        if (c / "icons").is_dir():
            return c
    return candidates[0]
