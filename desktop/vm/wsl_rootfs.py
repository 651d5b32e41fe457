"""The WSL 2 root filesystem: the VM image's own root (same packages, same versions), as a tar
that `wsl --import` takes, with the WSL init and wsl.conf instead of the VM's boot pieces.

Made from the built initramfs, so both come from one package set by construction. Reproducible:
entries sorted, owned by root, fixed mtimes. Holds no secret: the TLS material is handed to
wsl-init on stdin at each start (see packaging/vm/wsl-init).
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

PACKAGING = Path(__file__).resolve().parents[2] / "packaging" / "vm"
WSL_INIT = "usr/lib/pilothouse/wsl-init"
# The VM's boot pieces, which a WSL distribution does not use (WSL brings its kernel and its own
# /init), and files WSL writes itself (hosts, resolv.conf, hostname from wsl.conf).
DROP_PREFIXES = ("usr/lib/modules/", "etc/acpi/")
DROP_FILES = {"init", "etc/modules.boot", "etc/pilothouse-shutdown", "etc/resolv.conf", "etc/hosts", "etc/hostname",
              "usr/lib/modules", "etc/acpi"}
EPOCH = 1700000000


class RootfsError(RuntimeError):
    """The root filesystem could not be made; the message says why."""


@dataclass(frozen=True)
class CpioEntry:
    name: str
    mode: int
    data: bytes


def zstd_decompress(data: bytes) -> bytes:
    """zstd frames to bytes, with whichever zstd the environment has."""
    try:
        import zstandard  # type: ignore[import-not-found]

        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
        return reader.read()
    except ImportError:
        pass
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python 3.14

        return zstd.decompress(data)
    except ImportError:
        pass
    exe = shutil.which("zstd")
    if exe is None:
        raise RootfsError("no zstd decompressor: install the zstandard package (pip install zstandard)")
    res = subprocess.run([exe, "-d", "-c", "-q"], input=data, capture_output=True, check=False)
    if res.returncode != 0:
        raise RootfsError(f"zstd could not read the initramfs: {res.stderr.decode(errors='replace').strip()}")
    return res.stdout


def read_newc(data: bytes):
    """The entries of cpio archives in the "newc" format (what the initramfs is); an initramfs
    may be several archives one after the other, each padded with NULs."""
    pos = 0
    while True:
        while pos < len(data) and data[pos] == 0:
            pos += 1
        if pos >= len(data):
            return
        header = data[pos:pos + 110]
        if len(header) < 110 or header[:6] not in (b"070701", b"070702"):
            raise RootfsError(f"not a newc cpio archive at byte {pos}")
        fields = [int(header[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        mode, filesize, namesize = fields[1], fields[6], fields[11]
        name_start = pos + 110
        name = data[name_start:name_start + namesize - 1].decode("utf-8", "surrogateescape")
        data_start = (name_start + namesize + 3) & ~3
        body = data[data_start:data_start + filesize]
        pos = (data_start + filesize + 3) & ~3
        if name != "TRAILER!!!":
            yield CpioEntry(name, mode, body)


def _keep(name: str) -> bool:
    return name not in DROP_FILES and not name.startswith(DROP_PREFIXES)


def _info(name: str, mode: int, size: int = 0) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.mode = stat.S_IMODE(mode)
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    ti.mtime = EPOCH
    ti.size = size
    return ti


def write_rootfs(initramfs: Path, out: Path) -> int:
    """Write the WSL root filesystem tar made from `initramfs`; returns the number of entries.

    A name ending in .gz is gzip-compressed. Written beside `out` and renamed at the end."""
    raw = zstd_decompress(initramfs.read_bytes())
    entries = {e.name.removeprefix("./"): e for e in read_newc(raw) if e.name not in (".", "")}
    extras = {
        WSL_INIT: ((PACKAGING / "wsl-init").read_bytes(), 0o755),
        "etc/wsl.conf": ((PACKAGING / "wsl.conf").read_bytes(), 0o644),
    }
    dirs = {"usr/lib/pilothouse", "var/lib/docker", "var/log", "run", "tmp", "mnt", "proc", "sys", "dev"}
    tmp = out.with_name(out.name + ".partial")
    count = 0
    try:
        with open(tmp, "wb") as f:
            # mtime 0 and no file name in the gzip header: the same input gives the same bytes.
            import gzip

            stream = gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") if out.name.endswith(".gz") else f
            with tarfile.open(fileobj=stream, mode="w", format=tarfile.GNU_FORMAT) as tar:
                names = sorted(set(n for n in entries if _keep(n)) | set(extras) | dirs)
                for name in names:
                    if name in extras:
                        body, perm = extras[name]
                        tar.addfile(_info(name, perm, len(body)), io.BytesIO(body))
                    elif name in entries:
                        e = entries[name]
                        kind = stat.S_IFMT(e.mode)
                        if kind == stat.S_IFDIR:
                            ti = _info(name, e.mode)
                            ti.type = tarfile.DIRTYPE
                            tar.addfile(ti)
                        elif kind == stat.S_IFLNK:
                            ti = _info(name, e.mode)
                            ti.type = tarfile.SYMTYPE
                            ti.linkname = e.data.decode("utf-8", "surrogateescape")
                            tar.addfile(ti)
                        elif kind == stat.S_IFREG:
                            tar.addfile(_info(name, e.mode, len(e.data)), io.BytesIO(e.data))
                        else:
                            continue  # device nodes: WSL and container runtimes make /dev themselves
                    else:
                        ti = _info(name, 0o1777 if name == "tmp" else 0o755)
                        ti.type = tarfile.DIRTYPE
                        tar.addfile(ti)
                    count += 1
            if stream is not f:
                stream.close()
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count
