"""An asyncio façade over the docker SDK: every blocking call runs in a bounded executor."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import os
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import docker

from desktop.engine.endpoints import Endpoint
from desktop.engine.errors import EngineUnreachableError, PermissionDeniedError, translate
from desktop.engine.foreground import ForegroundGate
from desktop.engine.records import Container, ContainerDetails, EngineInfo, containers_from_json
from desktop.engine.ssh_tunnel import SSHTunnel, explain_forward_failure

log = logging.getLogger(__name__)
T = TypeVar("T")

PROBE_TIMEOUT = 3.0
CALL_TIMEOUT = 60.0


def make_api_client(endpoint: Endpoint, timeout: float = CALL_TIMEOUT, version: str = "auto") -> docker.APIClient:
    """A low-level SDK client for one endpoint (blocking: call it off the UI thread).

    The SDK is imported here, at the first connection, not with this module: the start-up path
    paints the prefetched table before anything needs it. An ssh:// address is refused: the SDK
    would dial it through paramiko, ignoring the app's tunnel; EngineClient dials its forward.
    """
    import docker.tls

    if endpoint.host.startswith("ssh://"):
        raise ValueError("ssh:// engines are reached through their SSH tunnel's local socket")

    tls: "docker.tls.TLSConfig | bool" = False
    if endpoint.tls is not None:
        t = endpoint.tls
        client_cert = (t.cert, t.key) if t.cert and t.key else None
        tls = docker.tls.TLSConfig(client_cert=client_cert, ca_cert=t.ca, verify=t.ca if (t.verify and t.ca) else t.verify)
    host = endpoint.host
    if host.startswith("tcp://") and tls:
        host = "https://" + host[len("tcp://"):]
    api = _env_free_api_client()(base_url=host, version=version, timeout=timeout, tls=tls, max_pool_size=16)
    api.trust_env = False
    return api


@functools.cache
def _env_free_api_client() -> type:
    import docker

    class _EnvFreeAPIClient(docker.APIClient):
        """requests lets HTTP(S)_PROXY reroute the connection (an engine's API, and a registry
        password inside it, would go through a proxy) and REQUESTS_CA_BUNDLE override the
        session's CA; engine traffic goes straight to the engine, trusting only its own CA."""

        def _retrieve_server_version(self):
            self.trust_env = False
            return super()._retrieve_server_version()

    return _EnvFreeAPIClient


