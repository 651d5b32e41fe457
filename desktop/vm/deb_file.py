"""Read a .deb without dpkg: the ar container, then its data.tar (xz, zstd, gzip or plain).

A .deb from the archive is checked against a signed sha256 before it gets here, but its
member names are still treated as hostile: absolute paths and `..` are refused, and nothing is
ever written to disk under a name taken from the archive.
"""

from __future__ import annotations

import gzip
import lzma
import posixpath
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import zstandard

AR_MAGIC = b"!<arch>\n"


class DebFormatError(ValueError):
    """The file is not a .deb this reader understands."""


@dataclass(frozen=True)
class Entry:
    """One file system object from a package, path relative to / without a leading './'."""

    path: str
    kind: str  # "file" | "dir" | "symlink" | "hardlink"
    mode: int
    data: bytes = b""
    target: str = ""  # symlink target, or the path a hard link points at


def ar_members(f: BinaryIO) -> Iterator[tuple[str, int, int]]:
    """(name, offset, size) of each member of an ar archive."""
    f.seek(0)
    if f.read(8) != AR_MAGIC:
        raise DebFormatError("not an ar archive")
    while True:
        header = f.read(60)
        if not header:
            return
        if len(header) < 60 or header[58:60] != b"`\n":
            raise DebFormatError("truncated ar header")
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError:
            raise DebFormatError("bad ar member size") from None
        offset = f.tell()
        yield name, offset, size
        f.seek(offset + size + (size & 1))


class _Window:
    """A read-only view of [offset, offset+size) of a file (one ar member)."""

    def __init__(self, f: BinaryIO, offset: int, size: int) -> None:
        self._f, self._start, self._left = f, offset, size
        self._pos = offset

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        n = self._left if n is None or n < 0 else min(n, self._left)
        self._f.seek(self._pos)
        data = self._f.read(n)
        self._pos += len(data)
        self._left -= len(data)
        return data

    def readable(self) -> bool:
        return True


def _decompressed(name: str, raw: _Window) -> BinaryIO:
    if name.endswith(".xz"):
        return lzma.LZMAFile(raw)
    if name.endswith(".zst"):
        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw)
    if name.endswith(".tar"):
        return raw
    raise DebFormatError(f"unsupported compression of {name}")


def clean_path(name: str) -> str:
    """'./usr/bin/x' -> 'usr/bin/x' ('' for the root); refuses paths that leave the root."""
    if name.startswith("/") or ".." in name.split("/"):
        raise DebFormatError(f"unsafe path in package: {name!r}")
    p = posixpath.normpath(name)
    return "" if p == "." else p


def entries(path: Path, want: Callable[[str], bool], member: str = "data.tar") -> Iterator[Entry]:
    """Stream the entries of the package's data (or control) tarball whose path `want` accepts.

    Only wanted files are read into memory; the rest of the stream is skipped."""
    with open(path, "rb") as f:
        found = [(n, o, s) for n, o, s in ar_members(f) if n.startswith(member)]
        if not found:
            raise DebFormatError(f"{path.name} has no {member}.* member")
        name, offset, size = found[0]
        stream = _decompressed(name, _Window(f, offset, size))
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tf:
                for m in tf:
                    rel = clean_path(m.name)
                    if not rel or not want(rel):
                        continue
                    if m.isdir():
                        yield Entry(rel, "dir", m.mode & 0o7777)
                    elif m.issym():
                        yield Entry(rel, "symlink", 0o777, target=m.linkname)
                    elif m.islnk():
                        yield Entry(rel, "hardlink", m.mode & 0o7777, target=clean_path(m.linkname))
                    elif m.isfile():
                        data = tf.extractfile(m).read()
                        yield Entry(rel, "file", m.mode & 0o7777, data)
        except (tarfile.TarError, lzma.LZMAError, zstandard.ZstdError, EOFError, OSError) as e:
            raise DebFormatError(f"{path.name}: damaged {name}: {e}") from None


def control_fields(path: Path) -> dict[str, str]:
    """The package's control file as a dict (Package, Version, Architecture, ...)."""
    for e in entries(path, lambda p: p == "control", member="control.tar"):
        return parse_stanza(e.data.decode("utf-8", "replace"))
    raise DebFormatError(f"{path.name} has no control file")


def parse_stanza(text: str) -> dict[str, str]:
    """One deb822 paragraph (continuation lines joined with newlines)."""
    fields: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if line[0] in " \t" and key:
            fields[key] += "\n" + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip()
            fields[key] = value.strip()
    return fields
