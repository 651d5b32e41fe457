"""A Compose project as a graph: services (state, health, ports), `depends_on` edges with their
conditions, and the networks the services share. Qt-free; laid out in dependency layers.

Compose v2 writes each service's depends_on into a label on its containers
("db:service_healthy:false,cache:service_started:true"), so a running project's graph needs no
compose file. When the project's files are known (compose_spec.py), they add what no container
says: services not created yet, every declared dependency, network, volume and published port.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

DEPENDS_LABEL = "com.docker.compose.depends_on"


@dataclass
class ServiceNode:
    name: str
    containers: list = field(default_factory=list)  # Container records, by name
    networks: set[str] = field(default_factory=set)
    declared_ports: list[str] = field(default_factory=list)  # from the Compose file
    declared: bool = False  # the Compose file names it

    @property
    def state(self) -> str:
        """running when any replica runs, else the first one's state."""
        states = [c.state for c in self.containers]
        return "running" if "running" in states else (states[0] if states else "missing")

    @property
    def health(self) -> str | None:
        hs = [c.health for c in self.containers if c.health]
        for h in ("unhealthy", "starting", "healthy"):
            if h in hs:
                return h
        return None

    @property
    def ports(self) -> list[str]:
        """Published ports: the running containers' (what the engine says), else the file's."""
        if not any(c.state == "running" for c in self.containers) and self.declared_ports:
            return list(self.declared_ports)
        seen = []
        for c in self.containers:
            for p in c.published_ports:
                text = f"{p.public_port}→{p.private_port}/{p.protocol}"
                if text not in seen:
                    seen.append(text)
        return seen


@dataclass(frozen=True)
class Edge:
    service: str  # the one that waits
    depends_on: str
    condition: str  # service_started, service_healthy, service_completed_successfully


def parse_depends(label: str) -> list[tuple[str, str]]:
    """(service, condition) from a depends_on label; a bare name means service_started."""
    out = []
    for part in (label or "").split(","):
        bits = part.strip().split(":")
        if bits and bits[0]:
            out.append((bits[0], bits[1] if len(bits) > 1 and bits[1] else "service_started"))
    return out


@dataclass
class ProjectGraph:
    services: dict[str, ServiceNode]
    edges: list[Edge]
    networks: dict[str, list[str]]  # network → services on it
    volumes: dict[str, list[str]] = field(default_factory=dict)  # volume (or bind path) → services using it
    bind_mounts: set[str] = field(default_factory=set)  # which of `volumes` are host paths
    from_file: bool = False  # drawn with the project's Compose file

    def layers(self) -> list[list[str]]:
        """Services in columns: a service's column is one more than the deepest it depends on."""
        deps: dict[str, set[str]] = {s: set() for s in self.services}
        for e in self.edges:
            if e.service in deps and e.depends_on in self.services:
                deps[e.service].add(e.depends_on)
        depth: dict[str, int] = {}

        def d(s: str, path: tuple = ()) -> int:
            if s in depth:
                return depth[s]
            if s in path:  # a cycle (not valid Compose): cut it
                return 0
            depth[s] = v = 1 + max((d(x, path + (s,)) for x in deps[s]), default=-1)
            return v

        for s in self.services:
            d(s)
        cols: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
        for s in sorted(self.services):
            cols[depth[s]].append(s)
        return cols


def build_graph(members: Iterable, networks_of: Mapping[str, Sequence[str]] | None = None,
                spec=None) -> ProjectGraph:
    """From a project's containers (and, when inspected, each container's networks by id), and
    its Compose file's declarations when known (`spec`: a compose_spec.ComposeSpec)."""
    services: dict[str, ServiceNode] = {}
    edges: dict[tuple[str, str], Edge] = {}
    volumes: dict[str, set[str]] = {}
    binds: set[str] = set()
    if spec is not None:
        for name, s in spec.services.items():
            node = services.setdefault(name, ServiceNode(name, declared=True))
            node.declared_ports = list(s.ports)
            node.networks.update(spec.networks_of(name))
            for dep, cond in s.depends_on.items():
                edges[(name, dep)] = Edge(name, dep, cond)
            for v in spec.volumes_of(name):
                volumes.setdefault(v.name, set()).add(name)
                if v.kind == "bind":
                    binds.add(v.name)
    for c in sorted(members, key=lambda c: c.name):
        svc = c.compose_service or c.name
        node = services.setdefault(svc, ServiceNode(svc))
        node.containers.append(c)
        node.networks.update((networks_of or {}).get(c.id, ()))
        for dep, cond in parse_depends(c.labels.get(DEPENDS_LABEL, "")):
            edges.setdefault((svc, dep), Edge(svc, dep, cond))
    nets: dict[str, list[str]] = {}
    for s, node in sorted(services.items()):
        for n in sorted(node.networks):
            nets.setdefault(n, []).append(s)
    return ProjectGraph(services, sorted(edges.values(), key=lambda e: (e.service, e.depends_on)), nets,
                        {v: sorted(users) for v, users in sorted(volumes.items())}, binds, spec is not None)
