"""The engine-port proxy on real loopback sockets: bytes pass both ways untouched, the first
connection or byte while asleep wakes the VM before anything is forwarded, and a connection
that carries nothing is not activity. (The VM itself: tests/vm/test_vm_idle_sleep.py.)"""

from __future__ import annotations

import asyncio
import os

import pytest

from desktop.vm.wake_proxy import WakeProxy


class Gate:
    """Stands in for the sleep controller: records wakes and activity."""

    def __init__(self, asleep: bool = False) -> None:
        self.asleep = asleep
        self.activity = 0
        self.wakes = 0
        self.upstream_bytes_when_woken: list[int] = []
        self.seen = 0

    @property
    def awake(self) -> bool:
        return not self.asleep

    def note_activity(self, what: str = "") -> None:
        self.activity += 1

    async def ensure_awake(self) -> None:
        if self.asleep:
            await asyncio.sleep(0.05)  # a wake takes a while; the data must wait for it
            self.upstream_bytes_when_woken.append(self.seen)
            self.wakes += 1
            self.asleep = False


async def _echo_upstream(gate: Gate):
    async def on_client(reader, writer):
        while data := await reader.read(65536):
            gate.seen += len(data)
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


def test_bytes_pass_both_ways_and_count_as_activity():
    async def main():
        gate = Gate()
        server, up = await _echo_upstream(gate)
        proxy = WakeProxy(0, up, gate)
        await proxy.start()
        r, w = await asyncio.open_connection("127.0.0.1", proxy.port)
        payload = os.urandom(300_000)
        w.write(payload)
        await w.drain()
        got = await r.readexactly(len(payload))
        assert got == payload
        assert gate.activity >= 2 and gate.wakes == 0
        w.close()
        await proxy.aclose()
        server.close()

    run(main())


def test_first_byte_while_asleep_wakes_before_it_is_forwarded():
    async def main():
        gate = Gate(asleep=True)
        server, up = await _echo_upstream(gate)
        proxy = WakeProxy(0, up, gate)
        await proxy.start()
        r, w = await asyncio.open_connection("127.0.0.1", proxy.port)
        w.write(b"hello")
        await w.drain()
        assert await r.readexactly(5) == b"hello"
        assert gate.wakes == 1 and gate.upstream_bytes_when_woken == [0]
        w.close()
        await proxy.aclose()
        server.close()

    run(main())


def test_an_idle_connection_is_not_activity_and_survives_a_sleep():
    async def main():
        gate = Gate()
        server, up = await _echo_upstream(gate)
        proxy = WakeProxy(0, up, gate)
        await proxy.start()
        r, w = await asyncio.open_connection("127.0.0.1", proxy.port)
        w.write(b"GET /events")
        await w.drain()
        await r.readexactly(11)
        before = gate.activity
        # Nothing moves on the connection for a while: no activity is counted meanwhile.
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(r.read(1), 0.3)
        assert gate.activity == before
        gate.asleep = True  # the VM sleeps with the connection open
        w.write(b"more")
        await w.drain()
        assert await r.readexactly(4) == b"more"
        assert gate.wakes == 1
        w.close()
        await proxy.aclose()
        server.close()

    run(main())


def test_unreachable_upstream_closes_the_client_connection():
    async def main():
        gate = Gate()
        proxy = WakeProxy(0, 1, gate)  # nothing listens on port 1
        await proxy.start()
        r, w = await asyncio.open_connection("127.0.0.1", proxy.port)
        assert await asyncio.wait_for(r.read(10), 5) == b""
        w.close()
        await proxy.aclose()

    run(main())


def test_a_request_not_answered_yet_is_outstanding_until_the_answer_starts():
    async def main():
        gate = Gate()
        answer = asyncio.Event()

        async def on_client(reader, writer):
            await reader.read(100)
            await answer.wait()  # the engine at work (a container starting)
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
            await reader.read(100)
            writer.close()

        server = await asyncio.start_server(on_client, "127.0.0.1", 0)
        proxy = WakeProxy(0, server.sockets[0].getsockname()[1], gate)
        await proxy.start()
        r, w = await asyncio.open_connection("127.0.0.1", proxy.port)
        assert proxy.outstanding() == 0
        w.write(b"POST /containers/x/start HTTP/1.1\r\n\r\n")
        await w.drain()
        while proxy.outstanding() == 0:
            await asyncio.sleep(0.01)
        answer.set()
        assert (await r.readline()).startswith(b"HTTP/1.1 204")
        assert proxy.outstanding() == 0  # answered: an idle keep-alive connection now
        w.close()
        await proxy.aclose()
        server.close()

    run(main())
