"""Which OS and CPU this host is, as the VM backend needs to know them, and what to install.

Everything that depends on the host OS takes a HostPlatform, so the macOS and Windows plans
(Homebrew paths, HVF, WHPX, WSL) are unit-tested on Linux.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

# Homebrew's prefixes: Apple silicon, then Intel. A Mac may have both (an Intel Homebrew kept
# under Rosetta); the native one comes first.
HOMEBREW_PREFIXES = ("/opt/homebrew", "/usr/local")
WINGET_QEMU = "winget install --exact --id SoftwareFreedomConservancy.QEMU"
WSL_INSTALL = "wsl --install --no-distribution"


def _machine_to_arch(machine: str) -> str:
    m = machine.lower()
    return {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}.get(m, m)


def _rosetta_translated() -> bool:
    """True when this (x86-64) process runs under Rosetta 2 on an Apple silicon Mac."""
    try:
        libc = ctypes.CDLL("/usr/lib/libSystem.dylib")
        value = ctypes.c_int(0)
        size = ctypes.c_size_t(ctypes.sizeof(value))
        if libc.sysctlbyname(b"sysctl.proc_translated", ctypes.byref(value), ctypes.byref(size), None, 0) != 0:
            return False
        return value.value == 1
    except (OSError, AttributeError):
        return False


@dataclass(frozen=True)
class HostPlatform:
    """os: linux | darwin | win32; arch: the host CPU as QEMU names it (x86_64, aarch64)."""

    os: str
    arch: str

    @classmethod
    def current(cls) -> "HostPlatform":
        os_name = "linux" if sys.platform.startswith("linux") else sys.platform
        arch = _machine_to_arch(platform.machine())
        # An x86-64 Python under Rosetta reports x86_64; the VM must still be the arm64 image
        # under HVF (HVF on Apple silicon runs only arm64 guests).
        if os_name == "darwin" and arch == "x86_64" and _rosetta_translated():
            arch = "aarch64"
        return cls(os_name, arch)

    @property
    def exe_suffix(self) -> str:
        return ".exe" if self.os == "win32" else ""

    def path(self, text: str) -> PurePath:
        return PureWindowsPath(text) if self.os == "win32" else PurePosixPath(text)


def qemu_candidates(plat: HostPlatform, arch: str, path_dirs: list[str], env: dict[str, str],
                    bundle_dir: str | None = None) -> list[PurePath]:
    """Where qemu-system-<arch> may be, in the order tried: a bundled copy, PATH, per-OS folders."""
    exe = f"qemu-system-{arch}{plat.exe_suffix}"
    out: list[PurePath] = []
    if bundle_dir:
        out.append(plat.path(bundle_dir) / "qemu" / exe)
    out += [plat.path(d) / exe for d in path_dirs if d]
    if plat.os == "darwin":
        out += [PurePosixPath(prefix) / "bin" / exe for prefix in HOMEBREW_PREFIXES]
    elif plat.os == "win32":
        # winget's QEMU installs to "<Program Files>\qemu" and does not add it to PATH.
        base = env.get("ProgramFiles") or r"C:\Program Files"
        out.append(PureWindowsPath(base) / "qemu" / exe)
    seen: set[str] = set()
    unique = []
    for p in out:
        if str(p) not in seen:
            seen.add(str(p))
            unique.append(p)
    return unique


def qemu_install_command(plat: HostPlatform, arch: str) -> str:
    """The exact command that installs QEMU (and qemu-img) for this OS."""
    if plat.os == "darwin":
        return "brew install qemu"
    if plat.os == "win32":
        return WINGET_QEMU
    package = "qemu-system-x86" if arch == "x86_64" else "qemu-system-arm"
    return f"sudo apt-get install {package} qemu-utils"


def watch_dirs(plat: HostPlatform, path_dirs: list[str], env: dict[str, str]) -> list[str]:
    """Folders whose change may mean QEMU (or WSL) was just installed: PATH and the per-OS
    install folders (or their nearest existing parent, for one that does not exist yet)."""
    wanted = [d for d in path_dirs if d]
    if plat.os == "darwin":
        wanted += [f"{p}/bin" for p in HOMEBREW_PREFIXES]
    elif plat.os == "win32":
        wanted.append(str(PureWindowsPath(env.get("ProgramFiles") or r"C:\Program Files") / "qemu"))
    out: list[str] = []
    for d in wanted:
        p = Path(d)
        if not p.is_absolute():
            continue  # (a Windows path looked at from another OS, in tests)
        while not p.exists() and p.parent != p:
            p = p.parent
        if p.exists() and str(p) not in out:
            out.append(str(p))
    return out


def path_dirs(env: dict[str, str] | None = None) -> list[str]:
    env = os.environ if env is None else env
    return [d for d in env.get("PATH", "").split(os.pathsep) if d]
