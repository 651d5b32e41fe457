"""Files inside volumes through the archive API and a created-but-never-started helper container.

The helper's image is an empty one Pilothouse imports itself (no shell, no layers): the
container is never started, the engine only mounts the volume to serve the archive API.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import tarfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker

from desktop.engine.client import EngineClient
from desktop.engine.errors import EngineError, NotFoundError, translate
from desktop.engine.fresh_file import fresh_file
from desktop.engine.specs import SpecError, parse_name
from desktop.engine.chunk_reader import ChunkReader
from desktop.engine.tar_safety import UnsafeArchive, check_archive

HELPER_IMAGE = "pilothouse/helper:scratch"
HELPER_LABEL = "pilothouse.helper"
CHUNK = 1 << 20
# The archive API has no directory listing: it sends the folder's whole tree, file contents
# included. Listing stops after this many bytes and says the list is partial.
LIST_BYTE_LIMIT = 128 << 20


class _ListLimit(Exception):
    pass


@dataclass(frozen=True)
class VolumeEntry:
    name: str
    path: str  # inside the volume, starting with /
    is_dir: bool
    size: int
    mode: int
    mtime: float
    link_target: str = ""


def _clean(path: str) -> str:
    p = posixpath.normpath("/" + (path or "/").lstrip("/"))
    if "\x00" in p:
        raise SpecError("The path contains a NUL character.")
    return p


def _ensure_helper_image(api: docker.APIClient) -> None:
    try:
        api.inspect_image(HELPER_IMAGE)
    except docker.errors.ImageNotFound:
        buf = io.BytesIO()
        tarfile.open(fileobj=buf, mode="w").close()
        repo, tag = HELPER_IMAGE.split(":")
        api.import_image_from_data(buf.getvalue(), repository=repo, tag=tag)


class DirListing(list):
    """A folder's entries; `complete` is False when only part of it could be read."""

    def __init__(self, entries, complete: bool = True) -> None:
        super().__init__(entries)
        self.complete = complete


