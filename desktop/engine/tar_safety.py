"""Archives from an engine are hostile input: unpack them member by member, checking each ourselves.

tarfile's extraction filters had bypasses fixed only in later patch releases (links that
resolve outside the destination through earlier members, hard links written through), so
nothing here calls `TarFile.extract`: only the headers and file data are read through
tarfile, and every path, link and write is decided below, the way `docker cp` decides it:
- names are relative and stay inside the destination; `..` or absolute names are refused;
- symbolic links are recreated as they are (an absolute /etc/mtab -> /proc/mounts is normal
  in a container), but no later member is ever written through one;
- hard links must name an earlier member inside the archive; `..`/absolute targets are refused;
- whatever is in the way of a file or link is removed first, and files are created with
  O_EXCL|O_NOFOLLOW, so a write never lands in a file the archive did not create;
- devices, FIFOs and set-id bits are dropped; ownership is the current user's.
"""

from __future__ import annotations

import os
import posixpath
import stat as stat_mod
import tarfile
from collections.abc import Callable
from typing import IO

from desktop.engine.errors import EngineError

CHUNK = 1 << 20


class UnsafeArchive(EngineError):
    """An archive member would reach outside its destination."""


def clean_member_name(name: str) -> str | None:
    """The member's path relative to the archive root, or None when it names the root itself.

    Raises UnsafeArchive for absolute names and names that climb out with `..`.
    """
    if "\x00" in name:
        raise UnsafeArchive(f"The archive holds a name with a NUL character: {name!r}.")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":" and name[0].isalpha()):
        raise UnsafeArchive(f"The archive holds an absolute path, {printable(name)}, which is refused.")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchive(f"The archive holds {printable(name)}, which climbs out of the folder with '..'.")
    return "/".join(parts) or None


def printable(name: str) -> str:
    """A file name safe to show: undecodable bytes and control characters escaped."""
    raw = os.fsencode(name) if isinstance(name, str) else name
    text = raw.decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _inside(root_real: str, path: str) -> bool:
    return path == root_real or path.startswith(root_real.rstrip("/") + "/")


