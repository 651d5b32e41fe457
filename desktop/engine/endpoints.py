"""Where is the engine? Endpoint discovery in the docker CLI's order.

Order: an explicit host (command line or setting), DOCKER_HOST (with DOCKER_TLS_VERIFY and
DOCKER_CERT_PATH), DOCKER_CONTEXT or the config's currentContext (metadata under
contexts/meta/<sha256(name)>/meta.json, TLS under contexts/tls/<sha256(name)>/docker/), then
the platform's usual sockets.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TLSFiles:
    """Client TLS material for a tcp:// engine."""

    ca: str | None
    cert: str | None
    key: str | None
    verify: bool = True


@dataclass(frozen=True)
class Endpoint:
    """One way to reach an engine."""

    host: str
    source: str  # "--host", "DOCKER_HOST", "context NAME", "default"
    name: str = "default"
    tls: TLSFiles | None = None
    ssh_identity: str | None = None  # ssh:// only: private key file (default: the user's ssh config)
    ssh_known_hosts: str | None = None  # ssh:// only: known_hosts file to check the host key against

    def describe(self) -> str:
        return f"{self.host} ({self.source})"


def docker_config_dir(env: Mapping[str, str], home: Path) -> Path:
    return Path(env["DOCKER_CONFIG"]) if env.get("DOCKER_CONFIG") else home / ".docker"


def _tls_from_dir(path: Path, verify: bool) -> TLSFiles:
    def f(name: str) -> str | None:
        p = path / name
        return str(p) if p.exists() else None

    return TLSFiles(ca=f("ca.pem"), cert=f("cert.pem"), key=f("key.pem"), verify=verify)


def context_endpoint(name: str, env: Mapping[str, str], home: Path) -> Endpoint | None:
    """Read a docker context's docker endpoint; None for the built-in 'default' or a missing one."""
    if name == "default":
        return None
    digest = hashlib.sha256(name.encode()).hexdigest()
    cfg = docker_config_dir(env, home)
    meta = cfg / "contexts" / "meta" / digest / "meta.json"
    try:
        data = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    ep = (data.get("Endpoints") or {}).get("docker") or {}
    host = ep.get("Host")
    if not host:
        return None
    tls_dir = cfg / "contexts" / "tls" / digest / "docker"
    tls = None
    if tls_dir.is_dir():
        tls = _tls_from_dir(tls_dir, verify=not ep.get("SkipTLSVerify", False))
    return Endpoint(host=host, source=f"context {name}", name=name, tls=tls)


def list_contexts(env: Mapping[str, str] | None = None, home: Path | None = None) -> list[Endpoint]:
    """Every docker context on disk with a docker endpoint."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    meta_root = docker_config_dir(env, home) / "contexts" / "meta"
    found = []
    for meta in sorted(meta_root.glob("*/meta.json")):
        try:
            name = json.loads(meta.read_text()).get("Name")
        except (OSError, ValueError):
            continue
        ep = context_endpoint(name, env, home) if name else None
        if ep:
            found.append(ep)
    return found


def current_context_name(env: Mapping[str, str], home: Path) -> str | None:
    if env.get("DOCKER_CONTEXT"):
        return env["DOCKER_CONTEXT"]
    try:
        cfg = json.loads((docker_config_dir(env, home) / "config.json").read_text())
    except (OSError, ValueError):
        return None
    return cfg.get("currentContext") or None


def platform_defaults(platform: str, env: Mapping[str, str], home: Path) -> list[Endpoint]:
    socks: list[str]
    if platform.startswith("win"):
        return [
            Endpoint("npipe:////./pipe/docker_engine", "default", "Docker Desktop / Docker Engine"),
            Endpoint("npipe:////./pipe/podman-machine-default", "default", "Podman machine"),
        ]
    if platform == "darwin":
        socks = [
            (str(home / ".docker/run/docker.sock"), "Docker Desktop"),
            ("/var/run/docker.sock", "Docker"),
            (str(home / ".orbstack/run/docker.sock"), "OrbStack"),
            (str(home / ".colima/default/docker.sock"), "Colima"),
            (str(home / ".colima/docker.sock"), "Colima"),
            (str(home / ".rd/docker.sock"), "Rancher Desktop"),
            (str(home / ".local/share/containers/podman/machine/podman.sock"), "Podman machine"),
            (str(home / ".local/share/containers/podman/machine/qemu/podman.sock"), "Podman machine"),
        ]
    else:
        socks = [("/var/run/docker.sock", "Docker")]
        runtime = env.get("XDG_RUNTIME_DIR")
        if runtime:
            socks.append((f"{runtime}/docker.sock", "rootless Docker"))
            socks.append((f"{runtime}/podman/podman.sock", "Podman"))
        socks.append((str(home / ".docker/desktop/docker.sock"), "Docker Desktop"))
    return [Endpoint(f"unix://{path}", "default", name) for path, name in socks]


def discover(
    explicit: str | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    platform: str | None = None,
) -> list[Endpoint]:
    """Candidate endpoints, best first.

    An explicit host, DOCKER_HOST or a chosen context is what the user asked for, so it is
    the only candidate (as with the docker CLI). Otherwise the platform's sockets, with those
    that exist on disk first.
    """
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    platform = sys.platform if platform is None else platform

    if explicit:
        return [Endpoint(explicit, "--host", "custom")]
    if env.get("DOCKER_HOST"):
        host = env["DOCKER_HOST"]
        tls = None
        # As the docker CLI: DOCKER_TLS_VERIFY (any value) is TLS checking the engine's certificate;
        # DOCKER_TLS alone is TLS without that check. Either way, client files from DOCKER_CERT_PATH.
        if host.startswith("tcp://") and (env.get("DOCKER_TLS_VERIFY") or env.get("DOCKER_TLS")):
            cert_path = Path(env.get("DOCKER_CERT_PATH") or docker_config_dir(env, home))
            tls = _tls_from_dir(cert_path, verify=bool(env.get("DOCKER_TLS_VERIFY")))
        return [Endpoint(host, "DOCKER_HOST", "DOCKER_HOST", tls)]
    ctx = current_context_name(env, home)
    if ctx and ctx != "default":
        ep = context_endpoint(ctx, env, home)
        if ep:
            return [ep]
    defaults = platform_defaults(platform, env, home)

    def exists(ep: Endpoint) -> bool:
        return ep.host.startswith("npipe:") or os.path.exists(ep.host[len("unix://"):])

    return [e for e in defaults if exists(e)] + [e for e in defaults if not exists(e)]


def engine_name(endpoints: Sequence[Endpoint]) -> str:
    """The switcher's name for an engine found by discovery."""
    ep = endpoints[0]
    if ep.source.startswith("context") or ep.source == "settings":
        return ep.name
    return {"default": "local", "--host": "host"}.get(ep.source, ep.source)