class VolumeFiles:
    """Browse, download, upload, export, import and clone volumes."""

    def __init__(self, client: EngineClient) -> None:
        self.client = client

    @contextlib.asynccontextmanager
    async def helper(self, *volumes: str, read_only: bool = False) -> AsyncIterator[str]:
        """A helper container with each volume mounted at /v0, /v1, ...; removed afterwards."""
        api = self.client.api

        def create() -> str:
            _ensure_helper_image(api)
            for v in volumes:
                api.inspect_volume(v)  # a missing volume must not be created by the mount
            binds = [f"{v}:/v{i}:{'ro' if read_only else 'rw'}" for i, v in enumerate(volumes)]
            # A name that says what it is, for the moment it shows in container lists.
            c = api.create_container(HELPER_IMAGE, command=["/pilothouse-helper-never-runs"],
                                     name=f"pilothouse-volume-helper-{uuid.uuid4().hex[:8]}",
                                     labels={HELPER_LABEL: "1"}, network_disabled=True,
                                     host_config=api.create_host_config(binds=binds, network_mode="none"))
            return c["Id"]

        try:
            cid = await self.client.run(create)
        except docker.errors.NotFound as exc:
            raise NotFoundError(f"Volume {', '.join(volumes)} no longer exists.", str(exc)) from exc
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, "open", f"volume {', '.join(volumes)}") from exc
        try:
            yield cid
        finally:
            with contextlib.suppress(Exception):
                await self.client.run(api.remove_container, cid, force=True)

    async def _call(self, what: str, fn, *a, **k):
        try:
            return await self.client.run(fn, *a, **k)
        except UnsafeArchive:
            raise
        except docker.errors.NotFound as exc:
            raise NotFoundError(f"{what} does not exist in the volume.", str(exc)) from exc
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, "read", what) from exc

    async def list_dir(self, volume: str, path: str = "/") -> "DirListing":
        """The entries directly inside `path` (folders first, then by name); `.complete` is False
        when the folder's tree was too big to read through (LIST_BYTE_LIMIT)."""
        path = _clean(path)
        api = self.client.api

        def read(cid: str) -> DirListing:
            stream, stat = api.get_archive(cid, "/v0" + (path if path != "/" else "/."), chunk_size=CHUNK)
            if not (stat.get("mode", 0) & (1 << 31)):
                raise SpecError(f"{path} is not a folder.")
            out: list[VolumeEntry] = []
            complete = True
            try:
                self._scan(stream, out, path)
            except _ListLimit:
                complete = False  # the rest of the transfer ends with the helper container
            return DirListing(sorted(out, key=lambda e: (not e.is_dir, e.name)), complete)

        async with self.helper(volume, read_only=True) as cid:
            return await self._call(path, read, cid)

    @staticmethod
    def _scan(stream, out: list, path: str) -> None:
        reader = ChunkReader(stream, LIST_BYTE_LIMIT, _ListLimit)
        with tarfile.open(fileobj=reader, mode="r|") as tf:
            for m in tf:
                rel = m.name.split("/", 1)[1] if "/" in m.name else ""
                if not rel or "/" in rel.rstrip("/"):
                    continue  # the folder itself, or deeper
                rel = rel.rstrip("/")
                out.append(VolumeEntry(rel, posixpath.join(path, rel), m.isdir(), m.size, m.mode, m.mtime,
                                       m.linkname))

    async def download(self, volume: str, path: str, dest: str | Path) -> Path:
        """Copy one file out of the volume to dest (a file path, or a folder to put it in)."""
        path, dest = _clean(path), Path(dest)
        api = self.client.api

        def read(cid: str) -> Path:
            stream, stat = api.get_archive(cid, "/v0" + path)
            if stat.get("mode", 0) & (1 << 31):
                raise SpecError(f"{path} is a folder: export the volume to get a folder.")
            target = dest / posixpath.basename(path) if dest.is_dir() else dest
            with tarfile.open(fileobj=ChunkReader(stream), mode="r|") as tf:
                for m in tf:
                    if m.isfile():
                        src = tf.extractfile(m)
                        with fresh_file(target) as f:
                            while chunk := src.read(CHUNK):
                                f.write(chunk)
                        return target
            raise SpecError(f"{path} is not a regular file.")

        async with self.helper(volume, read_only=True) as cid:
            return await self._call(path, read, cid)

    async def upload(self, volume: str, folder: str, src: str | Path) -> str:
        """Copy a local file into a folder of the volume; returns its path in the volume."""
        folder, src = _clean(folder), Path(src)
        if not src.is_file():
            raise SpecError(f"{src} is not a file.")
        api = self.client.api

        def write(cid: str) -> None:
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as tf:
                tf.add(str(src), arcname=src.name)
            api.put_archive(cid, "/v0" + folder, buf.getvalue())

        async with self.helper(volume) as cid:
            await self._call(folder, write, cid)
        return posixpath.join(folder, src.name)

    async def export(self, volume: str, dest: str | Path) -> int:
        """Write the volume's contents as a tar (members relative to the volume root); returns bytes."""
        dest = Path(dest)
        api = self.client.api

        def read(cid: str) -> int:
            stream, _ = api.get_archive(cid, "/v0/.", chunk_size=CHUNK)
            total = 0
            with fresh_file(dest) as f:
                for chunk in stream:
                    f.write(chunk)
                    total += len(chunk)
            return total

        async with self.helper(volume, read_only=True) as cid:
            return await self._call(f"volume {volume}", read, cid)

    async def import_tar(self, volume: str, src: str | Path) -> None:
        """Unpack a tar file into the volume's root (existing files with the same names are replaced)."""
        src = Path(src)
        if not src.is_file():
            raise SpecError(f"{src} is not a file.")
        api = self.client.api

        def write(cid: str) -> None:
            with open(src, "rb") as f:
                # The engine unpacks it inside the volume; refusing hostile members here says
                # which one is wrong before anything changes, whatever the engine would do.
                check_archive(f)
                f.seek(0)
                if not api.put_archive(cid, "/v0", f):
                    raise EngineError(f"The engine did not unpack {src.name} into volume {volume}.")

        async with self.helper(volume) as cid:
            await self._call(f"volume {volume}", write, cid)

    async def clone(self, source: str, new_name: str) -> None:
        """Create `new_name` with the same driver and a copy of `source`'s files."""
        new_name = parse_name(new_name, "volume")
        api = self.client.api
        try:
            src = await self.client.run(api.inspect_volume, source)
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, "clone", f"volume {source}") from exc
        try:
            await self.client.run(api.inspect_volume, new_name)
            raise EngineError(f"A volume named {new_name} already exists.")
        except docker.errors.NotFound:
            pass
        await self.client.run(api.create_volume, new_name, driver=src.get("Driver", "local"),
                              labels=src.get("Labels") or None)

        def copy(cid: str) -> None:
            stream, _ = api.get_archive(cid, "/v0/.", chunk_size=CHUNK)
            if not api.put_archive(cid, "/v1", _Chunks(stream)):
                raise EngineError(f"The engine did not copy volume {source}.")

        async with self.helper(source, new_name) as cid:
            await self._call(f"volume {source}", copy, cid)


class _Chunks:
    """An iterable body for requests (chunked upload) over a download stream."""

    def __init__(self, it: Iterator[bytes]) -> None:
        self._it = it

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._it)
