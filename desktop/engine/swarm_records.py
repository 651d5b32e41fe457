"""Typed, frozen records of a swarm: the engine's own state in it, nodes, services, tasks,
secrets and configs. Raw API dicts stop here; every record carries its engine's tag."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

STACK_LABEL = "com.docker.stack.namespace"


def _frozen(d: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(d or {}))


def short_image(ref: str) -> str:
    """An image reference without the digest the manager pins (`busybox:1@sha256:…` → `busybox:1`)."""
    return ref.split("@", 1)[0] if ref else ""


@dataclass(frozen=True)
class SwarmInfo:
    """This engine's place in a swarm, from `docker info`."""

    engine_id: str
    state: str  # inactive, pending, active, error, locked
    node_id: str = ""
    node_addr: str = ""
    is_manager: bool = False  # ControlAvailable: this engine can manage the swarm
    cluster_id: str = ""
    managers: int = 0
    nodes: int = 0
    error: str = ""
    manager_addrs: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.state == "active"

    @property
    def is_worker(self) -> bool:
        return self.active and not self.is_manager

    @classmethod
    def from_info(cls, info: Mapping[str, Any], engine_id: str = "") -> "SwarmInfo":
        sw = info.get("Swarm") or {}
        cluster = sw.get("Cluster") or {}
        return cls(
            engine_id=engine_id,
            state=sw.get("LocalNodeState") or "inactive",
            node_id=sw.get("NodeID") or "",
            node_addr=sw.get("NodeAddr") or "",
            is_manager=bool(sw.get("ControlAvailable")),
            cluster_id=cluster.get("ID") or "",
            managers=int(sw.get("Managers") or 0),
            nodes=int(sw.get("Nodes") or 0),
            error=sw.get("Error") or "",
            manager_addrs=tuple(p.get("Addr", "") for p in (sw.get("RemoteManagers") or [])),
        )


@dataclass(frozen=True)
class JoinTokens:
    worker: str
    manager: str
    manager_addr: str  # where joiners dial: the manager's advertise address and port

    def join_command(self, role: str) -> str:
        """The exact line a user runs on the joining machine."""
        token = self.manager if role == "manager" else self.worker
        return f"docker swarm join --token {token} {self.manager_addr}"


@dataclass(frozen=True)
class SwarmNode:
    id: str
    engine_id: str
    hostname: str
    role: str  # manager, worker
    availability: str  # active, pause, drain
    state: str  # ready, down, unknown, disconnected
    message: str = ""
    engine_version: str = ""
    addr: str = ""
    labels: Mapping[str, str] = field(default_factory=lambda: _frozen(None), compare=False, hash=False)
    leader: bool = False
    reachability: str = ""  # managers only: reachable, unreachable
    version: int = 0
    os: str = ""
    arch: str = ""

    @property
    def labels_text(self) -> str:
        return ", ".join(f"{k}={v}" if v else k for k, v in sorted(self.labels.items()))

    @classmethod
    def from_api(cls, raw: Mapping[str, Any], engine_id: str = "") -> "SwarmNode":
        spec = raw.get("Spec") or {}
        desc = raw.get("Description") or {}
        status = raw.get("Status") or {}
        mgr = raw.get("ManagerStatus") or {}
        platform = desc.get("Platform") or {}
        addr = status.get("Addr") or ""
        if mgr.get("Addr") and addr in ("", "0.0.0.0"):
            addr = mgr["Addr"].rsplit(":", 1)[0]
        return cls(
            id=raw.get("ID", ""),
            engine_id=engine_id,
            hostname=desc.get("Hostname") or "",
            role=spec.get("Role") or "",
            availability=spec.get("Availability") or "",
            state=status.get("State") or "",
            message=status.get("Message") or "",
            engine_version=(desc.get("Engine") or {}).get("EngineVersion") or "",
            addr=addr,
            labels=_frozen(spec.get("Labels")),
            leader=bool(mgr.get("Leader")),
            reachability=mgr.get("Reachability") or "",
            version=int((raw.get("Version") or {}).get("Index") or 0),
            os=platform.get("OS") or "",
            arch=platform.get("Architecture") or "",
        )


@dataclass(frozen=True)
class PublishedPort:
    published: int
    target: int
    protocol: str = "tcp"
    mode: str = "ingress"

    def __str__(self) -> str:
        suffix = "" if self.protocol == "tcp" else f"/{self.protocol}"
        host = " (host)" if self.mode == "host" else ""
        return f"{self.published}→{self.target}{suffix}{host}"


