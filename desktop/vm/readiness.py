"""Can this host run the bundled VM now, and if not, the exact command that makes it able to.

Cheap enough to call again whenever a watched folder changes (a few stat calls; on Windows one
short `wsl --status`), and never from the UI thread.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from desktop.vm import qemu
from desktop.vm.host_platform import (WINGET_QEMU, WSL_INSTALL, HostPlatform, path_dirs, qemu_install_command,
                                      watch_dirs)


@dataclass(frozen=True)
class Readiness:
    """ready: the VM can be started; backend: qemu | wsl. Otherwise `problem` says what is
    missing and `command` (and `alternative`) install it."""

    ready: bool
    backend: str = ""
    problem: str = ""
    command: str = ""
    alternative: str = ""
    watch: tuple[str, ...] = field(default_factory=tuple)


def _qemu_img_next_to(system: Path) -> bool:
    return bool(shutil.which("qemu-img")) or system.with_name("qemu-img" + system.suffix).is_file()


def check(plat: HostPlatform | None = None, arch: str | None = None, wsl_ready=None) -> Readiness:
    """Whether the VM can start here. `wsl_ready()` (Windows only) says whether WSL 2 answers."""
    plat = plat or HostPlatform.current()
    arch = arch or plat.arch
    watch = tuple(watch_dirs(plat, path_dirs(), dict(os.environ)))
    if plat.os == "win32":
        if wsl_ready is None:
            from desktop.vm.wsl import wsl_available as wsl_ready
        if wsl_ready():
            return Readiness(True, "wsl", watch=watch)
    try:
        system = qemu.find_qemu(arch, plat)
    except qemu.QemuNotFound:
        system = None
    if system is not None and _qemu_img_next_to(Path(system)):
        return Readiness(True, "qemu", watch=watch)
    if plat.os == "win32":
        return Readiness(False, problem="Neither WSL 2 nor QEMU is installed, and the bundled VM needs one of them.",
                         command=WSL_INSTALL, alternative=WINGET_QEMU, watch=watch)
    missing = f"qemu-system-{arch}" if system is None else "qemu-img"
    return Readiness(False, problem=f"QEMU is not installed ({missing} was not found), and the bundled VM runs in it.",
                     command=qemu_install_command(plat, arch), watch=watch)
