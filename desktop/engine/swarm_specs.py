"""Swarm input typed by users, validated before it reaches the engine: the create-service form,
scale counts, placement constraints, resource limits, an advertise address, secret names."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass

from desktop.engine.run_request import FormErrors
from desktop.engine.specs import (MountSpec, SpecError, parse_command, parse_image_ref, parse_key_value,
                                  parse_lines, parse_mount, parse_port)

SERVICE_FIELDS = ("name", "image", "mode", "replicas", "ports", "env", "mounts", "constraints",
                  "cpus", "memory", "command", "stop_signal")
# Service names become DNS names on the service's networks: letters, digits and '-' only.
_SERVICE_NAME_RE = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,61}[a-zA-Z0-9])?$")
_SECRET_NAME_RE = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,62}[a-zA-Z0-9])?$")
_CONSTRAINT_RE = re.compile(r"^\s*([a-zA-Z0-9_.\-]+)\s*(==|!=)\s*(\S.*?)\s*$")
_MEMORY_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
MAX_REPLICAS = 10_000
SECRET_MAX_BYTES = 500 * 1024  # the engine's own limit for a secret's or config's data


@dataclass(frozen=True)
class ServicePort:
    published: int | None
    target: int
    protocol: str = "tcp"
    mode: str = "ingress"


@dataclass(frozen=True)
class ServiceRequest:
    name: str
    image: str
    mode: str = "replicated"  # replicated, global
    replicas: int = 1
    ports: tuple[ServicePort, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    mounts: tuple[MountSpec, ...] = ()
    constraints: tuple[str, ...] = ()
    nano_cpus: int | None = None
    memory_bytes: int | None = None
    command: tuple[str, ...] | None = None
    labels: Mapping[str, str] | None = None
    stop_signal: str | None = None


def parse_service_name(text: str) -> str:
    s = text.strip()
    if not _SERVICE_NAME_RE.match(s):
        raise SpecError("A service name is 1 to 63 letters, digits, '-', '_' or '.', starting and ending "
                        "with a letter or digit.")
    return s


def parse_replicas(text: str) -> int:
    s = str(text).strip()
    if not s.isdigit() or not s.isascii():
        raise SpecError("Replicas is a whole number, 0 or more.")
    n = int(s)
    if n > MAX_REPLICAS:
        raise SpecError(f"{n} replicas is more than this form allows ({MAX_REPLICAS}).")
    return n


def parse_service_port(text: str) -> ServicePort:
    """`published:target[/proto]` or `target[/proto]`; a trailing ` host` publishes on each node."""
    s = text.strip()
    mode = "ingress"
    if s.endswith(" host"):
        s, mode = s[:-5].strip(), "host"
    spec = parse_port(s)
    if spec.host_ip:
        raise SpecError("A service publishes on every node: drop the IP address (use published:target).")
    return ServicePort(spec.host_port, spec.container_port, spec.protocol, mode)


def parse_constraint(text: str) -> str:
    """`node.role==manager`, `node.labels.zone!=eu`, `node.hostname==web1`…"""
    m = _CONSTRAINT_RE.match(text)
    if not m:
        raise SpecError("Write a constraint as key==value or key!=value, like node.role==worker.")
    key, op, value = m.groups()
    if not (key.startswith(("node.", "engine.labels.")) or key in ("node.id", "node.hostname")):
        raise SpecError(f"'{key}' is not a placement key: use node.id, node.hostname, node.role, "
                        "node.platform.os, node.labels.<name> or engine.labels.<name>.")
    if key == "node.role" and value not in ("manager", "worker"):
        raise SpecError("node.role is manager or worker.")
    return f"{key}{op}{value}"


def parse_cpus(text: str) -> int | None:
    s = text.strip()
    if not s:
        return None
    try:
        cpus = float(s)
    except ValueError:
        raise SpecError(f"'{s}' is not a number of CPUs (like 0.5 or 2).") from None
    if not 0.001 <= cpus <= 1024:
        raise SpecError("The CPU limit is between 0.001 and 1024.")
    return int(cpus * 1e9)


def parse_memory(text: str) -> int | None:
    s = text.strip()
    if not s:
        return None
    m = _MEMORY_RE.match(s)
    if not m:
        raise SpecError(f"'{s}' is not an amount of memory: write it like 256m or 1g.")
    value, unit = float(m.group(1)), m.group(2).lower()
    n = int(value * 1024 ** "bkmgt".index(unit or "b"))
    if n < 6 * 1024 * 1024:
        raise SpecError("The memory limit must be at least 6m (the engine's minimum).")
    return n


_SIGNAL_RE = re.compile(r"^(?:SIG)?[A-Z0-9+-]{2,12}$|^\d{1,2}$")


def parse_stop_signal(text: str) -> str | None:
    s = text.strip().upper()
    if not s:
        return None
    if not _SIGNAL_RE.match(s):
        raise SpecError("Write the stop signal as a name like SIGTERM or SIGKILL, or a number.")
    return s if s.isdigit() or s.startswith("SIG") else f"SIG{s}"


def parse_service_form(values: Mapping[str, object]) -> ServiceRequest:
    """Validate every field of the create-service form; raise FormErrors or return a request."""
    errors: dict[str, str] = {}

    def take(key: str, fn):
        try:
            return fn(str(values.get(key) if values.get(key) is not None else ""))
        except SpecError as err:
            errors[key] = str(err)
            return None

    name = take("name", parse_service_name)
    ref = take("image", parse_image_ref)
    mode = str(values.get("mode") or "replicated")
    if mode not in ("replicated", "global"):
        errors["mode"] = "The mode is replicated or global."
    replicas = take("replicas", lambda s: parse_replicas(s or "1")) if mode == "replicated" else 0
    ports = take("ports", lambda s: parse_lines(s, parse_service_port, "Port"))
    env = take("env", lambda s: parse_lines(s, parse_key_value, "Variable"))
    mounts = take("mounts", lambda s: parse_lines(s, parse_mount, "Mount"))
    constraints = take("constraints", lambda s: parse_lines(s, parse_constraint, "Constraint"))
    cpus = take("cpus", parse_cpus)
    memory = take("memory", parse_memory)
    command = take("command", parse_command)
    stop_signal = take("stop_signal", parse_stop_signal)
    if ports:
        seen = set()
        for p in ports:
            if p.published is None:
                continue
            k = (p.published, p.protocol)
            if k in seen:
                errors["ports"] = f"Port {p.published}/{p.protocol} is published twice."
            seen.add(k)
    if mounts:
        targets = [m.target.rstrip("/") for m in mounts]
        dup = next((t for t in targets if targets.count(t) > 1), None)
        if dup:
            errors["mounts"] = f"Two mounts use the container path {dup}."
    if errors:
        raise FormErrors(errors)
    return ServiceRequest(name=name, image=str(ref), mode=mode, replicas=replicas or 0, ports=tuple(ports or ()),
                          env=tuple(env or ()), mounts=tuple(mounts or ()), constraints=tuple(constraints or ()),
                          nano_cpus=cpus, memory_bytes=memory, command=tuple(command) if command else None,
                          stop_signal=stop_signal)


def service_spec(req: ServiceRequest) -> dict:
    """The engine's ServiceSpec for a request (the JSON body of POST /services/create)."""
    cs: dict = {"Image": req.image}
    if req.command:
        cs["Command"] = list(req.command)
    if req.stop_signal:
        cs["StopSignal"] = req.stop_signal
    if req.env:
        cs["Env"] = [f"{k}={v}" for k, v in req.env]
    if req.mounts:
        cs["Mounts"] = [{"Type": "bind" if m.is_bind else "volume", "Source": m.source, "Target": m.target,
                         "ReadOnly": m.read_only} for m in req.mounts]
    tt: dict = {"ContainerSpec": cs}
    if req.constraints:
        tt["Placement"] = {"Constraints": list(req.constraints)}
    limits = {}
    if req.nano_cpus:
        limits["NanoCPUs"] = req.nano_cpus
    if req.memory_bytes:
        limits["MemoryBytes"] = req.memory_bytes
    if limits:
        tt["Resources"] = {"Limits": limits}
    spec: dict = {"Name": req.name, "TaskTemplate": tt, "Labels": dict(req.labels or {})}
    spec["Mode"] = {"Global": {}} if req.mode == "global" else {"Replicated": {"Replicas": req.replicas}}
    if req.ports:
        spec["EndpointSpec"] = {"Ports": [
            {"Protocol": p.protocol, "TargetPort": p.target, "PublishMode": p.mode,
             **({"PublishedPort": p.published} if p.published else {})} for p in req.ports]}
    return spec


