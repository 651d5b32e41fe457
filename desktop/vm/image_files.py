"""Which VM image a Pilothouse uses: the files an image is made of, its version against the one
this Pilothouse expects, and where a current one is (the bundle's, else the cache).

Kept apart from image_build (which makes images) so that the VM's paths, the manager and the
GUI can ask about the image without the builder, and without an import cycle through paths.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from desktop.vm import image_lock
from desktop.vm.image_recipe import RECIPE_VERSION
from desktop.vm.paths import VMPaths, default_image_dir, host_arch

IMAGE_FILES = ("vmlinuz", "initramfs.img", "probe.img")


@dataclass(frozen=True)
class ImageState:
    status: str  # "missing" | "current" | "outdated"
    found_version: str
    expected_version: str


def expected_version(lock_path: Path | None = None) -> str:
    """The image version this Pilothouse builds: recipe version . lock serial."""
    return f"{RECIPE_VERSION}.{image_lock.serial(lock_path or image_lock.default_lock_path())}"


def _version_tuple(v: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in v.split("."))
    except ValueError:
        return (0,)


def image_state(path: Path, lock_path: Path | None = None) -> ImageState:
    """Is the image in path missing, current, or older than this Pilothouse expects?"""
    want = expected_version(lock_path)
    try:
        m = json.loads((Path(path) / "manifest.json").read_text())
    except (OSError, ValueError):
        return ImageState("missing", "", want)
    if not all((Path(path) / f).exists() for f in IMAGE_FILES):
        return ImageState("missing", "", want)
    # Images from before the version field carry only recipe_version (4 and lower).
    found = m.get("version") or str(m.get("recipe_version", 0))
    return ImageState("current" if _version_tuple(found) >= _version_tuple(want) else "outdated", found, want)


def bundled_image_dir(arch: str | None = None) -> Path | None:
    """The image a PyInstaller bundle carries for its own architecture, if any."""
    base = getattr(sys, "_MEIPASS", None)
    if not base:
        return None
    d = Path(base) / "vm-image" / (arch or host_arch())
    return d if (d / "manifest.json").is_file() else None


def find_image(arch: str | None = None) -> Path | None:
    """A current image: the bundled one, else the cache; None when there is none."""
    for d in (bundled_image_dir(arch), default_image_dir(arch)):
        if d is not None and image_state(d).status == "current":
            return d
    return None


def user_vm_paths(name: str = "default") -> VMPaths:
    """The user's VM; its image is the one a bundled app carries when that is current (an image
    directory named by $PILOTHOUSE_VM_IMAGE_DIR always wins)."""
    image = None if os.environ.get("PILOTHOUSE_VM_IMAGE_DIR") else find_image()
    return VMPaths.default(name, image_dir=image)
