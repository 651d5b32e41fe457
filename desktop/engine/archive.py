"""A container's filesystem through the archive API (works on stopped containers too).

Listing a folder streams `GET /containers/{id}/archive` through tarfile's stream mode: headers
are read as they come and file data is skipped, never held, and only the folder's direct
children are kept. (The engine has no listing call; the tar of a folder includes its subtree,
which has to flow past, but nothing of it is stored.)
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import posixpath
import stat as stat_mod
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from desktop.engine.client import EngineClient
from desktop.engine.errors import EngineError, NotFoundError, PermissionDeniedError, translate
from desktop.engine.fresh_file import fresh_file
from desktop.engine.stream_clients import open_stream_api
from desktop.engine.tar_safety import extract_all, printable
from desktop.engine.volume_files import DirListing

GO_DIR, GO_SYMLINK = 1 << 31, 1 << 27  # Go os.FileMode bits in the path-stat header
IDENTITY = {"Accept-Encoding": "identity"}  # the engine would gzip the tar: CPU for nothing on a local socket
# The engine has no listing call: the archive of a folder carries its whole subtree, file
# contents included (for / the whole filesystem). Listing stops after this many bytes and
# says the list is partial, rather than pull gigabytes through an SSH forward.
LIST_BYTE_LIMIT = 64 << 20


class _ListLimit(Exception):
    pass


class _CappedReader:
    """A response body for tarfile's stream mode that stops after `limit` bytes."""

    def __init__(self, raw, limit: int) -> None:
        self._raw, self._left = raw, limit

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self._left -= len(data)
        if self._left < 0:
            raise _ListLimit()
        return data


@dataclass(frozen=True)
class FileEntry:
    name: str
    path: str
    kind: str  # dir, file, symlink, hardlink, other
    size: int
    mode: int  # permission bits
    mtime: float
    link_target: str = ""

    @property
    def is_dir(self) -> bool:
        return self.kind == "dir"

    @property
    def mode_text(self) -> str:
        return {"dir": "d", "symlink": "l"}.get(self.kind, "-") + stat_mod.filemode(self.mode)[1:]


def _wire(path: str) -> bytes:
    """A container path as the engine knows it: names that are not UTF-8 were decoded with
    surrogate escapes and go back as their original bytes."""
    return os.fsencode(path)


def _join(folder: str, name: str) -> str:
    return (folder.rstrip("/") + "/" + name) if folder != "/" else "/" + name


def _path_error(exc: Exception, action: str, path: str, cid: str) -> EngineError:
    words = str(getattr(exc, "explanation", "") or exc).lower()
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status == 404 and "no such container" not in words:
        return NotFoundError(f"There is no {path} in the container.", words)
    if "could not find the file" in words or "no such file" in words or "not found" in words and "container" not in words:
        return NotFoundError(f"There is no {path} in the container.", words)
    if "permission denied" in words:
        return PermissionDeniedError(f"Permission denied: could not {action} {path} in the container.", words)
    if "read-only" in words:
        return EngineError(f"Could not {action} {path}: that part of the container's filesystem is read-only.", words)
    if "not a directory" in words:
        return EngineError(f"Could not {action} {path}: it is not a folder.", words)
    return translate(exc, action, f"{path} in container {cid[:12]}")


