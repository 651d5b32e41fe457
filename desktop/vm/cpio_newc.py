"""Write a cpio "newc" archive (what the kernel unpacks as an initramfs), reproducibly:
entries sorted by path, one fixed mtime, owner root, inode numbers in path order."""

from __future__ import annotations

import stat
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class Node:
    """One entry of the image tree; path relative to / (no leading slash)."""

    path: str
    kind: str  # "file" | "dir" | "symlink"
    mode: int  # permission bits
    data: bytes = b""
    target: str = ""


_TYPE = {"file": stat.S_IFREG, "dir": stat.S_IFDIR, "symlink": stat.S_IFLNK}


def _header(ino: int, mode: int, nlink: int, mtime: int, size: int, name: bytes) -> bytes:
    fields = (ino, mode, 0, 0, nlink, mtime, size, 0, 0, 0, 0, len(name) + 1, 0)
    return b"070701" + b"".join(b"%08X" % v for v in fields)


def _pad(n: int) -> bytes:
    return b"\0" * (-n % 4)


def write(nodes: Iterable[Node], out: BinaryIO, mtime: int, first_ino: int = 1, root: bool = True) -> None:
    """Write nodes (any order; sorted here) as newc, '.' first (when root) and TRAILER!!! last.

    The kernel unpacks several archives laid end to end (each one compressed or not), so an
    initramfs can be made of parts; first_ino keeps inode numbers distinct across parts."""
    ordered = sorted(nodes, key=lambda n: n.path)
    entries = ([Node(".", "dir", 0o755)] if root else []) + [n for n in ordered if n.path not in ("", ".")]
    for ino, node in enumerate(entries, start=first_ino):
        name = node.path.encode()
        body = node.target.encode() if node.kind == "symlink" else node.data
        nlink = 2 if node.kind == "dir" else 1
        head = _header(ino, _TYPE[node.kind] | (node.mode & 0o7777), nlink, mtime, len(body), name)
        out.write(head + name + b"\0")
        out.write(_pad(len(head) + len(name) + 1))
        out.write(body)
        out.write(_pad(len(body)))
    trailer = b"TRAILER!!!"
    head = _header(0, 0, 1, 0, 0, trailer)
    out.write(head + trailer + b"\0" + _pad(len(head) + len(trailer) + 1))


def read(data: bytes) -> list[Node]:
    """Parse newc archives laid end to end (tests and image checks look inside an initramfs)."""
    nodes, off = [], 0
    while True:
        while off < len(data) and data[off] == 0:
            off += 1
        if off >= len(data):
            return nodes
        if data[off:off + 6] != b"070701":
            raise ValueError(f"bad cpio magic at {off}")
        f = [int(data[off + 6 + 8 * i: off + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = f[1], f[6], f[11]
        name_start = off + 110
        name = data[name_start:name_start + namesize - 1].decode()
        body_start = name_start + namesize
        body_start += -body_start % 4
        body = data[body_start:body_start + size]
        off = body_start + size
        off += -off % 4
        if name == "TRAILER!!!":
            continue
        kind = "dir" if stat.S_ISDIR(mode) else "symlink" if stat.S_ISLNK(mode) else "file"
        nodes.append(Node(name, kind, mode & 0o7777, b"" if kind == "symlink" else body,
                          body.decode() if kind == "symlink" else ""))
