"""Icons from resources/ (SVG: crisp at any scale); see desktop.resource_paths for where it is."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QIcon

from desktop.resource_paths import resources_dir

__all__ = ["resources_dir", "icon", "app_icon"]


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """An SVG icon from resources/icons (crisp at any scale)."""
    return QIcon(str(resources_dir() / "icons" / f"{name}.svg"))


def app_icon() -> QIcon:
    """The application icon: the SVG, plus the rendered PNGs where present (hand-picked small sizes)."""
    ic = QIcon(str(resources_dir() / "pilothouse.svg"))
    app_dir = resources_dir() / "icons" / "app"
    for png in sorted(app_dir.glob("pilothouse-*.png")) if app_dir.is_dir() else ():
        ic.addFile(str(png))
    return ic
