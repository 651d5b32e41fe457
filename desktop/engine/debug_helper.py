"""A debug helper: a toolbox container that shares a target's process, network and IPC
namespaces, so a shell in it sees the target's processes and, at /proc/1/root, its files —
even when the target's image has no shell at all.

A stopped target has no namespaces to join: it is committed to a snapshot image, and a
stand-in container runs that snapshot with a keeper program copied from the toolbox; the
helper then joins the stand-in.

Lifetime: every container made here keeps its stdin attached to the app ("lifeline") with
StdinOnce and AutoRemove, and its main process is `cat`: when the app closes the socket — on
purpose or because it was killed — stdin closes, `cat` ends and the engine removes the
container. Everything carries labels naming its owner process, so what a crash or a lost
connection leaves behind (snapshot images above all) is removed on the next start.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import socket
import tarfile
from collections.abc import Callable, Iterable

from desktop.engine.client import EngineClient
from desktop.engine.errors import EngineError, NotFoundError, translate
from desktop.engine.chunk_reader import ChunkReader
from desktop.engine.records import DEBUG_ROLE_LABEL
from desktop.engine.stream_clients import open_stream_api

log = logging.getLogger(__name__)

ROLE_LABEL = DEBUG_ROLE_LABEL  # helper | stand-in | snapshot
OWNER_LABEL = "io.pilothouse.debug.owner"  # host/pid/start-time of the app that made it
TARGET_LABEL = "io.pilothouse.debug.target"
TOOLS_DIR = "/.pilothouse-debug"  # where a stand-in holds the toolbox's programs
SNAPSHOT_REPO = "pilothouse-debug-snapshot"
MAX_TOOLBOX_COPY = 256 * 1024 * 1024  # the toolbox's /bin copied into a stand-in: a sane bound


def owner_tag(pid: int | None = None) -> str:
    """Names this app process across restarts: a reused pid has another start time."""
    import psutil

    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}/{pid}/{int(psutil.Process(pid).create_time())}"


def owner_is_gone(tag: str) -> bool:
    """True when the process named by `tag` ran on this host and no longer does.

    Helpers made from another computer are left alone: their own lifeline ends them, and that
    computer's next start removes its snapshots."""
    import psutil

    try:
        host, pid_s, started = tag.rsplit("/", 2)
        pid, start = int(pid_s), int(started)
    except ValueError:
        return False
    if host != socket.gethostname():
        return False
    try:
        return int(psutil.Process(pid).create_time()) != start
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False


def pick_toolbox(tags: Iterable[str]) -> str | None:
    """The busybox-like image among an engine's tags: plain `busybox` first, then any
    `…/busybox`, preferring `latest`."""
    candidates = []
    for tag in tags:
        repo, _, version = tag.rpartition(":")
        if not repo or "/" in version:  # "host:5000/busybox" has no tag
            repo, version = tag, "latest"
        name = repo.rsplit("/", 1)[-1]
        if name == "busybox":
            candidates.append((repo != "busybox", version != "latest", tag))
    return min(candidates)[2] if candidates else None


async def find_toolbox(client: EngineClient) -> str | None:
    """The engine's busybox-like image, or None (the user is then asked)."""
    def tags() -> list[str]:
        return [t for im in client.api.images() for t in (im.get("RepoTags") or [])]

    try:
        return pick_toolbox(await client.run(tags))
    except Exception as exc:  # noqa: BLE001
        raise translate(exc, "list", "images") from exc


def _prefixed_tar(raw: Iterable[bytes], prefix: str) -> bytes:
    """Rewrite an engine's archive so every entry lives under `prefix` (never extracted here:
    the bytes go straight back to the engine, so only sizes and link names need care)."""
    reader = ChunkReader(raw, MAX_TOOLBOX_COPY, lambda: EngineError(
        "The toolbox image's programs are too big to copy into a stand-in."))
    out = io.BytesIO()
    with tarfile.open(fileobj=reader, mode="r|") as src, tarfile.open(fileobj=out, mode="w") as dst:
        for member in src:
            name = member.name.lstrip("/")
            if ".." in name.split("/"):
                continue  # hostile input: nothing may climb out of the tools folder
            member.name = f"{prefix}/{name}"
            if member.islnk():  # hard links name archive paths: they move with the entries
                member.linkname = f"{prefix}/{member.linkname.lstrip('/')}"
            data = src.extractfile(member) if member.isreg() else None
            dst.addfile(member, data)
    return out.getvalue()