def parse_advertise_addr(text: str, local_addresses: tuple[str, ...] = ()) -> str:
    """An address (optionally :port) other nodes can reach this engine at: not loopback, not a wildcard.

    Args:
        local_addresses: when known (a local engine), the address must be one of them.
    """
    s = text.strip()
    if not s:
        raise SpecError("Enter the address other machines reach this engine at, like 192.168.1.10.")
    host, port = s, ""
    if s.startswith("["):
        end = s.find("]")
        if end < 0:
            raise SpecError("Close the IPv6 address's bracket, like [fd00::1]:2377.")
        host, rest = s[1:end], s[end + 1:]
        if rest and not rest.startswith(":"):
            raise SpecError("After the bracketed address write :port, like [fd00::1]:2377.")
        port = rest[1:]
    elif s.count(":") == 1:
        host, port = s.split(":")
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        if re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_.-]{0,14}", host):
            return s  # a network interface name (eth0): the engine resolves it to its address
        raise SpecError(f"'{host}' is not an IP address or an interface name.") from None
    if addr.is_loopback:
        raise SpecError("A loopback address cannot be reached by other machines: use this machine's LAN address.")
    if addr.is_unspecified:
        raise SpecError(f"{addr} is not one address: name the one other machines should use.")
    if addr.is_multicast:
        raise SpecError(f"{addr} is a multicast address.")
    if port:
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise SpecError(f"The port '{port}' is not between 1 and 65535.")
    if local_addresses and str(addr) not in local_addresses:
        raise SpecError(f"{addr} is not an address of this engine's machine (it has {', '.join(local_addresses)}).")
    return s


def parse_secret_name(text: str, what: str = "secret") -> str:
    s = text.strip()
    if not _SECRET_NAME_RE.match(s):
        raise SpecError(f"A {what} name is 1 to 64 letters, digits, '-', '_' or '.', starting and ending "
                        "with a letter or digit.")
    return s


def check_secret_data(data: bytes, what: str = "secret") -> bytes:
    if not data:
        raise SpecError(f"The {what} is empty.")
    if len(data) > SECRET_MAX_BYTES:
        raise SpecError(f"The {what} is {len(data) // 1024} KiB; the engine takes at most 500 KiB.")
    return data
