"""Input specs typed by users, parsed and validated as pure functions before anything reaches the
engine: image references, published ports, environment, mounts, names, subnets, restart policy.

Every parser raises SpecError with a sentence that can be shown beside the field.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass


class SpecError(ValueError):
    """Input that is not valid; `str(err)` is a sentence for the user."""


# -- image references (the grammar of distribution/reference) ---------------------------------------
_ALNUM = r"[a-z0-9]+"
_SEP = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEP}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE_RE = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$"
)
_NAME_ONLY_RE = re.compile(rf"^(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$")
_TAG_RE = re.compile(rf"^{_TAG}$")


@dataclass(frozen=True)
class ImageRef:
    repository: str
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        s = self.repository
        if self.tag:
            s += f":{self.tag}"
        if self.digest:
            s += f"@{self.digest}"
        return s

    @property
    def registry(self) -> str | None:
        """The registry host when the reference names one (`localhost:5000/app` → localhost:5000)."""
        first, _, rest = self.repository.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            return first
        return None

    @property
    def pull_tag(self) -> str:
        """What to pass as `tag` to the pull/push API: the digest, the tag, or latest."""
        return self.digest or self.tag or "latest"


def parse_image_ref(text: str) -> ImageRef:
    """Parse `[registry[:port]/]name[:tag][@digest]`."""
    s = text.strip()
    if not s:
        raise SpecError("Enter an image reference, for example busybox:latest.")
    if any(c.isspace() for c in s):
        raise SpecError("An image reference cannot contain spaces.")
    m = _REFERENCE_RE.match(s)
    if not m:
        if _REFERENCE_RE.match(s.lower()) or any(c.isupper() for c in s.split(":")[0].split("@")[0]):
            raise SpecError("Repository names must be lowercase.")
        raise SpecError(f"'{s}' is not a valid image reference: use name[:tag], like registry:5000/team/app:1.0.")
    name = m.group("name")
    first, _, rest = name.partition("/")
    # As docker does: the first part is a registry only with a '.', a ':' or as localhost;
    # otherwise it is part of the repository path, which must be lowercase.
    if rest and not ("." in first or ":" in first or first == "localhost") and not re.fullmatch(_PATH_COMPONENT, first):
        raise SpecError("Repository names must be lowercase.")
    if len(name) > 255:
        raise SpecError("The repository name is longer than 255 characters.")
    return ImageRef(name, m.group("tag"), m.group("digest"))


def parse_repository(text: str) -> str:
    """A repository name without tag (for tagging and building)."""
    s = text.strip()
    if not _NAME_ONLY_RE.match(s) or len(s) > 255:
        raise SpecError(f"'{s}' is not a valid repository name: lowercase letters, digits, '.', '_', '-' and '/'.")
    return s


def parse_tag(text: str) -> str:
    s = text.strip()
    if not _TAG_RE.match(s):
        raise SpecError("A tag is up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'.")
    return s


# -- ports -------------------------------------------------------------------------------------
PROTOCOLS = ("tcp", "udp", "sctp")


@dataclass(frozen=True)
class PortSpec:
    container_port: int
    protocol: str = "tcp"
    host_port: int | None = None  # None: the engine picks a free port
    host_ip: str | None = None

    @property
    def key(self) -> str:
        return f"{self.container_port}/{self.protocol}"

    def binding(self):
        """The value for HostConfig port_bindings."""
        port = "" if self.host_port is None else str(self.host_port)
        return (self.host_ip, port) if self.host_ip else (port or None)


def _port_number(text: str, what: str) -> int:
    if not text.isdigit() or not text.isascii():
        raise SpecError(f"The {what} port '{text}' is not a number.")
    n = int(text)
    if not 1 <= n <= 65535:
        raise SpecError(f"The {what} port {n} is out of range: use 1 to 65535.")
    return n


def parse_port(text: str) -> PortSpec:
    """Parse `[host_ip:][host_port:]container_port[/protocol]` (IPv6 addresses in brackets)."""
    s = text.strip()
    if not s:
        raise SpecError("Enter a port, like 8080:80 or 127.0.0.1::53/udp.")
    spec, _, proto = s.partition("/")
    proto = proto.lower() if proto else "tcp"
    if proto not in PROTOCOLS:
        raise SpecError(f"Unknown protocol '{proto}': use tcp, udp or sctp.")
    host_ip = None
    if spec.startswith("["):
        end = spec.find("]")
        if end < 0 or spec[end + 1:end + 2] != ":":
            raise SpecError("Write an IPv6 address in brackets followed by ':', like [::1]:8080:80.")
        host_ip, spec = spec[1:end], spec[end + 2:]
        parts = [host_ip, *spec.split(":")]
        if len(parts) != 3:
            raise SpecError("After an IPv6 address, write host_port:container_port.")
    else:
        parts = spec.split(":")
    if len(parts) > 3:
        raise SpecError("Too many ':' in the port: use [ip:][host_port:]container_port.")
    if len(parts) == 3:
        host_ip = parts[0]
        try:
            ipaddress.ip_address(host_ip)
        except ValueError:
            raise SpecError(f"'{host_ip}' is not an IP address.") from None
    container = _port_number(parts[-1], "container")
    host = parts[-2] if len(parts) >= 2 else ""
    host_port = _port_number(host, "host") if host else None
    return PortSpec(container, proto, host_port, host_ip)


# -- environment, labels, build args -------------------------------------------------------------
_KEY_RE = re.compile(r"^[^=\s\x00]+$")


def parse_key_value(text: str, what: str = "variable") -> tuple[str, str]:
    """Parse `KEY=VALUE` (the value may be empty and may contain '=')."""
    s = text.strip("\r\n")
    if "=" not in s:
        raise SpecError(f"Write the {what} as KEY=VALUE.")
    key, value = s.split("=", 1)
    key = key.strip()
    if not key:
        raise SpecError(f"The {what} has no name before '='.")
    if not _KEY_RE.match(key):
        raise SpecError(f"The {what} name '{key}' cannot contain spaces.")
    if "\x00" in value:
        raise SpecError(f"The value of {key} contains a NUL character.")
    return key, value


# -- mounts -----------------------------------------------------------------------------------------
_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


@dataclass(frozen=True)
class MountSpec:
    source: str  # an absolute host path or a volume name
    target: str
    read_only: bool = False

    @property
    def is_bind(self) -> bool:
        return self.source.startswith("/")

    def bind_string(self) -> str:
        return f"{self.source}:{self.target}:{'ro' if self.read_only else 'rw'}"


def parse_mount(text: str) -> MountSpec:
    """Parse `/host/path:/container/path[:ro|rw]` or `volume:/container/path[:ro|rw]`."""
    s = text.strip()
    parts = s.split(":")
    if len(parts) not in (2, 3) or not all(parts[:2]):
        raise SpecError("Write the mount as /host/path:/container/path or volume:/container/path, optionally :ro.")
    source, target = parts[0], parts[1]
    mode = parts[2] if len(parts) == 3 else "rw"
    if mode not in ("ro", "rw"):
        raise SpecError(f"Unknown mount option '{mode}': use ro or rw.")
    if "\x00" in s or "," in s:
        raise SpecError("Mount paths cannot contain NUL characters or commas.")
    if not source.startswith("/"):
        if not _NAME_RE.match(source):
            raise SpecError(f"'{source}' is neither an absolute host path nor a valid volume name.")
    if not target.startswith("/"):
        raise SpecError("The container path must be absolute (start with /).")
    if target.rstrip("/") == "":
        raise SpecError("The container path cannot be / itself.")
    return MountSpec(source, target, mode == "ro")


# -- names, networks, restart, command ----------------------------------------------------------------
def parse_name(text: str, what: str = "container") -> str:
    s = text.strip()
    if not _NAME_RE.match(s):
        raise SpecError(f"A {what} name is at least 2 characters: letters, digits, '_', '.' and '-', "
                        "starting with a letter or digit.")
    return s


def parse_subnet(subnet: str, gateway: str = "") -> tuple[str, str | None]:
    """A CIDR subnet and optional gateway inside it; returns normalised strings."""
    try:
        net = ipaddress.ip_network(subnet.strip(), strict=True)
    except ValueError as exc:
        if "has host bits set" in str(exc):
            raise SpecError(f"{subnet.strip()} has host bits set: did you mean "
                            f"{ipaddress.ip_network(subnet.strip(), strict=False)}?") from None
        raise SpecError(f"'{subnet.strip()}' is not a subnet in CIDR form, like 172.28.0.0/16.") from None
    if net.num_addresses < 4:
        raise SpecError("The subnet is too small: use a prefix of /30 or shorter.")
    gw = gateway.strip()
    if not gw:
        return str(net), None
    try:
        addr = ipaddress.ip_address(gw)
    except ValueError:
        raise SpecError(f"'{gw}' is not an IP address.") from None
    if addr not in net:
        raise SpecError(f"The gateway {addr} is not inside {net}.")
    if addr in (net.network_address, net.broadcast_address):
        raise SpecError(f"The gateway cannot be the subnet's {'network' if addr == net.network_address else 'broadcast'} address.")
    return str(net), str(addr)


RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")


def parse_restart(text: str) -> dict | None:
    """`no`, `always`, `unless-stopped` or `on-failure[:N]` as a HostConfig restart policy."""
    s = text.strip() or "no"
    name, _, count = s.partition(":")
    if name not in RESTART_POLICIES:
        raise SpecError("Restart policy: no, always, unless-stopped or on-failure[:max-retries].")
    if count and (name != "on-failure" or not count.isdigit()):
        raise SpecError("Only on-failure takes a retry count, as on-failure:5.")
    if name == "no":
        return None
    policy = {"Name": name}
    if count:
        policy["MaximumRetryCount"] = int(count)
    return policy


def parse_command(text: str) -> list[str] | None:
    """A command line split as a POSIX shell would (no shell is run); empty → image default."""
    if not text.strip():
        return None
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise SpecError(f"The command has {exc}: close the quote.") from None
    if any("\x00" in a for a in argv):
        raise SpecError("The command contains a NUL character.")
    return argv


def parse_lines(text: str, parse, what: str):
    """Parse one item per non-empty line; errors say which line."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(parse(line))
        except SpecError as err:
            raise SpecError(f"{what} line {n}: {err}") from None
    return out
