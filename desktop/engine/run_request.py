"""The Run form as data: text fields → a validated RunRequest (errors per field) → create + start.

Engine refusals come back tied to the field a user must change (port → ports, name → name,
missing image → image), so the form can put the sentence beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from desktop.engine.client import EngineClient
from desktop.engine.errors import ConflictError, EngineError, NotFoundError, PortAllocatedError, translate
from desktop.engine.specs import (MountSpec, PortSpec, SpecError, parse_command, parse_image_ref, parse_key_value,
                                  parse_lines, parse_mount, parse_name, parse_port, parse_restart)

FIELDS = ("image", "name", "ports", "env", "mounts", "network", "restart", "command")


@dataclass(frozen=True)
class RunRequest:
    image: str
    name: str | None = None
    ports: tuple[PortSpec, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    mounts: tuple[MountSpec, ...] = ()
    network: str | None = None
    restart: Mapping | None = None
    command: tuple[str, ...] | None = None
    auto_remove: bool = False
    detach: bool = True


@dataclass
class FormErrors(Exception):
    """Field → sentence. Raised when any field is invalid."""

    errors: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.errors.items())


def parse_run_form(values: Mapping[str, object], mount_line=None) -> RunRequest:
    """Validate every field (not just the first bad one); raise FormErrors or return a RunRequest.

    `mount_line(text) -> text` rewrites each mount line first (the WSL engine's Windows paths)."""
    errors: dict[str, str] = {}

    def take(key: str, fn):
        try:
            return fn(str(values.get(key) or ""))
        except SpecError as err:
            errors[key] = str(err)
            return None

    ref = take("image", parse_image_ref)
    name = take("name", lambda s: parse_name(s) if s.strip() else None)
    ports = take("ports", lambda s: parse_lines(s, parse_port, "Port"))
    env = take("env", lambda s: parse_lines(s, parse_key_value, "Variable"))
    mounts = take("mounts", lambda s: parse_lines(s, (lambda line: parse_mount(mount_line(line))) if mount_line
                                                  else parse_mount, "Mount"))
    network = take("network", lambda s: parse_name(s, "network") if s.strip() else None)
    restart = take("restart", parse_restart)
    command = take("command", parse_command)
    if ports:
        seen: dict[tuple, str] = {}
        for p in ports:
            if p.host_port is None:
                continue
            k = (p.host_ip or "0.0.0.0", p.host_port, p.protocol)
            if k in seen:
                errors["ports"] = f"Host port {p.host_port}/{p.protocol} is published twice."
            seen[k] = p.key
    if mounts:
        targets = [m.target.rstrip("/") for m in mounts]
        dup = next((t for t in targets if targets.count(t) > 1), None)
        if dup:
            errors["mounts"] = f"Two mounts use the container path {dup}."
    auto_remove = bool(values.get("auto_remove"))
    if auto_remove and restart:
        errors["restart"] = "Auto-remove cannot be combined with a restart policy."
    if errors:
        raise FormErrors(errors)
    return RunRequest(image=str(ref), name=name, ports=tuple(ports or ()), env=tuple(env or ()),
                      mounts=tuple(mounts or ()), network=network, restart=restart,
                      command=tuple(command) if command else None, auto_remove=auto_remove,
                      detach=bool(values.get("detach", True)))


def create_args(api, req: RunRequest) -> dict:
    """Keyword arguments for APIClient.create_container."""
    bindings: dict[str, list] = {}
    for p in req.ports:
        bindings.setdefault(p.key, []).append(p.binding())
    host_config = api.create_host_config(
        port_bindings={k: (v if len(v) > 1 else v[0]) for k, v in bindings.items()} or None,
        binds=[m.bind_string() for m in req.mounts] or None,
        network_mode=req.network or None,
        restart_policy=dict(req.restart) if req.restart else None,
        auto_remove=req.auto_remove,
    )
    return dict(
        image=req.image, name=req.name, command=list(req.command) if req.command else None,
        environment=[f"{k}={v}" for k, v in req.env] or None,
        ports=[(p.container_port, p.protocol) for p in req.ports] or None,
        host_config=host_config, detach=req.detach,
    )


def field_for(err: EngineError) -> str | None:
    """Which form field an engine refusal is about."""
    words = f"{err} {err.detail}".lower()
    if isinstance(err, PortAllocatedError) or "port is already allocated" in words:
        return "ports"
    if "already in use by container" in words or ("conflict" in words and "name" in words):
        return "name"
    if "no such image" in words or "not on this engine" in words:
        return "image"
    if "network" in words and ("not found" in words or "no such" in words):
        return "network"
    if "invalid mount" in words or "bind source path" in words or "invalid volume" in words:
        return "mounts"
    return None


async def run_container(client: EngineClient, req: RunRequest) -> str:
    """Create and start the container; returns its id. Errors are FormErrors tied to a field."""
    api = client.api
    target = f"container {req.name}" if req.name else f"a container from {req.image}"
    cid = None
    try:
        res = await client.run(lambda: api.create_container(**create_args(api, req)))
        cid = res["Id"]
        await client.run(api.start, cid)
        return cid
    except Exception as exc:  # noqa: BLE001
        err = translate(exc, "run", target)
        if isinstance(err, NotFoundError) and ("image" in (err.detail or "").lower() or cid is None):
            if "network" in (err.detail or "").lower():
                err = NotFoundError(f"There is no network named {req.network}.", err.detail)
            else:
                err = NotFoundError(f"The image {req.image} is not on this engine. Pull it first.", err.detail)
        elif isinstance(err, ConflictError) and "name" in (err.detail or "").lower() and cid is None:
            err = ConflictError(f"The name {req.name} is already in use by another container. Choose another name.",
                                err.detail)
        if cid is not None:
            # The container exists but did not start (a port was taken, a mount failed): remove it
            # so that fixing the field and pressing Run again does not hit "name in use".
            try:
                await client.run(api.remove_container, cid, force=True)
            except Exception:  # noqa: BLE001
                pass
        raise FormErrors({field_for(err) or "form": str(err)}) from exc
