"""Swarm calls on one engine (a manager for most of them): nodes, services, tasks, secrets,
configs, join tokens, init; every failure becomes a sentence (no quorum, not a manager, node
still up, port taken by another service, secret in use...)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import docker.errors

from desktop.engine.errors import (ConflictError, EngineError, EngineUnreachableError, InvalidInputError,
                                   NotFoundError, PortAllocatedError, translate)
from desktop.engine.swarm_logs import ServiceLogStream
from desktop.engine.swarm_records import JoinTokens, SwarmInfo, SwarmNode, SwarmSecret, SwarmService, SwarmTask
from desktop.engine.swarm_hold import (held_spec, restore_delay, resumed_spec, rollback_spec,
                                       without_our_labels)
from desktop.engine.swarm_specs import ServiceRequest, service_spec

if TYPE_CHECKING:
    from desktop.engine.client import EngineClient

log = logging.getLogger(__name__)


class SwarmError(EngineError):
    """A swarm-level refusal with a sentence."""


class NotInSwarmError(SwarmError):
    """The engine is not part of a swarm."""


class NotSwarmManagerError(SwarmError):
    """The engine is a worker: only managers see or change the cluster."""


class NoQuorumError(SwarmError):
    """Too few managers are reachable for the swarm to accept any change."""


class NodeUnreachableError(SwarmError):
    """A node (or the manager to join) cannot be reached."""


class InUseError(ConflictError):
    """A secret, config or network is still used by a service."""


_PORT_IN_USE_RE = re.compile(r"port '(\d+)' is already in use by service '([^']*)'")
_IN_USE_RE = re.compile(r"(secret|config) '([^']*)' is in use by the following services?: (.*)$", re.IGNORECASE)
_NODE_NOT_DOWN_RE = re.compile(r"node (\S+) is not down")


def _desc(words: str) -> str:
    """The engine's sentence without the gRPC wrapper ("rpc error: code = X desc = ...")."""
    m = re.search(r"desc = (.*)$", words, re.DOTALL)
    return (m.group(1) if m else words).strip()


def translate_swarm(exc: Exception, action: str = "", target: str = "") -> EngineError:
    """The swarm's own refusals as sentences; anything else as errors.translate does it."""
    base = translate(exc, action, target)
    if isinstance(base, EngineUnreachableError) or type(base) is InvalidInputError:
        return base
    words = base.detail or str(base)
    low = words.lower()
    what = target or "that"
    if ("does not have a leader" in low or "too few managers are online" in low or "lost quorum" in low
            or "lost leader status" in low or "no leader" in low):
        return NoQuorumError(
            "The swarm has lost its quorum: fewer than half of its managers are reachable, so it "
            "accepts no changes. Bring the stopped managers back, or on a surviving manager run "
            "`docker swarm init --force-new-cluster`.", words)
    if "this node is not a swarm manager" in low:
        return NotSwarmManagerError(
            "This engine is a swarm worker; connect to a manager to manage the swarm.", words)
    if "this node is not part of a swarm" in low:
        return NotInSwarmError("This engine is not part of a swarm.", words)
    if "this node is already part of a swarm" in low:
        return ConflictError("This engine is already part of a swarm.", words)
    m = _PORT_IN_USE_RE.search(words)
    if m:
        return PortAllocatedError(
            f"Could not {action or 'create'} {what}: port {m.group(1)} is already published by service "
            f"{m.group(2)}. Choose another published port, or change that service first.", words, int(m.group(1)))
    m = _IN_USE_RE.search(_desc(words))
    if m:
        kind, name, users = m.group(1).lower(), m.group(2), m.group(3).strip().rstrip(".")
        return InUseError(
            f"The {kind} {name} is in use by {users}; remove it from {'that service' if ',' not in users else 'those services'} "
            f"(or remove {'the service' if ',' not in users else 'them'}) first.", words)
    m = _NODE_NOT_DOWN_RE.search(words)
    if m:
        return ConflictError(
            f"{what[0].upper() + what[1:]} is still up: only a node that is down can be removed. Make it "
            "leave the swarm (`docker swarm leave` on it), or drain it and stop its engine first.", words)
    if "can not remove" in low and "manager" in low or "demote" in low and "before removing" in low:
        return ConflictError(f"{what[0].upper() + what[1:]} is a manager: demote it before removing it.", words)
    if "can't demote the last manager" in low or "last manager" in low and "demote" in low:
        return ConflictError("This is the swarm's last manager: promote another node before demoting it.", words)
    if "timeout was reached before node joined" in low or "could not connect" in low and "join" in action:
        return NodeUnreachableError(
            f"The manager could not be reached to join the swarm: {_desc(words)}", words)
    if "name conflicts with an existing object" in low or "already exists" in low:
        return ConflictError(f"The name of {what} is already used; choose another name.", words)
    if "must be a valid ip address" in low or "advertise address" in low:
        return InvalidInputError(f"The advertise address was refused: {_desc(words)}", words)
    if isinstance(base, NotFoundError):
        return base
    if type(base) in (EngineError, ConflictError):
        return type(base)(f"The swarm could not {action or 'do that to'} {what}: {_desc(words)}", words)
    return base


