"""An asyncio façade over the docker SDK: every blocking call runs in a bounded executor."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import docker
import docker.tls

from desktop.engine.endpoints import Endpoint
from desktop.engine.errors import EngineUnreachableError, PermissionDeniedError, translate
from desktop.engine.foreground import ForegroundGate
from desktop.engine.records import Container, ContainerDetails, EngineInfo

log = logging.getLogger(__name__)
T = TypeVar("T")

PROBE_TIMEOUT = 3.0
CALL_TIMEOUT = 60.0


def make_api_client(endpoint: Endpoint, timeout: float = CALL_TIMEOUT, version: str = "auto") -> docker.APIClient:
    """A low-level SDK client for one endpoint (blocking: call it off the UI thread)."""
    tls: docker.tls.TLSConfig | bool = False
    if endpoint.tls is not None:
        t = endpoint.tls
        client_cert = (t.cert, t.key) if t.cert and t.key else None
        tls = docker.tls.TLSConfig(client_cert=client_cert, ca_cert=t.ca, verify=t.ca if (t.verify and t.ca) else t.verify)
    host = endpoint.host
    if host.startswith("tcp://") and tls:
        host = "https://" + host[len("tcp://"):]
    return docker.APIClient(
        base_url=host, version=version, timeout=timeout, tls=tls,
        use_ssh_client=host.startswith("ssh://"), max_pool_size=16,
    )


class EngineClient:
    """One engine, reached through the first answering endpoint of a candidate list.

    All methods are coroutines; results are frozen records; failures are EngineError
    subclasses with a sentence for the user.
    """

    def __init__(self, endpoints: Sequence[Endpoint], *, max_workers: int = 8) -> None:
        if not endpoints:
            raise ValueError("at least one endpoint is needed")
        self.endpoints = tuple(endpoints)
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="engine-call")
        self._api: docker.APIClient | None = None
        self.endpoint: Endpoint | None = None
        self.info: EngineInfo | None = None
        self._closed = False
        # Stream workers yield to the UI's paints through this (see desktop/engine/foreground.py).
        self.foreground = ForegroundGate()

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def executor(self) -> ThreadPoolExecutor:
        return self._executor

    @property
    def api(self) -> docker.APIClient:
        if self._api is None:
            raise EngineUnreachableError("Not connected to an engine.", tried=[e.describe() for e in self.endpoints])
        return self._api

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking callable in the bounded executor."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def _call(self, action: str, target: str, method: str, *args: Any, **kwargs: Any) -> Any:
        api = self.api
        try:
            return await self.run(getattr(api, method), *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence
            raise translate(exc, action, target) from exc

    # -- connection -------------------------------------------------------------------------
    def _probe(self, endpoint: Endpoint) -> tuple[docker.APIClient, EngineInfo]:
        api = make_api_client(endpoint, timeout=PROBE_TIMEOUT)
        try:
            info = api.info()
            version = api.version()
        except Exception:
            api.close()
            raise
        api.timeout = CALL_TIMEOUT
        return api, EngineInfo.from_api(info, version, endpoint.host)

    async def connect(self) -> EngineInfo:
        """Try each endpoint in order; keep the first that answers."""
        tried, reasons = [], []
        denied = None
        for ep in self.endpoints:
            tried.append(ep.describe())
            try:
                api, info = await self.run(self._probe, ep)
            except Exception as exc:  # noqa: BLE001
                err = translate(exc, "connect to", f"the engine at {ep.host}")
                if isinstance(err, PermissionDeniedError):
                    denied = err
                reasons.append(f"{ep.host}: {err.detail or err}")
                continue
            old, self._api = self._api, api
            if old is not None:
                old.close()
            self.endpoint, self.info = ep, info
            return info
        if denied is not None:
            raise PermissionDeniedError(denied.message, "; ".join(reasons), tried)
        raise EngineUnreachableError(
            "No container engine is answering.", "; ".join(reasons), tried
        )

    async def ping(self) -> bool:
        try:
            return bool(await self.run(self.api.ping))
        except Exception:  # noqa: BLE001
            return False

    def watch(self) -> "EngineWatch":
        from desktop.engine.events import EngineWatch

        return EngineWatch(self)

    async def aclose(self) -> None:
        self._closed = True
        if self._api is not None:
            self._api.close()
            self._api = None
        self._executor.shutdown(wait=True, cancel_futures=True)

    # -- containers -------------------------------------------------------------------------
    async def list_containers(self, *, all: bool = True, filters: Mapping[str, Any] | None = None) -> list[Container]:
        """Containers as the list API gives them (no per-container inspect)."""
        raw = await self._call("list", "containers", "containers", all=all, filters=dict(filters or {}))
        eid = self.info.id if self.info else ""
        return [Container.from_api(r, eid) for r in raw]

    async def inspect_container(self, cid: str) -> ContainerDetails:
        return ContainerDetails.from_api(await self._call("inspect", f"container {cid[:12]}", "inspect_container", cid))

    async def start(self, cid: str, name: str = "") -> None:
        await self._call("start", f"container {name or cid[:12]}", "start", cid)

    async def stop(self, cid: str, name: str = "", timeout: int = 10) -> None:
        await self._call("stop", f"container {name or cid[:12]}", "stop", cid, timeout=timeout)

    async def restart(self, cid: str, name: str = "", timeout: int = 10) -> None:
        await self._call("restart", f"container {name or cid[:12]}", "restart", cid, timeout=timeout)

    async def pause(self, cid: str, name: str = "") -> None:
        await self._call("pause", f"container {name or cid[:12]}", "pause", cid)

    async def unpause(self, cid: str, name: str = "") -> None:
        await self._call("unpause", f"container {name or cid[:12]}", "unpause", cid)

    async def kill(self, cid: str, name: str = "", signal: str = "SIGKILL") -> None:
        await self._call("kill", f"container {name or cid[:12]}", "kill", cid, signal=signal)

    async def remove(self, cid: str, name: str = "", *, force: bool = False, volumes: bool = False) -> None:
        await self._call("remove", f"container {name or cid[:12]}", "remove_container", cid, force=force, v=volumes)
