"""Checking an engine address a user typed, before anything is dialled."""

from __future__ import annotations

import ipaddress
import os
import re
from urllib.parse import urlsplit

from desktop.engine.endpoints import Endpoint, TLSFiles
from desktop.engine.errors import InvalidInputError

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class FieldError(InvalidInputError):
    """Bad input in one field; `field` says which, so the message goes beside it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_file(field: str, path: str, what: str, check: bool = True) -> str:
    path = os.path.expanduser(path.strip())
    if check and not os.path.isfile(path):
        raise FieldError(field, f"No {what} file at {path}.")
    return path


def engine_from_input(name: str, address: str, *, taken_names: set[str] = frozenset(),
                      taken_hosts: dict[str, str] | None = None,
                      tls_ca: str = "", tls_cert: str = "", tls_key: str = "",
                      ssh_identity: str = "", ssh_known_hosts: str = "", check_files: bool = True) -> Endpoint:
    """An Endpoint from the Add-engine form, or FieldError naming the field at fault.

    Accepts `unix:///path`, a bare `/path/to/docker.sock`, `ssh://[user@]host[:port][/socket]`,
    `tcp://host:port` (TLS client certificates required unless the host is loopback) and
    `npipe:////./pipe/NAME`. `check_files=False` checks the shape only (the files may be absent).
    """
    def _file(field: str, path: str, what: str) -> str:
        return _check_file(field, path, what, check_files)

    name = name.strip()
    if not name:
        raise FieldError("name", "Give the engine a name, for example “build-server”.")
    if not _NAME_RE.match(name):
        raise FieldError("name", "Use letters, digits, '.', '_' or '-' (up to 63), starting with a letter or digit.")
    if name in taken_names:
        raise FieldError("name", f"An engine named {name} already exists.")
    address = address.strip()
    if not address:
        raise FieldError("address", "Enter the engine's address, e.g. unix:///var/run/docker.sock or ssh://me@host.")
    if address.startswith("/"):
        address = f"unix://{address}"
    if taken_hosts and address in taken_hosts:
        raise FieldError("address", f"This engine is already followed, as {taken_hosts[address]}.")
    scheme = address.split("://", 1)[0] if "://" in address else ""
    if scheme == "unix":
        path = address[len("unix://"):]
        if not path.startswith("/"):
            raise FieldError("address", "A socket path must be absolute: unix:///path/to/docker.sock.")
        return Endpoint(address, "settings", name)
    if scheme == "npipe":
        return Endpoint(address, "settings", name)
    if scheme == "ssh":
        parts = urlsplit(address)
        if not parts.hostname:
            raise FieldError("address", "An SSH address needs a host: ssh://user@host[:port].")
        if parts.hostname.startswith("-"):
            raise FieldError("address", "A host name cannot start with '-'.")
        try:
            parts.port
        except ValueError:
            raise FieldError("address", "The SSH port must be a number from 1 to 65535.") from None
        identity = _file("ssh_identity", ssh_identity, "identity (private key)") if ssh_identity.strip() else None
        known = _file("ssh_known_hosts", ssh_known_hosts, "known_hosts") if ssh_known_hosts.strip() else None
        return Endpoint(address, "settings", name, ssh_identity=identity, ssh_known_hosts=known)
    if scheme == "tcp":
        parts = urlsplit(address)
        if not parts.hostname:
            raise FieldError("address", "A TCP address needs a host and port: tcp://host:2376.")
        try:
            port = parts.port
        except ValueError:
            port = None
        if not port:
            raise FieldError("address", "Give the port, e.g. tcp://host:2376 (1 to 65535).")
        files = [tls_ca.strip(), tls_cert.strip(), tls_key.strip()]
        if not any(files):
            if _is_loopback(parts.hostname):
                return Endpoint(address, "settings", name)
            raise FieldError("tls_cert", "An engine reached over the network needs TLS: choose the CA, "
                                         "client certificate and key (an engine without TLS lets anyone "
                                         "on the network run anything as root).")
        ca = _file("tls_ca", files[0], "CA certificate") if files[0] else None
        if not files[1] or not files[2]:
            raise FieldError("tls_cert" if not files[1] else "tls_key",
                             "The client certificate and its key go together: choose both.")
        cert = _file("tls_cert", files[1], "client certificate")
        key = _file("tls_key", files[2], "client key")
        return Endpoint(address, "settings", name, tls=TLSFiles(ca=ca, cert=cert, key=key, verify=True))
    raise FieldError("address", "Use unix://, ssh://, tcp:// or npipe:// (for example unix:///var/run/docker.sock).")


_LINE_OPTIONS = ("tls_ca", "tls_cert", "tls_key", "ssh_identity", "ssh_known_hosts")


def parse_engine_line(line: str, taken_names: set[str] = frozenset()) -> Endpoint:
    """One saved engine: `[NAME] ADDRESS [option=path ...]` (options: tls_ca, tls_cert, tls_key,
    ssh_identity, ssh_known_hosts). Without a name, the address's host (or socket file) names it."""
    name, address, options = parse_engine_words(line)
    return engine_from_input(name, address, taken_names=taken_names, **options)


def parse_engine_words(line: str) -> tuple[str, str, dict[str, str]]:
    """The older one-line form split into (name, address, options), nothing checked yet."""
    words = line.split()
    if not words:
        raise FieldError("address", "An empty line is not an engine.")
    if "://" in words[0] or words[0].startswith("/"):
        address, rest = words[0], words[1:]
        parts = urlsplit(address if "://" in address else f"unix://{address}")
        base = parts.hostname or os.path.basename(parts.path.rstrip("/")) or "engine"
        name = re.sub(r"[^A-Za-z0-9_.-]", "-", base).strip("-.") or "engine"
    else:
        if len(words) < 2:
            raise FieldError("address", f"“{line.strip()}”: a name must be followed by the engine's address.")
        name, address, rest = words[0], words[1], words[2:]
    options = {}
    for word in rest:
        key, sep, value = word.partition("=")
        if not sep or key not in _LINE_OPTIONS:
            raise FieldError("address", f"“{word}” is not an engine option; use {', '.join(o + '=PATH' for o in _LINE_OPTIONS)}.")
        options[key] = value
    return name, address, options


def format_engine_line(ep: Endpoint) -> str:
    """The inverse of parse_engine_line."""
    words = [ep.name, ep.host]
    if ep.tls:
        words += [f"tls_ca={ep.tls.ca}"] if ep.tls.ca else []
        words += [f"tls_cert={ep.tls.cert}", f"tls_key={ep.tls.key}"] if ep.tls.cert else []
    if ep.ssh_identity:
        words.append(f"ssh_identity={ep.ssh_identity}")
    if ep.ssh_known_hosts:
        words.append(f"ssh_known_hosts={ep.ssh_known_hosts}")
    return " ".join(words)
