"""How the events watch waits for a lost engine to come back (Qt-free).

A local engine (a UNIX socket on this computer) is asked `GET /_ping` every 50 ms: a refused
or missing socket answers in microseconds and costs nothing, and a dockerd that is still
starting holds the request until it serves, so the answer arrives the moment it can. The app
then reconnects within a few tens of milliseconds of the engine's first answer, where a
backoff growing to 5 s made it wait up to 4.9 s.

A remote engine (tcp://, ssh://) is someone else's machine: it is tried again after a short
backoff capped below a second, never faster.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Sequence

from desktop.engine.endpoints import Endpoint

LOCAL_POLL = 0.05  # seconds between pings of a local socket
LOCAL_POLL_LONG = 0.1  # once it has been away for a while
LONG_AWAY = 30.0
PING_TIMEOUT = 2.0
REMOTE_BACKOFF = (0.1, 0.25, 0.5, 0.75)  # seconds; the last one repeats


def local_socket(endpoint: Endpoint) -> str | None:
    """The socket path of a local engine, None for a remote one."""
    if endpoint.host.startswith("unix://"):
        return endpoint.host[len("unix://"):]
    return None


def ping_unix(path: str, timeout: float = PING_TIMEOUT) -> bool:
    """Blocking: does the engine at this UNIX socket answer `GET /_ping` with 200?"""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nUser-Agent: pilothouse\r\nConnection: close\r\n\r\n")
        head = b""
        while b"\r\n" not in head and len(head) < 1024:
            data = sock.recv(1024)
            if not data:
                break
            head += data
        parts = head.split(b"\r\n", 1)[0].split()
        return len(parts) >= 2 and parts[1] == b"200"
    except OSError:
        return False
    finally:
        sock.close()


class EngineReturn:
    """`await wait(attempt)`: returns when the engine may be back (or the user asked to retry)."""

    def __init__(self, endpoints: Sequence[Endpoint], run: Callable,
                 remote_backoff: tuple[float, ...] = REMOTE_BACKOFF) -> None:
        self._sockets = [p for p in (local_socket(e) for e in endpoints) if p]
        self._remote = any(local_socket(e) is None for e in endpoints)
        self._run = run  # awaits a blocking callable off the loop (the client's executor)
        self._backoff = remote_backoff
        self._away_since: float | None = None
        self.retry_now = asyncio.Event()

    def back(self) -> None:
        """Connected again: the next loss starts a fresh wait."""
        self._away_since = None

    async def wait(self, attempt: int) -> None:
        """`attempt`: connection attempts that failed since the engine was last connected."""
        loop = asyncio.get_running_loop()
        if self._away_since is None:
            self._away_since = loop.time()
        self.retry_now.clear()
        # Remote candidates are tried again after the backoff; local ones as soon as they answer.
        deadline = loop.time() + self._backoff[min(attempt, len(self._backoff) - 1)] if self._remote else None
        retry = asyncio.ensure_future(self.retry_now.wait())
        try:
            pause = attempt > 0  # straight after a loss, ask at once
            while True:
                if self._sockets:
                    if pause:
                        if await _wait(retry, self._step(attempt, deadline)):
                            return
                    pause = True
                    if await self._any_answers():
                        return
                elif await _wait(retry, max(0.0, deadline - loop.time())):
                    return
                if deadline is not None and loop.time() >= deadline:
                    return
        finally:
            retry.cancel()

    def _step(self, attempt: int, deadline: float | None) -> float:
        loop = asyncio.get_running_loop()
        step = LOCAL_POLL_LONG if loop.time() - (self._away_since or 0.0) > LONG_AWAY else LOCAL_POLL
        if attempt >= 3:
            # It answers pings yet the connection keeps failing: slow down rather than spin.
            step = min(LOCAL_POLL * 2 ** (attempt - 2), 1.0)
        if deadline is not None:
            step = min(step, max(0.0, deadline - loop.time()))
        return step

    async def _any_answers(self) -> bool:
        for path in self._sockets:
            if await self._run(ping_unix, path):
                return True
        return False


async def _wait(retry: asyncio.Future, seconds: float) -> bool:
    """Sleep `seconds` or until `retry` fires; True if it fired."""
    if retry.done():
        return True
    done, _ = await asyncio.wait({retry}, timeout=seconds)
    return bool(done)
