"""Install the Linux .desktop entry and hicolor icons under the user's XDG data dir."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

from desktop.resource_paths import resources_dir

PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def data_home(env: dict | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def launch_command() -> str:
    """The Exec= line: the `pilothouse` script when on PATH or beside this interpreter, else python -m."""
    if getattr(sys, "frozen", False):
        return shlex.quote(sys.executable)
    beside = Path(sys.executable).with_name("pilothouse")
    found = shutil.which("pilothouse")
    if found:
        return shlex.quote(found)
    if beside.exists():
        return shlex.quote(str(beside))
    return f"{shlex.quote(sys.executable)} -m desktop"


def entry_text(exec_cmd: str) -> str:
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Pilothouse\n"
        "GenericName=Container manager\n"
        "Comment=Manage containers, images, volumes and Compose projects\n"
        f"Exec={exec_cmd}\n"
        "Icon=pilothouse\n"
        "Terminal=false\n"
        "Categories=Development;System;\n"
        "Keywords=docker;container;compose;podman;\n"
        "StartupWMClass=pilothouse\n"
    )


def install(dest: Path | None = None) -> list[Path]:
    """Write pilothouse.desktop and the icons; returns the files written."""
    root = dest or data_home()
    res = resources_dir()
    written = []
    apps = root / "applications"
    apps.mkdir(parents=True, exist_ok=True)
    desktop = apps / "pilothouse.desktop"
    desktop.write_text(entry_text(launch_command()), encoding="utf-8")
    written.append(desktop)
    svg_dir = root / "icons" / "hicolor" / "scalable" / "apps"
    svg_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(res / "pilothouse.svg", svg_dir / "pilothouse.svg")
    written.append(svg_dir / "pilothouse.svg")
    for size in PNG_SIZES:
        png = res / "icons" / "app" / f"pilothouse-{size}.png"
        if png.is_file():
            d = root / "icons" / "hicolor" / f"{size}x{size}" / "apps"
            d.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(png, d / "pilothouse.png")
            written.append(d / "pilothouse.png")
    return written
