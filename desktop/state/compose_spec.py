"""What a project's Compose files declare, for its graph: services, `depends_on` with their
conditions, networks, volumes and published ports — so a project that is not running (or only
partly) is drawn whole, not only from the containers it has.

Compose files are YAML (anchors, merge keys, flow style), parsed with PyYAML's safe loader. A
file named by a container label is hostile input: it is read with the same care as
compose_files.read_compose_file (regular file, size cap, no blocking open), and only the fields
drawn here are taken, each checked for its type; anything else is ignored. Several files merge
the way Compose merges them for these fields: a later file's service adds to or overrides an
earlier one's.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from desktop.state.compose_files import MAX_BYTES

MAX_TEXT = 256  # a name, a path or a port longer than this is not drawn
CONDITIONS = ("service_started", "service_healthy", "service_completed_successfully")


class ComposeSpecError(ValueError):
    """The file cannot be used; str(err) is a sentence for the user."""


@dataclass(frozen=True)
class VolumeUse:
    name: str  # a named volume's engine name, or a bind mount's host path
    target: str
    kind: str  # "volume" or "bind"


@dataclass
class ServiceSpec:
    name: str
    depends_on: dict[str, str] = field(default_factory=dict)  # service → condition
    networks: list[str] = field(default_factory=list)  # keys in the file (resolved by ComposeSpec)
    volumes: list[tuple[str, str, str]] = field(default_factory=list)  # (source, target, kind)
    ports: list[str] = field(default_factory=list)  # "8080→80/tcp", published ones only
    network_mode: str | None = None


@dataclass
class ComposeSpec:
    project: str
    services: dict[str, ServiceSpec] = field(default_factory=dict)
    network_names: dict[str, str] = field(default_factory=dict)  # key in the file → engine name
    volume_names: dict[str, str] = field(default_factory=dict)

    def network_of(self, key: str) -> str:
        return self.network_names.get(key) or f"{self.project}_{key}"

    def networks_of(self, service: str) -> list[str]:
        """The engine names of a service's networks (the project's default one when it names none)."""
        s = self.services[service]
        if s.network_mode:  # host, none, service:x, container:x — no project network
            return []
        return [self.network_of(k) for k in (s.networks or ["default"])]

    def volumes_of(self, service: str) -> list[VolumeUse]:
        out = []
        for src, target, kind in self.services[service].volumes:
            if kind == "volume":
                out.append(VolumeUse(self.volume_names.get(src) or f"{self.project}_{src}", target, kind))
            else:
                out.append(VolumeUse(src, target, kind))
        return out


def _text(v) -> str | None:
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        return None
    t = str(v)
    return t if 0 < len(t) <= MAX_TEXT else None


def _names(v) -> list[str]:
    """A list of names, or a mapping's keys (both forms are valid for depends_on and networks)."""
    if isinstance(v, dict):
        return [t for t in (_text(k) for k in v) if t]
    if isinstance(v, list):
        return [t for t in (_text(x) for x in v) if t]
    return []


def _ports(v) -> list[str]:
    out = []
    for p in v if isinstance(v, list) else []:
        if isinstance(p, dict):
            target, published = _text(p.get("target")), _text(p.get("published"))
            proto = _text(p.get("protocol")) or "tcp"
            if target and published:
                out.append(f"{published}→{target}/{proto}")
            continue
        t = _text(p)
        if not t:
            continue
        spec, _, proto = t.partition("/")
        bits = spec.rsplit(":", 2) if spec.count(":") <= 2 else [spec]
        if len(bits) >= 2 and bits[-2]:  # [ip:]published:target
            out.append(f"{bits[-2]}→{bits[-1]}/{proto or 'tcp'}")
    return out


def _volumes(v) -> list[tuple[str, str, str]]:
    out = []
    for m in v if isinstance(v, list) else []:
        if isinstance(m, dict):
            kind, src, target = _text(m.get("type")) or "volume", _text(m.get("source")), _text(m.get("target"))
            if kind in ("volume", "bind") and src and target:
                out.append((src, target, kind))
            continue
        t = _text(m)
        if not t or ":" not in t:
            continue  # an anonymous volume: nothing to draw it joined to
        src, _, rest = t.partition(":")
        target = rest.split(":", 1)[0]
        kind = "bind" if src.startswith(("/", ".", "~")) else "volume"
        out.append((src, target, kind))
    return out


def _engine_names(top, project: str) -> dict[str, str]:
    """Top-level networks/volumes: key → the engine's name for it (given, external, or project_key)."""
    out: dict[str, str] = {}
    for key, d in (top.items() if isinstance(top, dict) else ()):
        k = _text(key)
        if not k:
            continue
        d = d if isinstance(d, dict) else {}
        ext = d.get("external")
        name = _text(d.get("name"))
        if isinstance(ext, dict):  # the old `external: {name: x}` form
            name = _text(ext.get("name")) or name
        if name:
            out[k] = name
        elif ext is True:
            out[k] = k
    return out


def parse_compose(text: str, project: str, into: ComposeSpec | None = None) -> ComposeSpec:
    """The drawn fields of one Compose file (merged into `into`, for a later file). Raises
    ComposeSpecError."""
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ComposeSpecError(f"The Compose file is not valid YAML{where}.") from None
    except RecursionError:
        raise ComposeSpecError("The Compose file nests too deeply to read.") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ComposeSpecError("The Compose file does not hold a mapping of services.")
    spec = into or ComposeSpec(project)
    services = doc.get("services")
    for key, body in (services.items() if isinstance(services, dict) else ()):
        name = _text(key)
        if not name:
            continue
        body = body if isinstance(body, dict) else {}
        s = spec.services.setdefault(name, ServiceSpec(name))
        deps = body.get("depends_on")
        if isinstance(deps, dict):
            for dep, d in deps.items():
                dn = _text(dep)
                cond = _text(d.get("condition")) if isinstance(d, dict) else None
                if dn:
                    s.depends_on[dn] = cond if cond in CONDITIONS else "service_started"
        else:
            for dn in _names(deps):
                s.depends_on.setdefault(dn, "service_started")
        if "networks" in body:
            s.networks = _names(body.get("networks"))
        mode = _text(body.get("network_mode"))
        if mode:
            s.network_mode = mode
        for v in _volumes(body.get("volumes")):
            if v not in s.volumes:
                s.volumes.append(v)
        for p in _ports(body.get("ports")):
            if p not in s.ports:
                s.ports.append(p)
    spec.network_names.update(_engine_names(doc.get("networks"), project))
    spec.volume_names.update(_engine_names(doc.get("volumes"), project))
    return spec


def _read_text(path: str) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as err:
        raise ComposeSpecError(f"Could not open {path}: {err.strerror or err}.") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ComposeSpecError(f"{path} is not a regular file.")
        if st.st_size > MAX_BYTES:
            raise ComposeSpecError(f"{path} is too large to be a Compose file.")
        data = os.read(fd, MAX_BYTES + 1)
    except OSError as err:
        raise ComposeSpecError(f"Could not read {path}: {err.strerror or err}.") from None
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        raise ComposeSpecError(f"{path} is too large to be a Compose file.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ComposeSpecError(f"{path} is not UTF-8 text.") from None


def read_compose_spec(paths: tuple[str, ...], project: str) -> ComposeSpec:
    """Blocking (a worker thread): the project's files, merged in order. Raises ComposeSpecError."""
    spec = ComposeSpec(project)
    for p in paths:
        parse_compose(_read_text(p), project, spec)
    return spec