_NO_IMAGE_RE = re.compile(r"no such image: ([^\s\"']+)", re.IGNORECASE)


def task_problem(task: SwarmTask, node_name: str = "") -> str:
    """Why a task is not running, as a sentence (empty when there is nothing to explain)."""
    err = task.error or ""
    low = err.lower()
    where = f"on node {node_name}" if node_name else "on its node"
    m = _NO_IMAGE_RE.search(err)
    if m or "image" in low and ("not found" in low or "pull access denied" in low):
        image = m.group(1) if m else task.image
        return (f"The image {image} is not {where} and could not be pulled there: push it to a "
                "registry every node can reach, or load it on that node.")
    if "no suitable node" in low:
        detail = err[err.find("(") + 1:err.rfind(")")] if "(" in err else err
        return f"No node can run this task ({detail}): check the service's constraints and resources."
    if "port" in low and ("already in use" in low or "already allocated" in low or "address already in use" in low):
        return f"A port the task publishes is already in use {where}."
    if task.state == "orphaned" or "heartbeat failure" in low or "node is down" in low:
        return "Its node stopped answering; the swarm runs the task elsewhere."
    if task.state in ("failed", "rejected") and err:
        return f"The task failed: {err}"
    if task.state == "pending" and task.message and task.message != "pending task scheduling":
        return task.message
    return ""


