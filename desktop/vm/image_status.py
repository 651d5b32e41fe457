"""What the VM page says about the VM: its image (bundled or built, version, size, where), and the
running VM's own figures (QEMU's CPU and memory, the data disk's size on the host). Blocking
reads (files, /proc): callers run them off the UI thread."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from desktop.vm.image_files import IMAGE_FILES, image_state


@dataclass(frozen=True)
class ImageStatus:
    where: Path
    state: str  # missing | current | outdated
    origin: str  # bundled | built | missing
    version: str = ""
    expected: str = ""
    size: int = 0  # bytes, the image's files together
    kernel: str = ""

    @property
    def can_build(self) -> bool:
        """A bundled image is part of the app; anything else can be (re)built into the cache."""
        return self.origin != "bundled" or self.state != "current"


def _is_bundled(path: Path) -> bool:
    base = getattr(sys, "_MEIPASS", None)
    return bool(base) and Path(path).resolve().is_relative_to(Path(base).resolve())


def image_status(image_dir: Path) -> ImageStatus:
    """The image in image_dir as this Pilothouse sees it."""
    image_dir = Path(image_dir)
    st = image_state(image_dir)
    if st.status == "missing":
        return ImageStatus(image_dir, "missing", "missing", expected=st.expected_version)
    size = 0
    for name in IMAGE_FILES:
        try:
            size += (image_dir / name).stat().st_size
        except OSError:
            pass
    try:
        kernel = json.loads((image_dir / "manifest.json").read_text()).get("kernel_release", "")
    except (OSError, ValueError):
        kernel = ""
    return ImageStatus(image_dir, st.status, "bundled" if _is_bundled(image_dir) else "built", st.found_version,
                       st.expected_version, size, kernel)


@dataclass(frozen=True)
class VMFigures:
    cpu_percent: float | None  # of one host CPU, as top shows it (None: not measured yet)
    memory: int  # bytes of host memory QEMU holds (resident)
    disk_used: int  # bytes the data disk takes on the host (allocated, not its virtual size)
    disk_size: int  # the data disk's virtual size, bytes (0: not known)


class VMFigureSampler:
    """QEMU's CPU and memory, read through psutil; keep one per running VM (CPU % needs two
    readings, this keeps the first)."""

    def __init__(self) -> None:
        self._proc = None
        self._pid: int | None = None

    def sample(self, pid: int | None, data_disk: Path) -> VMFigures | None:
        """None when there is no QEMU process with that pid."""
        import psutil

        if not pid:
            self._proc = self._pid = None
            return None
        try:
            if self._pid != pid or self._proc is None:
                self._proc, self._pid = psutil.Process(pid), pid
                first = True
            else:
                first = False
            with self._proc.oneshot():
                cpu = self._proc.cpu_percent(interval=None)
                memory = self._proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            self._proc = self._pid = None
            return None
        return VMFigures(None if first else cpu, memory, *disk_use(data_disk))


def disk_use(disk: Path) -> tuple[int, int]:
    """(bytes allocated on the host, virtual size) of a qcow2 disk; the size from its header."""
    try:
        st = os.stat(disk)
    except OSError:
        return 0, 0
    used = getattr(st, "st_blocks", 0) * 512 or st.st_size
    virtual = 0
    try:
        with open(disk, "rb") as f:
            head = f.read(32)
        if head[:4] == b"QFI\xfb":
            virtual = int.from_bytes(head[24:32], "big")  # qcow2 header: the disk's size in bytes
    except OSError:
        pass
    return used, virtual