@dataclass(frozen=True)
class SwarmService:
    id: str
    engine_id: str
    name: str
    mode: str  # replicated, global, replicated-job, global-job
    replicas: int | None  # desired replicas (replicated); None for global
    image: str
    ports: tuple[PublishedPort, ...] = ()
    update_state: str = ""  # updating, paused, completed, rollback_started, rollback_paused, rollback_completed
    update_message: str = ""
    labels: Mapping[str, str] = field(default_factory=lambda: _frozen(None), compare=False, hash=False)
    version: int = 0
    created: str = ""
    updated: str = ""
    can_roll_back: bool = False
    command: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    configs: tuple[str, ...] = ()
    update_parallelism: int = 1
    update_failure_action: str = "pause"

    @property
    def stack(self) -> str:
        return self.labels.get(STACK_LABEL, "")

    @classmethod
    def from_api(cls, raw: Mapping[str, Any], engine_id: str = "") -> "SwarmService":
        spec = raw.get("Spec") or {}
        mode_spec = spec.get("Mode") or {}
        if "Replicated" in mode_spec:
            mode, replicas = "replicated", int((mode_spec["Replicated"] or {}).get("Replicas") or 0)
        elif "ReplicatedJob" in mode_spec:
            mode, replicas = "replicated-job", int((mode_spec["ReplicatedJob"] or {}).get("TotalCompletions") or 0)
        elif "GlobalJob" in mode_spec:
            mode, replicas = "global-job", None
        else:
            mode, replicas = "global", None
        tt = spec.get("TaskTemplate") or {}
        cs = tt.get("ContainerSpec") or {}
        endpoint = raw.get("Endpoint") or {}
        ports_raw = endpoint.get("Ports") or (spec.get("EndpointSpec") or {}).get("Ports") or []
        ports = tuple(PublishedPort(int(p.get("PublishedPort") or 0), int(p.get("TargetPort") or 0),
                                    p.get("Protocol") or "tcp", p.get("PublishMode") or "ingress")
                      for p in ports_raw)
        us = raw.get("UpdateStatus") or {}
        uc = spec.get("UpdateConfig") or {}
        return cls(
            id=raw.get("ID", ""),
            engine_id=engine_id,
            name=spec.get("Name") or "",
            mode=mode,
            replicas=replicas,
            image=short_image(cs.get("Image") or ""),
            ports=ports,
            update_state=us.get("State") or "",
            update_message=us.get("Message") or "",
            labels=_frozen(spec.get("Labels")),
            version=int((raw.get("Version") or {}).get("Index") or 0),
            created=raw.get("CreatedAt") or "",
            updated=raw.get("UpdatedAt") or "",
            can_roll_back=bool(raw.get("PreviousSpec")),
            command=tuple(cs.get("Command") or ()) + tuple(cs.get("Args") or ()),
            env=tuple(cs.get("Env") or ()),
            constraints=tuple((tt.get("Placement") or {}).get("Constraints") or ()),
            secrets=tuple(s.get("SecretName", "") for s in (cs.get("Secrets") or [])),
            configs=tuple(c.get("ConfigName", "") for c in (cs.get("Configs") or [])),
            update_parallelism=int(uc.get("Parallelism") if uc.get("Parallelism") is not None else 1),
            update_failure_action=uc.get("FailureAction") or "pause",
        )


@dataclass(frozen=True)
class SwarmTask:
    id: str
    engine_id: str
    service_id: str
    node_id: str
    slot: int | None
    state: str  # new, pending, assigned, accepted, preparing, starting, running, complete, failed, shutdown, rejected, orphaned, remove
    desired_state: str
    message: str = ""
    error: str = ""
    image: str = ""
    container_id: str = ""
    created: str = ""
    updated: str = ""
    timestamp: str = ""
    exit_code: int | None = None
    version: int = 0

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def current(self) -> bool:
        """Part of the service now (not history: shut down, failed or replaced)."""
        return self.desired_state in ("running", "ready", "accepted", "complete") and self.state not in (
            "shutdown", "failed", "rejected", "orphaned", "remove")

    @classmethod
    def from_api(cls, raw: Mapping[str, Any], engine_id: str = "") -> "SwarmTask":
        status = raw.get("Status") or {}
        cstatus = status.get("ContainerStatus") or {}
        cs = (raw.get("Spec") or {}).get("ContainerSpec") or {}
        slot = raw.get("Slot")
        code = cstatus.get("ExitCode")
        return cls(
            id=raw.get("ID", ""),
            engine_id=engine_id,
            service_id=raw.get("ServiceID") or "",
            node_id=raw.get("NodeID") or "",
            slot=int(slot) if slot else None,
            state=status.get("State") or "",
            desired_state=raw.get("DesiredState") or "",
            message=status.get("Message") or "",
            error=status.get("Err") or "",
            image=short_image(cs.get("Image") or ""),
            container_id=cstatus.get("ContainerID") or "",
            created=raw.get("CreatedAt") or "",
            updated=raw.get("UpdatedAt") or "",
            timestamp=status.get("Timestamp") or "",
            exit_code=int(code) if code is not None and status.get("State") in ("complete", "failed") else None,
            version=int((raw.get("Version") or {}).get("Index") or 0),
        )


@dataclass(frozen=True)
class SwarmSecret:
    """A secret or a config: never its value (the engine does not give a secret's back; a config's
    data stays out of records so no view or log can show it by accident)."""

    id: str
    engine_id: str
    name: str
    kind: str  # secret, config
    created: str = ""
    updated: str = ""
    labels: Mapping[str, str] = field(default_factory=lambda: _frozen(None), compare=False, hash=False)
    version: int = 0
    driver: str = ""

    @property
    def stack(self) -> str:
        return self.labels.get(STACK_LABEL, "")

    @classmethod
    def from_api(cls, raw: Mapping[str, Any], kind: str, engine_id: str = "") -> "SwarmSecret":
        spec = raw.get("Spec") or {}
        return cls(
            id=raw.get("ID", ""),
            engine_id=engine_id,
            name=spec.get("Name") or "",
            kind=kind,
            created=raw.get("CreatedAt") or "",
            updated=raw.get("UpdatedAt") or "",
            labels=_frozen(spec.get("Labels")),
            version=int((raw.get("Version") or {}).get("Index") or 0),
            driver=((spec.get("Driver") or {}).get("Name") or ""),
        )


@dataclass(frozen=True)
class ServiceLogLine:
    """One line of `docker service logs`, with the task and node it came from."""

    text: str
    stream: str  # stdout, stderr
    timestamp: str = ""
    task_id: str = ""
    node_id: str = ""
    service_id: str = ""
