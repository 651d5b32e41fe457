"""Whether an engine connection is encrypted: plain tcp:// off this machine is not.

The Engine API has no authentication of its own; over plain tcp:// anyone on the path reads
it (registry passwords included, in a login) and anyone who can reach the port owns the
host. The docker CLI only warns in its docs; Pilothouse says so for as long as such an
engine is configured.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from desktop.engine.endpoints import Endpoint


def is_loopback(hostname: str) -> bool:
    if hostname.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False


def is_unencrypted_remote(endpoint: Endpoint) -> bool:
    """True for a tcp:// (or http://) engine without TLS whose host is not this machine."""
    parts = urlsplit(endpoint.host)
    if parts.scheme not in ("tcp", "http") or endpoint.tls is not None:
        return False
    return not is_loopback(parts.hostname or "")


def unencrypted_engines(engines: Iterable[tuple[str, Iterable[Endpoint]]]) -> list[str]:
    """Names with the address of every engine that would be reached in clear: `name (tcp://host:port)`."""
    out = []
    for name, endpoints in engines:
        for ep in endpoints:
            if is_unencrypted_remote(ep):
                out.append(f"{name} ({ep.host})" if name != ep.host else ep.host)
                break
    return out
