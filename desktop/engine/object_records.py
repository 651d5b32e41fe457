"""Typed, frozen records for the engine's objects beyond containers: images, volumes, networks,
plugins, disk usage, and what each container refers to (for "used by")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

NONE_TAG = "<none>:<none>"


def _frozen(d: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(d or {}))


@dataclass(frozen=True)
class Image:
    """An image as `images/json` lists it."""

    id: str
    tags: tuple[str, ...]
    digests: tuple[str, ...]
    size: int
    created: float
    labels: Mapping[str, str] = field(default_factory=lambda: _frozen(None), compare=False, hash=False)
    engine_id: str = ""

    @property
    def short_id(self) -> str:
        return self.id.split(":", 1)[-1][:12]

    @property
    def dangling(self) -> bool:
        return not self.tags

    @property
    def display_name(self) -> str:
        return ", ".join(self.tags) if self.tags else "<none>"

    @classmethod
    def from_api(cls, raw: Mapping[str, Any], engine_id: str = "") -> "Image":
        tags = tuple(t for t in (raw.get("RepoTags") or []) if t != NONE_TAG)
        digests = tuple(d for d in (raw.get("RepoDigests") or []) if not d.startswith("<none>"))
        return cls(
            id=raw["Id"], tags=tags, digests=digests, size=int(raw.get("Size") or 0),
            created=float(raw.get("Created") or 0), labels=_frozen(raw.get("Labels")), engine_id=engine_id,
        )


def parse_rfc3339(text: str) -> float:
    """Engine timestamps ("2026-11-28T03:52:17.159266007Z") as epoch seconds; 0 when unreadable."""
    from datetime import datetime

    if not text:
        return 0.0
    head, _, frac = text.rstrip("Z").partition(".")
    tz = ""
    for sign in ("+", "-"):
        if sign in frac:
            frac, tz = frac.split(sign, 1)[0], sign + frac.split(sign, 1)[1]
    if not tz and len(head) > 19:
        head, tz = head[:19], head[19:]
    try:
        dt = datetime.fromisoformat(f"{head}.{(frac or '0')[:6]:0<6}{tz or '+00:00'}")
    except ValueError:
        return 0.0
    return dt.timestamp()


def image_from_inspect(raw: Mapping[str, Any], engine_id: str = "") -> Image:
    """An Image record from `inspect` (same fields as the list API gives)."""
    return Image(
        id=raw["Id"], tags=tuple(t for t in (raw.get("RepoTags") or []) if t != NONE_TAG),
        digests=tuple(raw.get("RepoDigests") or ()), size=int(raw.get("Size") or 0),
        created=parse_rfc3339(raw.get("Created", "")), labels=_frozen((raw.get("Config") or {}).get("Labels")),
        engine_id=engine_id,
    )


@dataclass(frozen=True)
class ImageLayer:
    """One row of `docker history`."""

    id: str
    created_by: str
    size: int
    created: float
    tags: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> "ImageLayer":
        return cls(id=raw.get("Id", ""), created_by=raw.get("CreatedBy", ""), size=int(raw.get("Size") or 0),
                   created=float(raw.get("Created") or 0), tags=tuple(raw.get("Tags") or ()))


@dataclass(frozen=True)
class Volume:
    name: str
    driver: str
    mountpoint: str
    created: str = ""
    scope: str = "local"
    labels: Mapping[str, str] = field(default_factory=lambda: _frozen(None), compare=False, hash=False)
    size: int | None = None  # from disk usage; None until known
    engine_id: str = ""

    @property
    def id(self) -> str:
        return self.name

    @classmethod
    def from_api(cls, raw: Mapping[str, Any], engine_id: str = "") -> "Volume":
        usage = raw.get("UsageData") or {}
        size = usage.get("Size")
        return cls(
            name=raw["Name"], driver=raw.get("Driver", ""), mountpoint=raw.get("Mountpoint", ""),
            created=raw.get("CreatedAt", ""), scope=raw.get("Scope", "local"), labels=_frozen(raw.get("Labels")),
            size=int(size) if size is not None and size >= 0 else None, engine_id=engine_id,
        )


@dataclass(frozen=True)
class Network:
    id: str
    name: str
    driver: str
    scope: str
    subnets: tuple[str, ...] = ()
    gateways: tuple[str, ...] = ()
    internal: bool = False
    labels: Mapping[str, str] = field(default_factory=lambda: _frozen(None), compare=False, hash=False)
    engine_id: str = ""

    @property
    def builtin(self) -> bool:
        return self.name in ("bridge", "host", "none")

    @classmethod
    def from_api(cls, raw: Mapping[str, Any], engine_id: str = "") -> "Network":
        cfg = ((raw.get("IPAM") or {}).get("Config")) or []
        return cls(
            id=raw["Id"], name=raw.get("Name", ""), driver=raw.get("Driver", ""), scope=raw.get("Scope", ""),
            subnets=tuple(c["Subnet"] for c in cfg if c.get("Subnet")),
            gateways=tuple(c["Gateway"] for c in cfg if c.get("Gateway")),
            internal=bool(raw.get("Internal")), labels=_frozen(raw.get("Labels")), engine_id=engine_id,
        )


@dataclass(frozen=True)
class ContainerRefs:
    """What one container refers to: its image, named volumes and networks (from the list API)."""

    id: str
    name: str
    image_id: str
    volumes: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()  # network names (ids are empty until a container starts)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> "ContainerRefs":
        names = raw.get("Names") or []
        nets = ((raw.get("NetworkSettings") or {}).get("Networks")) or {}
        return cls(
            id=raw["Id"], name=names[0].lstrip("/") if names else raw["Id"][:12], image_id=raw.get("ImageID", ""),
            volumes=tuple(m["Name"] for m in raw.get("Mounts") or [] if m.get("Type") == "volume" and m.get("Name")),
            networks=tuple(sorted(nets)),
        )


@dataclass(frozen=True)
class Plugin:
    id: str
    name: str
    enabled: bool
    description: str = ""

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> "Plugin":
        return cls(id=raw.get("Id", ""), name=raw.get("Name", ""), enabled=bool(raw.get("Enabled")),
                   description=((raw.get("Config") or {}).get("Description", "")))


@dataclass(frozen=True)
class UsageRow:
    """One object in disk usage: its name, size and whether pruning would remove it."""

    kind: str  # image, container, volume, build-cache
    id: str
    name: str
    size: int
    reclaimable: bool


@dataclass(frozen=True)
class DiskUsage:
    rows: tuple[UsageRow, ...]
    layers_size: int = 0  # all image layers, shared ones counted once

    def of(self, kind: str) -> tuple[UsageRow, ...]:
        return tuple(r for r in self.rows if r.kind == kind)

    def total(self, kind: str) -> int:
        if kind == "image" and self.layers_size:
            return self.layers_size
        return sum(r.size for r in self.of(kind))

    def reclaimable(self, kind: str) -> int:
        return sum(r.size for r in self.of(kind) if r.reclaimable)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any], *, dangling_only: bool = True) -> "DiskUsage":
        """`system df` as rows. Reclaimable follows what the matching prune removes:
        images not used by any container (dangling only unless dangling_only=False), stopped
        containers, anonymous-or-not volumes with no container, build cache not in use."""
        rows: list[UsageRow] = []
        for im in raw.get("Images") or []:
            tags = [t for t in (im.get("RepoTags") or []) if t != NONE_TAG]
            unused = int(im.get("Containers") or 0) == 0
            rows.append(UsageRow("image", im["Id"], ", ".join(tags) or im["Id"].split(":")[-1][:12],
                                 int(im.get("Size") or 0) - max(int(im.get("SharedSize") or 0), 0),
                                 unused and (not tags or not dangling_only)))
        for c in raw.get("Containers") or []:
            name = ((c.get("Names") or ["/" + c["Id"][:12]])[0]).lstrip("/")
            rows.append(UsageRow("container", c["Id"], name, int(c.get("SizeRw") or 0),
                                 c.get("State") not in ("running", "paused", "restarting")))
        for v in raw.get("Volumes") or []:
            u = v.get("UsageData") or {}
            rows.append(UsageRow("volume", v["Name"], v["Name"], max(int(u.get("Size") or 0), 0),
                                 int(u.get("RefCount") or 0) == 0))
        for b in raw.get("BuildCache") or []:
            rows.append(UsageRow("build-cache", b.get("ID", ""), b.get("Description", "") or b.get("Type", ""),
                                 int(b.get("Size") or 0), not b.get("InUse")))
        return cls(tuple(rows), int(raw.get("LayersSize") or 0))
