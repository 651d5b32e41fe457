"""The engine's loopback port, held on the host so a sleeping VM can be woken by its clients.

Clients (the docker CLI, Compose, Pilothouse) connect to 127.0.0.1:<engine port>; each
connection is forwarded byte for byte to QEMU's forward of the guest's dockerd (another
loopback port), so mutual TLS stays end to end: the proxy never sees a request. A new
connection, or a byte either way, is activity; while the VM sleeps, the first one wakes it and
is held until the VM runs again, so the client only sees a slower first answer.

A connection that carries nothing (Pilothouse's events stream between events, a pooled
keep-alive connection) is not activity, so it does not keep the VM awake, and it survives the
sleep: both ends are idle, the guest's side frozen with the rest of the guest.

A connection whose client spoke last is waiting for an answer (a `docker start` under way, a
`docker wait`): `outstanding()` counts those, and the VM does not sleep while there are any.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

log = logging.getLogger(__name__)

CHUNK = 256 * 1024


class Gate(Protocol):
    """What the proxy needs from the sleep controller."""

    @property
    def awake(self) -> bool: ...

    def note_activity(self, what: str = "") -> None: ...

    async def ensure_awake(self) -> None: ...


class WakeProxy:
    """Listens on 127.0.0.1:`port` and forwards to 127.0.0.1:`upstream_port`."""

    def __init__(self, port: int, upstream_port: int, gate: Gate, host: str = "127.0.0.1") -> None:
        self.port, self.upstream_port, self.gate, self.host = port, upstream_port, gate, host
        self._server: asyncio.AbstractServer | None = None
        self._conns: set[asyncio.Task] = set()
        self._client_spoke_last: set[asyncio.Task] = set()
        self.connections = 0  # accepted so far (for diagnostics)

    def outstanding(self) -> int:
        """Connections whose client sent bytes the engine has not answered yet."""
        return len(self._client_spoke_last)

    async def start(self) -> None:
        # SO_REUSEADDR: connections of the previous run linger in TIME_WAIT on this port.
        self._server = await asyncio.start_server(self._on_client, self.host, self.port, reuse_address=True)
        if self.port == 0:
            self.port = self._server.sockets[0].getsockname()[1]

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        for t in list(self._conns):
            t.cancel()
        for t in list(self._conns):
            with contextlib.suppress(BaseException):
                await t
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._conns.add(task)
        self.connections += 1
        up_w = None
        try:
            self.gate.note_activity("a connection to the engine")
            if not self.gate.awake:
                await self.gate.ensure_awake()
            try:
                up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
            except OSError as e:
                log.info("engine forward unreachable: %s", e)
                return  # the client sees the connection closed, as it would without the proxy
            await asyncio.gather(self._pump(reader, up_w, task, True), self._pump(up_r, writer, task, False))
        except asyncio.CancelledError:
            pass
        except Exception as e:  # noqa: BLE001 - one connection's failure is not the proxy's
            log.info("engine connection ended: %s", e)
        finally:
            for w in (writer, up_w):
                if w is not None:
                    w.close()
            self._conns.discard(task)
            self._client_spoke_last.discard(task)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, conn: asyncio.Task,
                    from_client: bool) -> None:
        gate = self.gate
        try:
            while True:
                data = await src.read(CHUNK)
                if not data:
                    break
                if from_client:
                    self._client_spoke_last.add(conn)
                else:
                    self._client_spoke_last.discard(conn)
                gate.note_activity("a request to the engine" if from_client else "the engine answering a request")
                if not gate.awake:
                    await gate.ensure_awake()
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if from_client:
                self._client_spoke_last.discard(conn)  # nothing more will be asked on it
            # Half-close: the other direction may still carry the answer.
            with contextlib.suppress(Exception):
                if dst.can_write_eof():
                    dst.write_eof()
