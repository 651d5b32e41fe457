"""The real VM image for tests: built into the user's image cache by the test run itself (Python
only, downloads from Debian's archive once, then cached), shared by the VM tests and the bundle."""

from __future__ import annotations

from pathlib import Path

from desktop.vm import image_build
from desktop.vm.paths import default_image_dir


def built_vm_image(arch: str | None = None) -> Path:
    """The cached image for arch (this host's by default), built first when missing or older.

    Raises image_build.BuildError when it cannot be built."""
    out = default_image_dir(arch)
    image_build.build(arch=arch, out=out, progress=lambda m: print(f"[vm build] {m}", flush=True))
    return out