class DebugHelper:
    """One debug helper for one target container. `start()` returns the helper's id (a shell is
    then exec'd in it); `aclose()` removes everything made, and is safe to call twice."""

    def __init__(self, client: EngineClient, target_id: str, toolbox: str, *,
                 owner: str | None = None, on_note: Callable[[str], None] = lambda s: None) -> None:
        self.client, self.target_id, self.toolbox = client, target_id, toolbox
        self.owner = owner or owner_tag()
        self.on_note = on_note  # progress sentences ("Committing…")
        self.helper_id: str | None = None
        self.stand_in_id: str | None = None
        self.snapshot_id: str | None = None
        self.shared: list[str] = []  # the namespaces actually shared ("pid", "network", "ipc")
        self.from_snapshot = False
        self._api = None
        self._lifelines: list = []
        self._made: list[str] = []  # containers created, newest last
        self._closed = False

    def _labels(self, role: str) -> dict[str, str]:
        return {ROLE_LABEL: role, OWNER_LABEL: self.owner, TARGET_LABEL: self.target_id}

    async def start(self) -> str:
        target = f"container {self.target_id[:12]}"
        try:
            self._api = await open_stream_api(self.client)
            return await self._start(target)
        except EngineError:
            await self.aclose()
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence
            await self.aclose()
            raise translate(exc, "start a debug shell for", target) from exc

    async def _start(self, target: str) -> str:
        api, run = self._api, self.client.run
        try:
            await run(api.inspect_image, self.toolbox)
        except Exception as exc:  # noqa: BLE001
            err = translate(exc, "use", f"image {self.toolbox}")
            if isinstance(err, NotFoundError):
                raise NotFoundError(f"The toolbox image {self.toolbox} is not on this engine: pull it on the "
                                    "Images page, or choose another toolbox in Settings.") from exc
            raise err from exc
        info = await run(api.inspect_container, self.target_id)
        state = info.get("State") or {}
        joined = self.target_id
        if not state.get("Running"):
            joined = await self._stand_in(info)
            self.from_snapshot = True
            info = await run(api.inspect_container, joined)
        host_cfg = info.get("HostConfig") or {}
        ipc = host_cfg.get("IpcMode") or ""
        kwargs = {"pid_mode": f"container:{joined}", "network_mode": f"container:{joined}"}
        self.shared = ["pid", "network"]
        # A private IPC namespace (the engine's default) cannot be joined; shareable or host can.
        if ipc in ("shareable", "host") or ipc.startswith("container:"):
            kwargs["ipc_mode"] = f"container:{joined}" if ipc == "shareable" else ipc
            self.shared.append("ipc")
        self.on_note("Starting the debug helper…")
        self.helper_id = await self._run_lifeline(
            self.toolbox, ["cat"], self._labels("helper"), f"pilothouse-debug-{info.get('Name', '').lstrip('/')}",
            cap_add=["SYS_PTRACE"], **kwargs)
        return self.helper_id

    async def _stand_in(self, info: dict) -> str:
        """A running copy of a stopped target: its filesystem committed, the toolbox's /bin added."""
        api, run = self._api, self.client.run
        name = (info.get("Name") or "").lstrip("/") or self.target_id[:12]
        self.on_note(f"{name} is not running: committing its filesystem to a snapshot…")
        tag = f"{self.target_id[:12]}-{secrets.token_hex(3)}"
        labels = " ".join(f'{k}="{v}"' for k, v in self._labels("snapshot").items())
        res = await run(api.commit, self.target_id, repository=SNAPSHOT_REPO, tag=tag,
                        message="Pilothouse debug snapshot", changes=[f"LABEL {labels}"])
        self.snapshot_id = res["Id"]
        self.on_note("Starting a stand-in on the snapshot…")
        # The toolbox's programs, read from a never-started container of it.
        probe = await run(api.create_container, self.toolbox, command=["true"], labels=self._labels("probe"))
        try:
            def read_bin() -> bytes:
                stream, _stat = api.get_archive(probe["Id"], "/bin")
                return _prefixed_tar(stream, TOOLS_DIR.lstrip("/"))

            tools = await run(read_bin)
        finally:
            await run(api.remove_container, probe["Id"], force=True)
        self.stand_in_id = await self._run_lifeline(
            self.snapshot_id, [f"{TOOLS_DIR}/bin/cat"], self._labels("stand-in"), f"pilothouse-debug-snapshot-{name}",
            network_mode="none", before_start=lambda cid: api.put_archive(cid, "/", tools))
        return self.stand_in_id

    async def _run_lifeline(self, image: str, keeper: list[str], labels: dict, name: str, *,
                            before_start: Callable[[str], object] | None = None, **host) -> str:
        """Create, attach stdin, start: a container that ends (and is removed) with its lifeline."""
        api, run = self._api, self.client.run
        cfg = api.create_host_config(auto_remove=True, **host)
        config = api.create_container_config(image, [], entrypoint=keeper, labels=labels, stdin_open=True,
                                             tty=False, host_config=cfg)
        config["StdinOnce"] = True  # stdin closes with the first (our) attach: the keeper's EOF
        created = await run(api.create_container_from_config, config, f"{name[:40]}-{secrets.token_hex(3)}")
        cid = created["Id"]
        self._made.append(cid)  # removed by aclose even if what follows is cancelled
        if before_start is not None:
            await run(before_start, cid)
        sock = await run(api.attach_socket, cid, params={"stdin": 1, "stream": 1})
        self._lifelines.append(sock)
        try:
            await run(api.start, cid)
        except Exception as exc:  # noqa: BLE001
            err = translate(exc, "start", "the debug helper")
            if keeper[0].startswith(TOOLS_DIR):
                raise EngineError(f"The stand-in for the stopped container could not start: {err} The toolbox's "
                                  "programs must be static (as busybox's are) to run on another image.",
                                  err.detail) from exc
            raise err from exc
        return cid

    async def _remove(self, cid: str) -> None:
        def work() -> None:
            import docker.errors

            try:
                self._api.remove_container(cid, force=True)
            except docker.errors.NotFound:
                return
            except docker.errors.APIError as exc:
                if "in progress" not in str(exc):  # AutoRemove got there first
                    raise
            try:
                self._api.wait(cid, timeout=10, condition="removed")
            except Exception:  # noqa: BLE001 - gone already, or going
                pass

        try:
            await self.client.run(work)
        except Exception as exc:  # noqa: BLE001 - the next start's clean-up removes it
            log.warning("debug helper %s not removed: %s", cid[:12], exc)

    async def aclose(self) -> None:
        """Remove the helper, the stand-in and the snapshot (each at most once)."""
        if self._closed:
            return
        self._closed = True
        for sock in self._lifelines:
            raw = getattr(sock, "_sock", sock)
            try:
                raw.close()
            except OSError:
                pass
        self._lifelines.clear()
        if self._api is None:
            return
        for cid in reversed(self._made):  # the helper before the stand-in it joined
            await self._remove(cid)
        if self.snapshot_id:
            try:
                await self.client.run(self._api.remove_image, self.snapshot_id, force=True)
            except Exception as exc:  # noqa: BLE001
                log.warning("debug snapshot %s not removed: %s", self.snapshot_id[:19], exc)
        api, self._api = self._api, None
        api.close()


async def clean_leftovers(client: EngineClient, gone: Callable[[str], bool] = owner_is_gone) -> int:
    """Remove debug helpers, stand-ins and snapshots whose app process is gone; returns how many."""
    api = client.api

    def work() -> int:
        import docker.errors

        n = 0
        for c in api.containers(all=True, filters={"label": ROLE_LABEL}):
            if gone((c.get("Labels") or {}).get(OWNER_LABEL, "")):
                try:
                    api.remove_container(c["Id"], force=True)
                    n += 1
                except docker.errors.APIError:
                    pass
        for im in api.images(filters={"label": ROLE_LABEL}):
            if gone((im.get("Labels") or {}).get(OWNER_LABEL, "")):
                try:
                    api.remove_image(im["Id"], force=True)
                    n += 1
                except docker.errors.APIError:
                    pass
        return n

    try:
        return await client.run(work)
    except Exception as exc:  # noqa: BLE001 - clean-up must never stop the app
        log.info("debug leftovers not cleaned: %s", exc)
        return 0

