"""Moving images: pull, push, build, save/load tar files, export a container, import a tar, login.

Every transfer is a StreamJob (worker thread, cancellable). Registry credentials come from the
docker configuration and its credential helpers, as the docker CLI uses them; Pilothouse hands a
password only to the engine (to check it) and to the configured helper or the docker CLI (to store
it) and never writes it anywhere itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import docker
import docker.auth
import docker.credentials

from desktop.engine.client import EngineClient
from desktop.engine.errors import EngineError, translate
from desktop.engine.fresh_file import fresh_file
from desktop.engine.specs import ImageRef, SpecError, parse_image_ref, parse_repository, parse_tag
from desktop.engine.stream_clients import docker_cli_args, docker_cli_env
from desktop.engine.streams import CancelledByUser, StreamJob
from desktop.system_programs import system_program_env

CHUNK = 1 << 20


def _json_progress(gen: Iterator[Any]) -> Iterator[dict]:
    for item in gen:
        if isinstance(item, bytes):
            for line in item.splitlines():
                if line.strip():
                    yield json.loads(line)
        else:
            yield item


def pull_job(client: EngineClient, ref: str | ImageRef, on_item: Callable[[dict], None]) -> StreamJob:
    """Pull `ref` (validated here: a bad reference raises SpecError and nothing is sent)."""
    r = ref if isinstance(ref, ImageRef) else parse_image_ref(ref)
    return StreamJob(client, lambda api: api.pull(r.repository, tag=r.pull_tag, stream=True, decode=True),
                     on_item, action="pull", target=str(r))


def push_job(client: EngineClient, ref: str | ImageRef, on_item: Callable[[dict], None]) -> StreamJob:
    r = ref if isinstance(ref, ImageRef) else parse_image_ref(ref)
    return StreamJob(client, lambda api: api.push(r.repository, tag=r.tag or "latest", stream=True, decode=True),
                     on_item, action="push", target=str(r))


def build_job(client: EngineClient, folder: str | Path, on_item: Callable[[dict], None], *, tag: str = "",
              dockerfile: str = "Dockerfile", build_args: Mapping[str, str] | None = None, target: str = "",
              no_cache: bool = False) -> StreamJob:
    """Build the folder's Dockerfile with the classic builder; the log streams to on_item."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SpecError(f"{folder} is not a folder.")
    if not (folder / dockerfile).is_file():
        raise SpecError(f"There is no {dockerfile} in {folder}.")
    if tag:
        r = parse_image_ref(tag)
        if r.digest:
            raise SpecError("A build tag cannot have a digest.")
        tag = str(r)
    return StreamJob(client, lambda api: _json_progress(api.build(
        path=str(folder), dockerfile=dockerfile, tag=tag or None, buildargs=dict(build_args or {}) or None,
        target=target or None, nocache=no_cache, rm=True, forcerm=True, decode=True)),
        on_item, action="build", target=f"{folder.name}")


class _CountingReader:
    """A file read in chunks for an upload; counts bytes and stops when the job is cancelled."""

    def __init__(self, path: Path, on_bytes: Callable[[int], None], job_ref: list) -> None:
        self._path, self._on_bytes, self._job_ref = path, on_bytes, job_ref

    def __iter__(self) -> Iterator[bytes]:
        with open(self._path, "rb") as f:
            while chunk := f.read(CHUNK):
                if self._job_ref and self._job_ref[0].cancelled:
                    raise EngineError("Cancelled.")
                self._on_bytes(len(chunk))
                yield chunk


def save_job(client: EngineClient, images: list[str], dest: str | Path,
             on_bytes: Callable[[int], None]) -> StreamJob:
    """Write `docker save` of the given images (ids or names) to dest; on_bytes(total written)."""
    dest = Path(dest)
    written = [0]
    job_ref: list = []

    def start(api: docker.APIClient) -> Iterator[int]:
        res = api._get(api._url("/images/get"), params={"names": images}, stream=True)
        chunks = api._stream_raw_result(res, CHUNK, False)
        with fresh_file(dest) as f:  # complete or absent, never a planted .part written through
            for chunk in chunks:
                f.write(chunk)
                written[0] += len(chunk)
                yield written[0]
            _unless_cancelled(job_ref)

    job = StreamJob(client, start, on_bytes, action="save", target=", ".join(images), check_errors=False,
                    undo=lambda: dest.unlink(missing_ok=True))
    job_ref.append(job)
    return job


def _unless_cancelled(job_ref: list) -> None:
    """A cancel that came while the last bytes were written still leaves no file behind: the
    user was told it was cancelled."""
    if job_ref and job_ref[0].cancelled:
        raise CancelledByUser("Cancelled.")