class ContainerFiles:
    """Browse, download and upload files of one container."""

    def __init__(self, client: EngineClient, cid: str) -> None:
        self.client, self.cid = client, cid

    def _stat_blocking(self, api, path: str) -> FileEntry:
        res = api.head(api._url("/containers/{0}/archive", self.cid), params={"path": _wire(path)})
        if res.status_code != 200:
            api._raise_for_status(res)
        info = json.loads(base64.b64decode(res.headers["X-Docker-Container-Path-Stat"]))
        mode = int(info.get("mode", 0))
        kind = "dir" if mode & GO_DIR else "symlink" if mode & GO_SYMLINK else "file"
        from datetime import datetime

        mtime = info.get("mtime", "")
        try:
            ts = datetime.fromisoformat(mtime[:26].rstrip("Z") + "+00:00").timestamp() if mtime else 0.0
        except ValueError:
            ts = 0.0
        return FileEntry(info.get("name", os.path.basename(path)), path, kind, int(info.get("size", 0)), mode & 0o7777,
                         ts, info.get("linkTarget", ""))

    def stat_blocking(self, api, path: str) -> FileEntry:
        """`stat` on a caller's own connection, in the caller's thread (many paths in a row)."""
        return self._stat_blocking(api, path)

    async def stat(self, path: str) -> FileEntry:
        try:
            return await self.client.run(self._stat_blocking, self.client.api, path)
        except Exception as exc:  # noqa: BLE001
            raise _path_error(exc, "open", path, self.cid) from exc

    async def resolve_dir(self, path: str) -> str:
        """The folder a path names, following symlinks (e.g. /bin -> usr/bin)."""
        for _ in range(8):
            st = await self.stat(path)
            if st.kind != "symlink":
                if st.kind != "dir":
                    raise EngineError(f"{path} is not a folder.")
                return path
            target = st.link_target
            path = os.path.normpath(target if target.startswith("/") else os.path.join(os.path.dirname(path), target))
        raise EngineError(f"{path} is a chain of links that does not end in a folder.")

    async def list_dir(self, path: str, on_entries: Callable[[list[FileEntry]], None] = lambda e: None,
                       batch: int = 200, byte_limit: int = LIST_BYTE_LIMIT) -> "DirListing":
        """The direct children of a folder, sorted folders first; `on_entries` gets them as they come.

        `.complete` is False when the folder's tree was bigger than `byte_limit` and reading
        stopped before its end (the entries seen so far are returned).
        """
        folder = await self.resolve_dir(path)
        loop = asyncio.get_running_loop()
        api = await open_stream_api(self.client)
        holder: dict = {}
        out: list[FileEntry] = []

        def work() -> None:
            res = api._get(api._url("/containers/{0}/archive", self.cid), params={"path": _wire(folder)}, stream=True,
                           headers=IDENTITY)
            holder["res"] = res
            api._raise_for_status(res)
            res.raw.decode_content = True
            pending: list[FileEntry] = []
            try:
                scan(_CappedReader(res.raw, byte_limit), pending)
            except _ListLimit:
                holder["partial"] = True
            if pending:
                loop.call_soon_threadsafe(on_entries, pending)

        def scan(raw, pending: list[FileEntry]) -> None:
            with tarfile.open(fileobj=raw, mode="r|") as tar:
                for m in tar:  # stream mode: data of each member is skipped, not stored
                    parts = m.name.rstrip("/").split("/", 1)
                    if len(parts) != 2 or "/" in parts[1] or holder.get("cancelled"):
                        if holder.get("cancelled"):
                            return
                        continue
                    name = parts[1]
                    kind = ("dir" if m.isdir() else "symlink" if m.issym() else "hardlink" if m.islnk()
                            else "file" if m.isfile() else "other")
                    target = m.linkname if m.issym() else ("/" + m.linkname.split("/", 1)[-1] if m.islnk() and folder == "/"
                                                           else _join(os.path.dirname(folder.rstrip("/")) or "/", m.linkname) if m.islnk() else "")
                    e = FileEntry(name, _join(folder, name), kind, m.size, m.mode & 0o7777, float(m.mtime), target)
                    out.append(e)
                    pending.append(e)
                    if len(pending) >= batch:
                        loop.call_soon_threadsafe(on_entries, list(pending))
                        pending.clear()

        try:
            await loop.run_in_executor(None, work)
        except asyncio.CancelledError:
            holder["cancelled"] = True
            raise
        except Exception as exc:  # noqa: BLE001
            raise _path_error(exc, "list", path, self.cid) from exc
        finally:
            res = holder.get("res")
            if res is not None:
                res.close()
            api.close()
        return DirListing(sorted(out, key=lambda e: (not e.is_dir, e.name)), not holder.get("partial"))

    async def _follow_links(self, path: str) -> tuple[str, FileEntry]:
        """The path a symlink leads to, and its entry; a sentence when it leads nowhere."""
        st = await self.stat(path)
        seen = path
        for _ in range(8):
            if st.kind != "symlink":
                return path, st
            target = st.link_target
            path = posixpath.normpath(target if target.startswith("/") else posixpath.join(posixpath.dirname(path), target))
            try:
                st = await self.stat(path)
            except NotFoundError:
                raise NotFoundError(f"{printable(seen)} is a link to {printable(target)}, which does not exist "
                                    "in the container.") from None
        raise EngineError(f"{printable(seen)} is a chain of links too long to follow.")

    async def download(self, path: str, dest: str) -> int:
        """Copy a file to the host path `dest`, or a folder into the host folder `dest`; returns bytes written.

        A link is followed to what it points at. The archive is unpacked by tar_safety: the
        container decides the names, so every member is checked before anything is written.
        """
        path, st = await self._follow_links(path)
        api = self.client.api

        def open_archive(p: str):
            res = api._get(api._url("/containers/{0}/archive", self.cid), params={"path": _wire(p)}, stream=True,
                           headers=IDENTITY)
            api._raise_for_status(res)
            res.raw.decode_content = True
            return res

        def work() -> int:
            res = open_archive(path)
            try:
                if st.kind == "dir":
                    return extract_all(res.raw, dest)
                n = one_file(res.raw)
            finally:
                res.close()
            if n is None and st.kind == "file":
                # The engine sends an empty archive for a lone file whose name is not UTF-8 (its
                # tar writer cannot name it), yet includes it in its folder's: take it from there.
                parent = posixpath.dirname(path.rstrip("/")) or "/"
                res = open_archive(parent)
                try:
                    n = one_file(res.raw, posixpath.basename(path))
                finally:
                    res.close()
            if n is None:
                raise EngineError(f"{printable(path)} is not a regular file: there is nothing to download.")
            return n

        def one_file(raw, name: str | None = None) -> int | None:
            total = 0
            with tarfile.open(fileobj=raw, mode="r|") as tar:
                for m in tar:
                    if name is not None and m.name.rstrip("/").split("/", 1)[-1] != name:
                        continue  # a folder's archive: its first component is the folder itself
                    if m.isfile():
                        src = tar.extractfile(m)
                        with fresh_file(dest) as f:
                            while chunk := src.read(1 << 20):
                                f.write(chunk)
                                total += len(chunk)
                        return total
            return None

        try:
            return await self.client.run(work)
        except EngineError:
            raise
        except OSError as exc:
            raise EngineError(f"Could not write {dest} on this computer: {exc.strerror or exc}.") from exc
        except Exception as exc:  # noqa: BLE001
            raise _path_error(exc, "download", path, self.cid) from exc

    async def upload(self, host_paths: Sequence[str], folder: str) -> None:
        """Copy host files/folders into a folder of the container."""
        for p in host_paths:
            if not os.path.exists(p):
                raise EngineError(f"{p} does not exist on this computer.")

        def work() -> None:
            with tempfile.TemporaryFile() as tmp:
                with tarfile.open(fileobj=tmp, mode="w") as tar:
                    for p in host_paths:
                        tar.add(p, arcname=os.path.basename(os.path.normpath(p)))
                tmp.seek(0)
                if not self.client.api.put_archive(self.cid, folder, tmp):
                    raise EngineError(f"The engine did not accept the files for {folder}.")

        try:
            await self.client.run(work)
        except EngineError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise _path_error(exc, "upload into", folder, self.cid) from exc
