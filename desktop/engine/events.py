"""`docker events` as a cancellable async iterator that survives the engine going away.

Yields EngineConnected (first connection and after every reconnect: the consumer does a full
resync), EngineLost (the engine stopped answering; waiting for it: desktop/engine/reconnect.py) and EngineEvent.
The events subscription is opened *before* EngineConnected is yielded, so nothing that
happens during the consumer's resync is missed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from typing import TYPE_CHECKING, Union

from desktop.engine.errors import EngineError
from desktop.engine.raw_http import ChunkedLines, open_stream
from desktop.engine.reconnect import REMOTE_BACKOFF, EngineReturn
from desktop.engine.records import EngineConnected, EngineEvent, EngineLost
from desktop.engine.stream_clients import open_stream_api
from desktop.engine.tasks import cancel_and_wait

if TYPE_CHECKING:
    from desktop.engine.client import EngineClient

log = logging.getLogger(__name__)

WatchItem = Union[EngineConnected, EngineLost, EngineEvent]
_END = object()


class EngineWatch:
    """Async iterator over the engine's life and events; `aclose()` stops it."""

    def __init__(self, client: "EngineClient", backoff: tuple[float, ...] = REMOTE_BACKOFF) -> None:
        self._client = client
        self._return = EngineReturn(client.endpoints, client.run, backoff)
        self._queue: asyncio.Queue = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._stream = None
        self._closed = False
        self._ended = False  # the end was taken by ready(): the next __anext__ stops

    def __aiter__(self) -> "EngineWatch":
        self._ensure_started()
        return self

    def _ensure_started(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="engine-watch")

    async def __anext__(self) -> WatchItem:
        self._ensure_started()
        if self._ended:
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is _END:
            raise StopAsyncIteration
        return item

    def ready(self) -> list[WatchItem]:
        """The items already waiting, in order, without waiting for more: a burst of events is
        handed over as one read, and its consumer can apply it as one change."""
        out: list[WatchItem] = []
        while not self._ended:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            if item is _END:
                self._ended = True
                break
            out.append(item)
        return out

    def retry_now(self) -> None:
        """Skip the rest of the current wait (the user pressed Retry)."""
        self._return.retry_now.set()

    async def aclose(self) -> None:
        self._closed = True
        self._close_stream()
        await cancel_and_wait(self._task)
        while not self._queue.empty():  # undelivered items are moot once closed
            self._queue.get_nowait()
        self._queue.put_nowait(_END)

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.close()
            except Exception:  # noqa: BLE001 - closing a dead socket may fail; it is closed either way
                pass

    async def _wait_backoff(self, attempt: int) -> None:
        await self._return.wait(attempt)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        attempt = 0
        lost_reported = False
        while not self._closed:
            try:
                info = await self._client.connect()
                endpoint = self._client.api_endpoint
                version = self._client.api.api_version
                if endpoint.host.startswith("unix://"):
                    stream = await self._client.run(_RawEvents.open, endpoint.host[len("unix://"):], version)
                    api = None
                else:
                    api = await open_stream_api(self._client)
                    stream = await self._client.run(api.events, decode=True)
            except EngineError as err:
                if not lost_reported:
                    self._queue.put_nowait(EngineLost(str(err), getattr(err, "tried", ())))
                    lost_reported = True
                await self._wait_backoff(attempt)
                attempt += 1
                continue
            except Exception as exc:  # noqa: BLE001 - opening the stream failed: treat as lost
                if not lost_reported:
                    self._queue.put_nowait(EngineLost(f"The engine's event stream failed: {exc}"))
                    lost_reported = True
                await self._wait_backoff(attempt)
                attempt += 1
                continue
            attempt, lost_reported = 0, False
            self._return.back()
            self._stream = stream
            self._queue.put_nowait(EngineConnected(info))
            done: asyncio.Future = loop.create_future()
            engine_id = self._client.tag

            def put_all(events: list, queue=self._queue) -> None:
                for ev in events:
                    queue.put_nowait(ev)

            def pump(stream=stream, api=api, done=done) -> None:
                err: BaseException | None = None
                try:
                    if isinstance(stream, _RawEvents):
                        # A burst arrives as one read: one hand-off to the loop for all of it.
                        for batch in stream.batches():
                            loop.call_soon_threadsafe(put_all, [EngineEvent.from_api(r, engine_id) for r in batch])
                    else:
                        for raw in stream:
                            ev = EngineEvent.from_api(raw, engine_id)
                            loop.call_soon_threadsafe(self._queue.put_nowait, ev)
                except BaseException as exc:  # noqa: BLE001 - any end of the stream is reported
                    err = exc
                finally:
                    if api is not None:
                        api.close()
                    if not loop.is_closed():
                        loop.call_soon_threadsafe(lambda: done.done() or done.set_result(err))

            threading.Thread(target=pump, name="engine-events", daemon=True).start()
            try:
                await done
            finally:
                self._close_stream()
            if self._closed:
                break
            self._queue.put_nowait(EngineLost("The engine stopped answering; reconnecting."))
            lost_reported = True
            await self._wait_backoff(0)


class _RawEvents:
    """The events stream of a local engine read straight from its socket (desktop/engine/raw_http.py)."""

    def __init__(self, sock) -> None:
        self._sock = sock
        self._parser = ChunkedLines()
        self._early: list[bytes] = []

    @classmethod
    def open(cls, socket_path: str, api_version: str) -> "_RawEvents":
        """Returns once the engine has answered (as the SDK's events() does), so a list made
        after this sees every later change as an event."""
        sock = open_stream(socket_path, api_version, "/events")
        self = cls(sock)
        try:
            while not self._parser.headers_done:
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("The engine closed the events stream.")
                self._early += self._parser.feed(data)
            if self._parser.status != 200:
                raise ConnectionError(f"The engine answered {self._parser.status} to the events request.")
        except BaseException:
            sock.close()
            raise
        sock.settimeout(None)  # events may be minutes apart
        return self

    def batches(self):
        """Lists of decoded events, one list per read; ends when the engine closes the stream."""
        p = self._parser
        if self._early:
            yield [json.loads(line) for line in self._early]
            self._early = []
        while True:
            data = self._sock.recv(65536)
            if not data:
                if p.status not in (0, 200):
                    raise ConnectionError(p.error_text() or f"The engine answered {p.status}.")
                return
            lines = p.feed(data)
            if p.headers_done and p.status != 200:
                continue  # the error body is read whole at the end
            if lines:
                yield [json.loads(line) for line in lines]
            if p.finished:
                return

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the reading thread
        except OSError:
            pass
        self._sock.close()