def load_job(client: EngineClient, src: str | Path, on_progress: Callable[[Any], None]) -> StreamJob:
    """`docker load` of a tar file. on_progress gets ints (bytes sent) and the engine's JSON items."""
    src = Path(src)
    if not src.is_file():
        raise SpecError(f"{src} is not a file.")
    job_ref: list = []
    sent = [0]

    def count(n: int) -> None:
        sent[0] += n
        on_progress(sent[0])  # called in the worker thread: on_progress must be thread-safe

    job = StreamJob(client, lambda api: api.load_image(_CountingReader(src, count, job_ref)), on_progress,
                    action="load", target=src.name)
    job_ref.append(job)
    return job


def export_job(client: EngineClient, container_id: str, dest: str | Path, on_bytes: Callable[[int], None]) -> StreamJob:
    """Write a container's filesystem as a tar file."""
    dest = Path(dest)

    job_ref: list = []

    def start(api: docker.APIClient) -> Iterator[int]:
        total = 0
        with fresh_file(dest) as f:
            for chunk in api.export(container_id, chunk_size=CHUNK):
                f.write(chunk)
                total += len(chunk)
                yield total
            _unless_cancelled(job_ref)

    job = StreamJob(client, start, on_bytes, action="export", target=f"container {container_id[:12]}",
                    check_errors=False, undo=lambda: dest.unlink(missing_ok=True))
    job_ref.append(job)
    return job


async def import_image(client: EngineClient, src: str | Path, repository: str, tag: str = "latest") -> str:
    """Import a filesystem tar as an image; returns the new image id."""
    src = Path(src)
    if not src.is_file():
        raise SpecError(f"{src} is not a file.")
    repo, tg = parse_repository(repository), parse_tag(tag or "latest")
    api = client.api
    try:
        out = await client.run(api.import_image, src=str(src), repository=repo, tag=tg)
        if isinstance(out, str):
            items = [json.loads(ln) for ln in out.splitlines() if ln.strip()]
            for it in items:
                if it.get("error"):
                    raise EngineError(f"Could not import {src.name}: {it['error']}", it["error"])
        return (await client.run(api.inspect_image, f"{repo}:{tg}"))["Id"]
    except EngineError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise translate(exc, "import", src.name) from exc


# -- registry login ------------------------------------------------------------------------------------
def docker_config_path() -> Path:
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"


def credential_helper(registry: str) -> str | None:
    """The credential helper the docker configuration names for this registry, if any."""
    try:
        cfg = json.loads(docker_config_path().read_text())
    except (OSError, ValueError):
        return None
    return (cfg.get("credHelpers") or {}).get(registry) or cfg.get("credsStore") or None


async def login(client: EngineClient, registry: str, username: str, password: str) -> str:
    """Check credentials with the engine, then store them where the docker CLI keeps them.

    Returns a sentence saying where they went. Storage: the configured credential helper, or the
    docker CLI's own `login --password-stdin` when no helper is configured (the CLI, not
    Pilothouse, decides the format). Without either, the login lasts for this session only.
    """
    registry = registry.strip()
    if not registry or any(c.isspace() for c in registry) or "/" in registry.rstrip("/").split("://")[-1]:
        raise SpecError("Enter a registry host, like registry.example.com or localhost:5000.")
    if not username.strip():
        raise SpecError("Enter a user name.")
    api = client.api
    try:
        await client.run(api.login, username=username, password=password, registry=registry, reauth=True)
    except Exception as exc:  # noqa: BLE001
        err = translate(exc, "log in to", registry)
        raise EngineError(f"The registry {registry} refused the login: {err.detail or err}", err.detail) from exc
    helper = credential_helper(registry)
    if helper:
        store = docker.credentials.Store(helper)
        try:
            await client.run(store.store, server=registry, username=username, secret=password)
        except docker.credentials.StoreError as exc:
            raise EngineError(f"The credential helper docker-credential-{helper} could not store the login: {exc}") from exc
        where = f"the docker-credential-{helper} helper"
    elif shutil.which("docker"):
        # The CLI asks the same engine to check the login, then stores it as it always does; it
        # reaches the engine as we do (the SSH forward; TLS with the engine's certificates).
        argv = ["docker", *docker_cli_args(client), "login", "--username", username, "--password-stdin", registry]
        env = docker_cli_env(system_program_env())

        def cli() -> subprocess.CompletedProcess:
            return subprocess.run(argv, input=password, capture_output=True, text=True, timeout=60, env=env)

        res = await client.run(cli)
        if res.returncode != 0:
            raise EngineError(f"docker login could not store the login: {res.stderr.strip()}")
        where = "the docker CLI's configuration"
    else:
        return f"Logged in to {registry} for this session (no credential helper or docker CLI to remember it)."
    await client.run(api.reload_config)
    return f"Logged in to {registry}; the login is kept by {where}."


def ref_for_push(repository: str, tag: str) -> ImageRef:
    return ImageRef(parse_repository(repository), parse_tag(tag or "latest"))