def _clear(path: str) -> None:
    """Remove a non-folder in the way (never follows it: a link is removed, not its target)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat_mod.S_ISDIR(st.st_mode):
        # Not removed: in the user's own folder that could be a whole tree of theirs.
        raise EngineError(f"Could not write {printable(path)}: a folder of that name is in the way.")
    os.unlink(path)


class SafeExtractor:
    """Unpacks tar members under `dest`, refusing any that would reach outside it."""

    def __init__(self, dest: str) -> None:
        os.makedirs(dest, exist_ok=True)
        self.dest = dest
        self.root = os.path.realpath(dest)
        self.created: set[str] = set()  # regular files this archive made (hard-link targets)
        self.written = 0

    def _target(self, rel: str) -> str:
        """The host path for a member; its parent folder must resolve inside the destination."""
        path = os.path.join(self.root, rel)
        parent = os.path.dirname(path)
        self._make_dirs(parent)
        real_parent = os.path.realpath(parent)
        if not _inside(self.root, real_parent):
            raise UnsafeArchive(f"The archive writes {printable(rel)} through a link that points outside the folder.")
        return os.path.join(real_parent, os.path.basename(path))

    def _make_dirs(self, folder: str) -> None:
        # Component by component, so a symlink planted by an earlier member is seen, not followed.
        rel = os.path.relpath(folder, self.root)
        if rel == ".":
            return
        cur = self.root
        for part in rel.split(os.sep):
            cur = os.path.join(cur, part)
            try:
                st = os.lstat(cur)
            except FileNotFoundError:
                os.mkdir(cur, 0o755)
                continue
            if stat_mod.S_ISLNK(st.st_mode):
                real = os.path.realpath(cur)
                if not _inside(self.root, real) or not os.path.isdir(real):
                    raise UnsafeArchive(f"The archive writes through {printable(os.path.relpath(cur, self.root))}, "
                                        "a link that points outside the folder.")
                cur = real
            elif not stat_mod.S_ISDIR(st.st_mode):
                os.unlink(cur)
                os.mkdir(cur, 0o755)

    def add(self, tar: tarfile.TarFile, m: tarfile.TarInfo, rel: str | None = None,
            on_bytes: Callable[[int], None] = lambda n: None) -> None:
        """Unpack one member (its name already relative, or taken from the header)."""
        rel = clean_member_name(m.name) if rel is None else rel
        if rel is None:
            return  # the root folder itself
        try:
            self._add(tar, m, rel, on_bytes)
        except OSError as exc:
            raise EngineError(f"Could not write {printable(rel)} on this computer: {exc.strerror or exc}.") from exc

    def _add(self, tar: tarfile.TarFile, m: tarfile.TarInfo, rel: str, on_bytes: Callable[[int], None]) -> None:
        target = self._target(rel)
        if m.isdir():
            try:
                st = os.lstat(target)
                if not stat_mod.S_ISDIR(st.st_mode):
                    os.unlink(target)
                    raise FileNotFoundError
            except FileNotFoundError:
                os.mkdir(target, 0o755)
            os.chmod(target, (m.mode & 0o777) | 0o700)
            return
        if m.issym():
            _clear(target)
            os.symlink(m.linkname, target)
            return
        if m.islnk():
            self._hard_link(m, rel, target)
            return
        if not m.isfile():
            return  # devices, FIFOs: nothing a download needs
        _clear(target)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as out:
            src = tar.extractfile(m)
            while src is not None and (chunk := src.read(CHUNK)):
                out.write(chunk)
                self.written += len(chunk)
                on_bytes(len(chunk))
        os.chmod(target, (m.mode & 0o777) | 0o600)
        try:
            os.utime(target, (m.mtime, m.mtime), follow_symlinks=False)
        except (OSError, OverflowError, ValueError):
            pass
        self.created.add(os.path.realpath(target))

    def _hard_link(self, m: tarfile.TarInfo, rel: str, target: str) -> None:
        link = m.linkname
        if link.startswith("/") or ".." in link.split("/"):
            raise UnsafeArchive(f"The archive holds a hard link {printable(rel)} to {printable(link)}, "
                                "outside the folder: refused, as docker cp does.")
        src = os.path.realpath(os.path.join(self.root, self._link_rel(link)))
        if src not in self.created:
            raise UnsafeArchive(f"The archive holds a hard link {printable(rel)} to {printable(link)}, "
                                "which is not a file in the archive.")
        if os.path.realpath(target) == src:
            return  # a link to itself: already there
        _clear(target)
        os.link(src, target, follow_symlinks=False)

    def _link_rel(self, link: str) -> str:
        # Hard-link names are relative to the archive root, like member names.
        return clean_member_name(link) or "."


def extract_all(fileobj: IO[bytes], dest: str, *, on_bytes: Callable[[int], None] = lambda n: None) -> int:
    """Unpack a tar stream under `dest` safely; returns the bytes of file data written.

    Raises UnsafeArchive on the first hostile member (what came before it stays, inside `dest`).
    """
    ex = SafeExtractor(dest)
    with tarfile.open(fileobj=fileobj, mode="r|") as tar:
        for m in tar:
            ex.add(tar, m, on_bytes=on_bytes)
    return ex.written


def check_archive(fileobj: IO[bytes]) -> int:
    """Read a whole tar (headers only) and raise UnsafeArchive if any member would leave its root.

    For archives the user gives us to unpack elsewhere (a volume import): the same rules as
    extraction, checked before anything is sent. Returns the number of members.
    """
    files: set[str] = set()
    links: set[str] = set()
    count = 0
    try:
        with tarfile.open(fileobj=fileobj, mode="r|*") as tar:
            for m in tar:
                count += 1
                rel = clean_member_name(m.name)
                if m.isdev():
                    raise UnsafeArchive(f"The archive holds a device file, {printable(m.name)}.")
                if m.islnk():
                    link = m.linkname
                    if link.startswith("/") or ".." in link.split("/"):
                        raise UnsafeArchive(f"The archive holds a hard link {printable(m.name)} to "
                                            f"{printable(link)}, outside the archive.")
                    if clean_member_name(link) not in files:
                        raise UnsafeArchive(f"The archive holds a hard link {printable(m.name)} to "
                                            f"{printable(link)}, which is not an earlier file in it.")
                if rel is None:
                    continue
                parent = posixpath.dirname(rel)
                while parent:
                    if parent in links:
                        raise UnsafeArchive(f"The archive writes {printable(m.name)} through the link "
                                            f"{printable(parent)}.")
                    parent = posixpath.dirname(parent)
                files.discard(rel)
                links.discard(rel)
                if m.issym():
                    links.add(rel)
                elif m.isfile() or m.islnk():
                    files.add(rel)
    except tarfile.TarError as exc:
        raise UnsafeArchive(f"This is not a readable tar archive: {exc}.") from exc
    return count