def container_list_body(api: "docker.APIClient", *, all: bool = True, filters: Mapping[str, Any] | None = None) -> bytes:
    """The SDK's containers() call without its parse of the whole reply (parse_container_list
    makes each record as its object is read)."""
    from docker.utils import convert_filters

    params: dict[str, Any] = {"all": 1 if all else 0}
    if filters:
        params["filters"] = convert_filters(dict(filters))
    res = api._get(api._url("/containers/json"), params=params)
    api._raise_for_status(res)
    return res.content


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
        self.api_endpoint: Endpoint | None = None  # what the SDK dials (an ssh:// engine's local forward)
        self._tunnels: dict[str, SSHTunnel] = {}
        self.info: EngineInfo | None = None
        self.info_provisional = False  # reconnected without re-reading /info (refresh_info() follows)
        self._closed = False
        # The tag put on every record. Two daemons on one host can share an engine ID (docker 20.10
        # derives it from /etc/docker/key.json), so the app tags records with its own engine name.
        self.engine_tag: str | None = None
        # Stream workers yield to the UI's paints through this (see desktop/engine/foreground.py).
        self.foreground = ForegroundGate()

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def executor(self) -> ThreadPoolExecutor:
        return self._executor

    @property
    def connected(self) -> bool:
        return self._api is not None

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
    def _dial_endpoint(self, endpoint: Endpoint) -> Endpoint:
        """The endpoint the SDK connects to: ssh:// engines go through a local socket forward."""
        if not endpoint.host.startswith("ssh://"):
            return endpoint
        tunnel = self._tunnels.get(endpoint.host)
        if tunnel is None:
            tunnel = self._tunnels[endpoint.host] = SSHTunnel(endpoint.host, endpoint.ssh_identity,
                                                              endpoint.ssh_known_hosts)
        return Endpoint(tunnel.open(), endpoint.source, endpoint.name)

    def _probe(self, endpoint: Endpoint) -> tuple[docker.APIClient, EngineInfo, Endpoint]:
        dial = self._dial_endpoint(endpoint)
        tunnel = self._tunnels.get(endpoint.host)
        if tunnel is not None:
            tunnel.clear_forward_error()
        # Reconnecting to the endpoint it had: its API version is known, which spares the SDK's
        # own version round trip (the page is current that much sooner).
        known = self._api.api_version if self._api is not None and self.endpoint == endpoint else "auto"
        try:
            api = make_api_client(dial, timeout=PROBE_TIMEOUT, version=known)
        except Exception as exc:
            raise self._forward_failure(tunnel) or exc
        again = self.info if known != "auto" else None
        try:
            # Back after a loss: /version says it answers; /info (the engine's costliest summary,
            # slow while it is still restoring) follows the resync instead of holding it up.
            info = api.info() if again is None else None
            version = api.version()
        except Exception as exc:
            api.close()
            raise self._forward_failure(tunnel) or exc
        api.timeout = CALL_TIMEOUT
        if again is not None:
            self.info_provisional = True
            return api, dataclasses.replace(again, version=version.get("Version", again.version),
                                            api_version=version.get("ApiVersion", again.api_version)), dial
        self.info_provisional = False
        return api, EngineInfo.from_api(info, version, endpoint.host), dial

    async def refresh_info(self) -> EngineInfo:
        """Read /info again (after a reconnect that skipped it); returns the fresh EngineInfo."""
        api, host = self.api, self.endpoint.host if self.endpoint else ""
        try:
            info, version = await self.run(lambda: (api.info(), api.version()))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence
            raise translate(exc, "read", "the engine's information") from exc
        self.info, self.info_provisional = EngineInfo.from_api(info, version, host), False
        return self.info

    @staticmethod
    def _forward_failure(tunnel: SSHTunnel | None) -> EngineUnreachableError | None:
        """ssh is up but refused the channel to the engine socket: say that, not "connection reset"."""
        if tunnel is None:
            return None
        if not tunnel.alive:
            return EngineUnreachableError(f"The SSH connection to {tunnel.target.host} ended.", tunnel.stderr_text())
        tunnel.wait_forward_error(0.5)
        sentence = explain_forward_failure(tunnel)
        return EngineUnreachableError(sentence, tunnel.last_forward_error) if sentence else None

    async def connect(self) -> EngineInfo:
        """Try each endpoint in order; keep the first that answers."""
        tried, reasons, sentences = [], [], []
        denied = None
        for ep in self.endpoints:
            tried.append(ep.describe())
            try:
                api, info, dial = await self.run(self._probe, ep)
            except Exception as exc:  # noqa: BLE001
                err = translate(exc, "connect to", f"the engine at {ep.host}")
                if ep.host.startswith("unix://") and not os.path.exists(ep.host[len("unix://"):]):
                    err = EngineUnreachableError(f"No engine socket exists at {ep.host[len('unix://'):]}.", err.detail)
                elif str(err) == "The engine stopped answering.":
                    err = EngineUnreachableError(f"The engine at {ep.host} did not answer.", err.detail)
                if isinstance(err, PermissionDeniedError):
                    denied = err
                reasons.append(f"{ep.host}: {err.detail or err}")
                sentences.append(str(err))
                continue
            old, self._api = self._api, api
            if old is not None:
                old.close()
            self.endpoint, self.api_endpoint, self.info = ep, dial, info
            return info
        if denied is not None:
            raise PermissionDeniedError(denied.message, "; ".join(reasons), tried)
        # One candidate: its own sentence says most (an SSH key refused, a socket missing...).
        message = sentences[0] if len(sentences) == 1 else "No container engine is answering."
        raise EngineUnreachableError(message, "; ".join(reasons), tried)

    @property
    def tag(self) -> str:
        return self.engine_tag or (self.info.id if self.info else "")

    async def ping(self) -> bool:
        try:
            return bool(await self.run(self.api.ping))
        except Exception:  # noqa: BLE001
            return False

    async def aclose(self) -> None:
        self._closed = True
        if self._api is not None:
            self._api.close()
            self._api = None
        for tunnel in self._tunnels.values():
            await self.run(tunnel.close)
        self._executor.shutdown(wait=True, cancel_futures=True)

    # -- containers -------------------------------------------------------------------------
    async def list_containers(self, *, all: bool = True, filters: Mapping[str, Any] | None = None) -> list[Container]:
        """Containers as the list API gives them (no per-container inspect)."""
        eid = self.tag
        api = self.api

        def fetch() -> list[Container]:
            # Records are built in the worker too: 1000 of them are ~10 ms the UI need not wait for.
            return containers_from_json(container_list_body(api, all=all, filters=filters), eid)

        try:
            return await self.run(fetch)
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, "list", "containers") from exc

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
