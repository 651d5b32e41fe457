"""The one way to open a second connection to an engine: for a stream or a side connection.

Logs, exec, archives, stats, pull/push/build progress and events each need a connection of
their own (a stream holds its HTTP connection for as long as it runs). They must dial what
the client resolved when it connected — an ssh:// engine's local forward through the app's
own tunnel (with the identity and known_hosts chosen in Settings), a TLS engine with its
certificates — never the address as typed: the SDK would open ssh:// itself through
paramiko and ignore both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop.engine.client import make_api_client
from desktop.engine.errors import EngineUnreachableError

if TYPE_CHECKING:
    import docker

    from desktop.engine.client import EngineClient
    from desktop.engine.endpoints import Endpoint


def dial_endpoint(client: "EngineClient") -> "Endpoint":
    """What a new connection to this client's engine dials (raises when it is not connected)."""
    ep = client.api_endpoint
    if ep is None or not client.connected:
        raise EngineUnreachableError("Not connected to an engine.", tried=[e.describe() for e in client.endpoints])
    return ep


def stream_api(client: "EngineClient", timeout: float | None = None) -> "docker.APIClient":
    """A fresh SDK client on the client's resolved endpoint, no read timeout by default.

    Blocking (the SDK may ask the engine its version): call it in a worker or through
    `client.run`. The caller closes it.
    """
    return make_api_client(dial_endpoint(client), timeout=timeout, version=client.api.api_version)


async def open_stream_api(client: "EngineClient", timeout: float | None = None) -> "docker.APIClient":
    """`stream_api` run in the client's executor."""
    return await client.run(stream_api, client, timeout)


def local_socket_path(client: "EngineClient") -> str | None:
    """The UNIX socket a new connection reaches the engine through (local or the SSH forward), if any."""
    ep = client.api_endpoint
    return ep.host[len("unix://"):] if ep is not None and ep.host.startswith("unix://") else None


# What the docker CLI would otherwise take from the environment instead of our flags; and the
# proxy variables, which its Go HTTP client would route a tcp:// engine connection through.
_CLI_ENGINE_ENV = ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH",
                   "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def docker_cli_args(client: "EngineClient") -> list[str]:
    """Global flags that point the docker CLI at this client's engine as the client reaches it:
    the SSH forward's socket, or the TLS address with its certificates (without them the CLI
    would speak plain HTTP to a TLS port, a login's password in the body)."""
    ep = dial_endpoint(client)
    args = ["--host", ep.host]
    t = ep.tls
    if t is not None:
        args.append("--tlsverify" if t.verify else "--tls")
        for flag, path in (("--tlscacert", t.ca), ("--tlscert", t.cert), ("--tlskey", t.key)):
            if path:
                args += [flag, path]
    return args


def docker_cli_env(base: "dict[str, str]") -> dict[str, str]:
    """`base` without the variables that would choose another engine or TLS setting for the CLI."""
    return {k: v for k, v in base.items() if k not in _CLI_ENGINE_ENV}
