"""Typed, frozen records: raw SDK dicts stop at the engine layer."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

T = TypeVar("T")

COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
COMPOSE_NUMBER = "com.docker.compose.container-number"  # the replica's number within its service
# What the app's own debug helpers (and their stand-ins) carry: helper | stand-in | snapshot | probe
DEBUG_ROLE_LABEL = "io.pilothouse.debug"

_EXIT_RE = re.compile(r"Exited \((-?\d+)\)")


def _frozen(d: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(d or {}))


_NO_LABELS: Mapping[str, str] = MappingProxyType({})
_intern = sys.intern


# Equal label sets, one mapping: the containers of one image with no labels of their own all
# carry the image's labels. Bounded (a Compose container's set is its own: it names its replica);
# cleared when full, which only ends the sharing for the records made after.
_LABEL_SETS: dict[tuple, Mapping[str, str]] = {}
_LABEL_SETS_MAX = 4096


def _shared_labels(d: Mapping[str, str] | None) -> Mapping[str, str]:
    """Labels of a listed container, keys and short values interned: 20,000 containers repeat the
    same few keys and project names (~1/3 of a record's memory), and equal sets share a mapping."""
    if not d:
        return _NO_LABELS
    flat = tuple(x for k, v in d.items() for x in (_intern(k), _intern(v) if len(v) < 80 else v))
    m = _LABEL_SETS.get(flat)
    if m is None:
        if len(_LABEL_SETS) >= _LABEL_SETS_MAX:
            _LABEL_SETS.clear()
        m = _LABEL_SETS[flat] = MappingProxyType(dict(zip(flat[::2], flat[1::2])))
    return m


@dataclass(frozen=True)
class PortBinding:
    private_port: int
    protocol: str = "tcp"
    public_port: int | None = None
    host_ip: str | None = None

    @property
    def is_published(self) -> bool:
        return self.public_port is not None


@dataclass(frozen=True, slots=True)  # slots: ~100 bytes less each, 20,000 of them at scale
class Container:
    """A container as listed (no inspect)."""

    id: str
    name: str
    image: str
    image_id: str
    command: str
    created: float
    state: str  # created, running, paused, restarting, removing, exited, dead
    status: str  # the engine's human text: "Up 5 minutes (healthy)"
    ports: tuple[PortBinding, ...] = ()
    labels: Mapping[str, str] = field(default_factory=lambda: _frozen(None), compare=False, hash=False)
    engine_id: str = ""

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def exit_code(self) -> int | None:
        m = _EXIT_RE.search(self.status)
        return int(m.group(1)) if m else None

    @property
    def health(self) -> str | None:
        for word in ("unhealthy", "healthy", "health: starting"):
            if f"({word})" in self.status:
                return word.replace("health: ", "")
        return None

    @property
    def compose_project(self) -> str | None:
        return self.labels.get(COMPOSE_PROJECT)

    @property
    def compose_service(self) -> str | None:
        return self.labels.get(COMPOSE_SERVICE)

    @property
    def compose_number(self) -> int | None:
        """Which replica of its service this is (Compose numbers them from 1)."""
        try:
            return int(self.labels.get(COMPOSE_NUMBER, ""))
        except ValueError:
            return None

    @property
    def published_ports(self) -> tuple[PortBinding, ...]:
        seen, out = set(), []
        for p in self.ports:
            if p.public_port is not None and (p.public_port, p.private_port, p.protocol) not in seen:
                seen.add((p.public_port, p.private_port, p.protocol))
                out.append(p)
        return tuple(sorted(out, key=lambda p: (p.public_port, p.private_port)))

    @classmethod
    def from_api(cls, raw: Mapping[str, Any], engine_id: str = "") -> "Container":
        names = raw.get("Names") or []
        name = names[0].lstrip("/") if names else raw["Id"][:12]
        ports = tuple(
            PortBinding(
                private_port=int(p.get("PrivatePort", 0)),
                protocol=p.get("Type", "tcp"),
                public_port=int(p["PublicPort"]) if p.get("PublicPort") else None,
                host_ip=p.get("IP"),
            )
            for p in raw.get("Ports") or []
        )
        return cls(
            id=raw["Id"],
            name=name,
            # Shared by many containers: one copy of each text, not one per container.
            image=_intern(raw.get("Image", "")),
            image_id=_intern(raw.get("ImageID", "")),
            command=_intern(raw.get("Command", "")),
            created=float(raw.get("Created", 0)),
            state=_intern(raw.get("State", "")),
            status=_intern(raw.get("Status", "")),
            ports=ports,
            labels=_shared_labels(raw.get("Labels")),
            engine_id=_intern(engine_id),
        )


def parse_container_list(body: bytes | str, make: Callable[[dict], T], kind: type[T]) -> list[T]:
    """/containers/json's reply as `make(object)` (a `kind`) of each container, each made as soon
    as its object is parsed.

    Parsing the whole reply into dicts first held ~50 MB more at 20,000 containers, and what it
    freed stayed in the process: the records made meanwhile sit in the allocator's arenas among
    the freed dicts, which can then never be returned. Made one by one, each container's dicts
    are freed before the next is parsed and the next reuses their memory (RSS +8 MB, not +56).
    """
    def container(d: dict) -> Any:
        # Only a container object has these, with a list of names (a label's value is a string,
        # ports and networks have none of them); anything else is kept for the object around it.
        if "Id" in d and "State" in d and isinstance(d.get("Names"), list):
            return make(d)
        return d

    rows = json.loads(body, object_hook=container)
    if not isinstance(rows, list):
        raise ValueError(f"the engine's container list is a {type(rows).__name__}, not a list")
    return [r if isinstance(r, kind) else make(r) for r in rows]  # (an old engine's, without State)


def containers_from_json(body: bytes | str, engine_id: str = "") -> list[Container]:
    return parse_container_list(body, lambda d: Container.from_api(d, engine_id), Container)


@dataclass(frozen=True)
class ContainerDetails:
    """The parts of `inspect` the app shows, plus the whole document for the Inspect tab."""

    id: str
    name: str
    state: str
    running: bool
    paused: bool
    exit_code: int
    oom_killed: bool
    started_at: str
    finished_at: str
    restart_count: int
    image: str
    raw: Mapping[str, Any] = field(compare=False, hash=False, repr=False, default_factory=dict)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> "ContainerDetails":
        st = raw.get("State") or {}
        return cls(
            id=raw["Id"],
            name=(raw.get("Name") or "").lstrip("/"),
            state=st.get("Status", ""),
            running=bool(st.get("Running")),
            paused=bool(st.get("Paused")),
            exit_code=int(st.get("ExitCode") or 0),
            oom_killed=bool(st.get("OOMKilled")),
            started_at=st.get("StartedAt", ""),
            finished_at=st.get("FinishedAt", ""),
            restart_count=int(raw.get("RestartCount") or 0),
            image=(raw.get("Config") or {}).get("Image", ""),
            raw=MappingProxyType(dict(raw)),
        )


@dataclass(frozen=True)
class EngineInfo:
    """Who answered: identity and capacity of the engine."""

    id: str
    name: str
    version: str
    api_version: str
    os: str
    os_type: str
    kernel: str
    arch: str
    ncpu: int
    mem_total: int
    storage_driver: str
    endpoint: str

    @classmethod
    def from_api(cls, info: Mapping[str, Any], version: Mapping[str, Any], endpoint: str) -> "EngineInfo":
        return cls(
            id=info.get("ID", "") or endpoint,
            name=info.get("Name", ""),
            version=version.get("Version", ""),
            api_version=version.get("ApiVersion", ""),
            os=info.get("OperatingSystem", ""),
            os_type=info.get("OSType", ""),
            kernel=info.get("KernelVersion", ""),
            arch=info.get("Architecture", ""),
            ncpu=int(info.get("NCPU") or 0),
            mem_total=int(info.get("MemTotal") or 0),
            storage_driver=info.get("Driver", ""),
            endpoint=endpoint,
        )


@dataclass(frozen=True)
class EngineEvent:
    """One `docker events` message."""

    type: str  # container, image, volume, network, ...
    action: str  # start, die, destroy, health_status: healthy, ...
    id: str
    attributes: Mapping[str, str] = field(compare=False, hash=False, default_factory=lambda: _frozen(None))
    time_nano: int = 0
    engine_id: str = ""
    scope: str = "local"  # local or swarm, as the engine says (the history prints it back)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any], engine_id: str = "") -> "EngineEvent":
        actor = raw.get("Actor") or {}
        return cls(
            type=raw.get("Type", ""),
            action=raw.get("Action", raw.get("status", "")),
            id=actor.get("ID", raw.get("id", "")),
            attributes=_frozen(actor.get("Attributes")),
            time_nano=int(raw.get("timeNano") or int(raw.get("time", 0)) * 1_000_000_000),
            engine_id=engine_id,
            scope=raw.get("scope") or "local",
        )


@dataclass(frozen=True)
class EngineConnected:
    """The engine answered (first time or after a loss): consumers do a full resync."""

    info: EngineInfo


@dataclass(frozen=True)
class EngineLost:
    """The engine stopped answering; the stream is retrying."""

    reason: str
    tried: tuple[str, ...] = ()