class SwarmClient:
    """Swarm calls through an EngineClient's executor; results are frozen records."""

    def __init__(self, client: "EngineClient") -> None:
        self.client = client

    @property
    def tag(self) -> str:
        return self.client.tag

    async def _call(self, action: str, target: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await self.client.run(fn, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence
            raise translate_swarm(exc, action, target) from exc

    # -- this engine in the swarm ------------------------------------------------------------
    async def info(self) -> SwarmInfo:
        raw = await self._call("read", "the engine's swarm state", self.client.api.info)
        return SwarmInfo.from_info(raw, self.tag)

    async def init(self, advertise_addr: str, listen_addr: str | None = None) -> str:
        """Make this engine the first manager of a new swarm; returns its node id."""
        api = self.client.api
        return await self._call("initialise", "a swarm", api.init_swarm, advertise_addr=advertise_addr,
                                listen_addr=listen_addr or "0.0.0.0:2377")

    async def join_tokens(self) -> JoinTokens:
        api = self.client.api

        def read() -> JoinTokens:
            sw = api.inspect_swarm()
            info = api.info()
            addr = next((p["Addr"] for p in (info.get("Swarm") or {}).get("RemoteManagers") or []
                         if p.get("NodeID") == info["Swarm"].get("NodeID")), "")
            if not addr:
                addr = f"{info['Swarm'].get('NodeAddr', '')}:2377"
            return JoinTokens(sw["JoinTokens"]["Worker"], sw["JoinTokens"]["Manager"], addr)

        return await self._call("read", "the join tokens", read)

    # -- lists -------------------------------------------------------------------------------
    async def nodes(self) -> list[SwarmNode]:
        api, tag = self.client.api, self.tag
        # Records are made in the worker thread too: 1,000 tasks parsed on the UI thread cost ~30 ms.
        return await self._call("list", "the swarm's nodes", lambda: [SwarmNode.from_api(r, tag) for r in api.nodes()])

    async def node(self, node_id: str) -> SwarmNode:
        raw = await self._call("inspect", f"node {node_id[:12]}", self.client.api.inspect_node, node_id)
        return SwarmNode.from_api(raw, self.tag)

    async def services(self) -> list[SwarmService]:
        api, tag = self.client.api, self.tag
        return await self._call("list", "the swarm's services",
                                lambda: [SwarmService.from_api(r, tag) for r in api.services()])

    async def services_with_counts(self) -> tuple[list[SwarmService], dict[str, int]]:
        """The services and, from the same call, how many tasks each runs (API 1.41's service status)."""
        api, tag = self.client.api, self.tag

        def read() -> tuple[list[SwarmService], dict[str, int]]:
            from docker.utils import version_lt

            if version_lt(api._version, "1.41"):
                return [SwarmService.from_api(r, tag) for r in api.services()], {}
            raw = api._result(api._get(api._url("/services"), params={"status": "true"}), json=True)
            counts = {r["ID"]: int((r.get("ServiceStatus") or {}).get("RunningTasks") or 0)
                      for r in raw if "ServiceStatus" in r}
            return [SwarmService.from_api(r, tag) for r in raw], counts

        return await self._call("list", "the swarm's services", read)

    async def service(self, service_id: str) -> SwarmService:
        raw = await self._call("inspect", f"service {service_id[:12]}", self.client.api.inspect_service, service_id)
        return SwarmService.from_api(raw, self.tag)

    async def inspect_service(self, service_id: str) -> dict:
        """The engine's JSON for the Inspect view."""
        return await self._call("inspect", f"service {service_id[:12]}", self.client.api.inspect_service, service_id)

    async def tasks(self, *, service: str | Iterable[str] | None = None, node: str | None = None,
                    desired_state: str | None = None, known: Mapping[str, SwarmTask] | None = None) -> list[SwarmTask]:
        """Tasks as records. `known` (id → record from an earlier list) lets an unchanged task (same
        object version) keep its record: a refresh of 1,000 tasks then parses only those that changed."""
        filters: dict[str, Any] = {}
        if service:
            filters["service"] = [service] if isinstance(service, str) else list(service)
        if node:
            filters["node"] = node
        if desired_state:
            filters["desired-state"] = desired_state
        api, tag = self.client.api, self.tag
        known = known or {}

        def records() -> list[SwarmTask]:
            out = []
            for r in api.tasks(filters=filters or None):
                old = known.get(r.get("ID", ""))
                if old is not None and old.version == int((r.get("Version") or {}).get("Index") or 0):
                    out.append(old)
                else:
                    out.append(SwarmTask.from_api(r, tag))
            return out

        return await self._call("list", "the swarm's tasks", records)

    async def running_counts(self, service_ids: list[str]) -> dict[str, int]:
        """Running tasks per service as the engine counts them (one call, no task sent over)."""
        api = self.client.api

        def count() -> dict[str, int]:
            from docker.utils import version_lt

            if version_lt(api._version, "1.41"):  # no service status before API 1.41: count tasks
                found: dict[str, int] = {}
                for t in api.tasks(filters={"service": service_ids, "desired-state": "running"}):
                    if (t.get("Status") or {}).get("State") == "running":
                        found[t["ServiceID"]] = found.get(t["ServiceID"], 0) + 1
                return found
            res = api._get(api._url("/services"), params={"status": "true",
                                                           "filters": json.dumps({"id": service_ids})})
            return {s["ID"]: int((s.get("ServiceStatus") or {}).get("RunningTasks") or 0)
                    for s in api._result(res, json=True) if s.get("ID") in service_ids}

        return await self._call("count", "the services' tasks", count)

    async def secrets(self) -> list[SwarmSecret]:
        raw = await self._call("list", "the swarm's secrets", self.client.api.secrets)
        return [SwarmSecret.from_api(r, "secret", self.tag) for r in raw]

    async def configs(self) -> list[SwarmSecret]:
        raw = await self._call("list", "the swarm's configs", self.client.api.configs)
        return [SwarmSecret.from_api(r, "config", self.tag) for r in raw]

    async def secret(self, secret_id: str) -> SwarmSecret:
        raw = await self._call("inspect", "the secret", self.client.api.inspect_secret, secret_id)
        return SwarmSecret.from_api(raw, "secret", self.tag)

    async def config(self, config_id: str) -> SwarmSecret:
        raw = await self._call("inspect", "the config", self.client.api.inspect_config, config_id)
        return SwarmSecret.from_api(raw, "config", self.tag)

    # -- nodes -------------------------------------------------------------------------------
    async def _update_node(self, node: SwarmNode, action: str, change: Callable[[dict], None]) -> None:
        api = self.client.api

        def update() -> None:
            raw = api.inspect_node(node.id)
            spec = dict(raw["Spec"])
            change(spec)
            api.update_node(node.id, raw["Version"]["Index"], spec)

        await self._call(action, f"node {node.hostname}", update)

    async def set_availability(self, node: SwarmNode, availability: str) -> None:
        if availability not in ("active", "pause", "drain"):
            raise InvalidInputError(f"Unknown availability {availability!r}.")
        verb = {"active": "activate", "pause": "pause", "drain": "drain"}[availability]
        await self._update_node(node, verb, lambda s: s.__setitem__("Availability", availability))

    async def set_role(self, node: SwarmNode, role: str) -> None:
        if role not in ("manager", "worker"):
            raise InvalidInputError(f"Unknown role {role!r}.")
        await self._update_node(node, "promote" if role == "manager" else "demote",
                                lambda s: s.__setitem__("Role", role))

    async def remove_node(self, node: SwarmNode, force: bool = False) -> None:
        await self._call("remove", f"node {node.hostname}", self.client.api.remove_node, node.id, force=force)

    # -- services ----------------------------------------------------------------------------
    async def create_service(self, req: ServiceRequest) -> str:
        api = self.client.api
        spec = service_spec(req)

        def create() -> str:
            res = api._post_json(api._url("/services/create"), data=spec)
            return api._result(res, json=True)["ID"]

        return await self._call("create", f"service {req.name}", create)

    async def _update_service(self, service: SwarmService, action: str, change: Callable[[dict], None] | None,
                              build: Callable[[dict], dict | None] | None = None) -> list[str]:
        """Read the current spec, change it, send it with its version; returns the engine's warnings.

        `build(raw)` makes the whole spec from the service's inspect instead; when it gives None,
        the swarm's own rollback (back to PreviousSpec) is asked for."""
        api = self.client.api

        def once() -> list[str]:
            raw = api.inspect_service(service.id)
            params: dict[str, Any] = {"version": raw["Version"]["Index"]}
            if build is not None:
                spec = build(raw)
            else:
                spec = raw["Spec"]
                if change is not None:
                    change(spec)
            if spec is None:
                spec = raw["Spec"]
                params["rollback"] = "previous"
            res = api._post_json(api._url("/services/{0}/update", service.id), data=spec, params=params)
            return list((api._result(res, json=True) or {}).get("Warnings") or [])

        def update() -> list[str]:
            # The swarm writes the service too (an update's status): a change read just before one of
            # its writes is refused as out of sequence, and is made again from the newer version.
            for attempt in range(3):
                try:
                    return once()
                except docker.errors.APIError as exc:
                    if attempt == 2 or "update out of sequence" not in str(exc):
                        raise
            return []

        return await self._call(action, f"service {service.name}", update)

    async def scale(self, service: SwarmService, replicas: int) -> None:
        if service.mode != "replicated":
            raise InvalidInputError(f"Service {service.name} runs one task per node ({service.mode}); it cannot be scaled.")
        if replicas < 0:
            raise InvalidInputError("Replicas cannot be negative.")
        await self._update_service(service, "scale", lambda s: s["Mode"].__setitem__("Replicated", {"Replicas": replicas}))

    async def update_image(self, service: SwarmService, image: str, *, parallelism: int | None = None,
                           delay_s: float | None = None, failure_action: str | None = None,
                           monitor_s: float | None = None) -> list[str]:
        """Start a rolling update to `image` (the swarm replaces tasks `parallelism` at a time)."""

        def change(spec: dict) -> None:
            # A new update starts from its own spec: a hold and a saved earlier version belong to the last one.
            restore_delay(spec)
            spec["Labels"] = without_our_labels(spec).get("Labels") or {}
            spec["TaskTemplate"]["ContainerSpec"]["Image"] = image
            spec["TaskTemplate"]["ForceUpdate"] = int(spec["TaskTemplate"].get("ForceUpdate") or 0)
            uc = dict(spec.get("UpdateConfig") or {})
            if parallelism is not None:
                uc["Parallelism"] = parallelism
            if delay_s is not None:
                uc["Delay"] = int(delay_s * 1e9)
            if failure_action is not None:
                uc["FailureAction"] = failure_action
            if monitor_s is not None:
                uc["Monitor"] = int(monitor_s * 1e9)
                # A rollback of this update watches each task as long as the update did.
                rc = dict(spec.get("RollbackConfig") or {})
                rc["Monitor"] = uc["Monitor"]
                spec["RollbackConfig"] = rc
            uc.setdefault("Order", "stop-first")
            spec["UpdateConfig"] = uc

        return await self._update_service(service, "update", change)

    async def rollback(self, service: SwarmService) -> list[str]:
        """Go back to the spec from before the update (also stops an update under way): the swarm's
        own rollback, or the spec saved in a label when a hold or a resume replaced the swarm's."""
        if not service.can_roll_back:
            raise InvalidInputError(f"Service {service.name} has no earlier version to roll back to.")
        return await self._update_service(service, "roll back", None, build=rollback_spec)

    async def hold_update(self, service: SwarmService) -> list[str]:
        """Hold a rolling update (desktop/engine/swarm_hold.py says how, and what it costs)."""

        def build(raw: dict) -> dict:
            state = (raw.get("UpdateStatus") or {}).get("State") or ""
            uc = (raw.get("Spec") or {}).get("UpdateConfig") or {}
            if state != "updating":
                raise InvalidInputError(f"Service {service.name} is not updating now: there is nothing to hold.")
            if int(uc.get("Parallelism") if uc.get("Parallelism") is not None else 1) == 0:
                raise InvalidInputError(f"Service {service.name} replaces every task at once: there is no "
                                        "later batch to hold.")
            return held_spec(raw)

        return await self._update_service(service, "hold the update of", None, build=build)

    async def resume_update(self, service: SwarmService) -> list[str]:
        """Let a held or paused update go on with the tasks still on the old version."""
        return await self._update_service(service, "resume the update of", None, build=resumed_spec)

    async def remove_service(self, service: SwarmService) -> None:
        await self._call("remove", f"service {service.name}", self.client.api.remove_service, service.id)

    def service_logs(self, service_id: str, *, tail: int = 500, follow: bool = False) -> ServiceLogStream:
        return ServiceLogStream(self.client, service_id, tail=tail, follow=follow)

    # -- secrets and configs -----------------------------------------------------------------
    async def create_secret(self, name: str, data: bytes, kind: str = "secret",
                            labels: dict | None = None) -> str:
        """Create a secret or config; `data` is sent once and kept nowhere."""
        api = self.client.api
        fn = api.create_secret if kind == "secret" else api.create_config
        res = await self._call("create", f"{kind} {name}", fn, name, data, labels=labels or None)
        return res["ID"]

    async def remove_secret(self, item: SwarmSecret) -> None:
        api = self.client.api
        fn = api.remove_secret if item.kind == "secret" else api.remove_config
        await self._call("remove", f"{item.kind} {item.name}", fn, item.id)
