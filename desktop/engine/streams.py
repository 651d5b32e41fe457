"""Long engine streams (pull, push, build, save, load, export) in a worker thread, cancellable.

Each job gets its own SDK client with no read timeout (a big layer can be silent for minutes),
records the HTTP response the SDK opens, and cancels by shutting that socket down — the same
trick as docker-py's CancellableStream — so the worker's blocking read returns at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import docker
from docker.types.daemon import CancellableStream

from desktop.engine.errors import EngineError, translate
from desktop.engine.stream_clients import stream_api

if TYPE_CHECKING:
    from desktop.engine.client import EngineClient

log = logging.getLogger(__name__)


class StreamError(EngineError):
    """The engine reported an error inside a progress stream (`{"error": ...}`)."""


class CancelledByUser(EngineError):
    """The user cancelled the job."""


def _record_responses(api: docker.APIClient, sink: list) -> None:
    # Wrap the two SDK helpers every streaming call goes through so we hold the response.
    for name in ("_stream_helper", "_stream_raw_result"):
        orig = getattr(api, name)

        def recorder(response, *a, _orig=orig, **k):
            sink.append(response)
            return _orig(response, *a, **k)

        setattr(api, name, recorder)


def stream_error(item: Any) -> str | None:
    """The error text carried by a JSON progress item, if any."""
    if isinstance(item, dict) and (item.get("error") or item.get("errorDetail")):
        return str(item.get("error") or (item.get("errorDetail") or {}).get("message") or "unknown error")
    return None


class StreamJob:
    """`await job.run()` drives `start(api)` (a blocking iterable) in a thread; `cancel()` stops it.

    Args:
        start: called in the worker with a fresh APIClient; returns the SDK's stream.
        on_item: called on the event loop for every item (progress JSON or raw chunk).
        action/target: for error sentences ("pull", "image busybox").
        check_errors: raise StreamError when a JSON item carries an error.
    """

    def __init__(self, client: "EngineClient", start: Callable[[docker.APIClient], Iterable],
                 on_item: Callable[[Any], None] | None = None, *, action: str = "", target: str = "",
                 check_errors: bool = True, undo: Callable[[], None] | None = None) -> None:
        self._client = client
        # Removes what a finished job left (a saved file) when the user's cancel arrived only
        # after the last byte: they are told "Cancelled", so nothing of it may remain.
        self._undo = undo
        self._start = start
        self._on_item = on_item or (lambda item: None)
        self._action, self._target = action, target
        self._check = check_errors
        self._responses: list = []
        self._cancelled = threading.Event()
        self.last_error_item: Any = None

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Stop the stream; safe from any thread, any number of times."""
        self._cancelled.set()
        for resp in list(self._responses):
            try:
                CancellableStream(None, resp).close()
            except Exception:  # noqa: BLE001 - already closed or never opened
                pass

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future = loop.create_future()

        def deliver(item: Any) -> None:
            try:
                self._on_item(item)
            except Exception:  # noqa: BLE001 - a UI callback bug must not kill the stream
                log.exception("progress callback failed")

        def finish(err: BaseException | None) -> None:
            if not done.done():
                done.set_result(err)

        def worker() -> None:
            err: BaseException | None = None
            api = None
            stream = None
            try:
                api = stream_api(self._client)
                _record_responses(api, self._responses)
                if self._cancelled.is_set():
                    return
                stream = self._start(api)
                for item in stream:
                    if self._cancelled.is_set():
                        break
                    if self._check and (msg := stream_error(item)):
                        self.last_error_item = item
                        loop.call_soon_threadsafe(deliver, item)
                        err = StreamError(f"Could not {self._action or 'finish'} {self._target}: {msg}", msg)
                        break
                    loop.call_soon_threadsafe(deliver, item)
            except BaseException as exc:  # noqa: BLE001 - reported to the awaiting coroutine
                err = exc
            finally:
                # Close the generator now so its own clean-up (partial files) runs here, not at GC.
                close = getattr(stream, "close", None)
                if close is not None:
                    try:
                        close()
                    except Exception:  # noqa: BLE001
                        pass
                if api is not None:
                    api.close()
                if not loop.is_closed():
                    loop.call_soon_threadsafe(finish, err)

        threading.Thread(target=worker, name=f"engine-{self._action or 'stream'}", daemon=True).start()
        try:
            err = await asyncio.shield(done)
        except asyncio.CancelledError:
            self.cancel()
            raise
        if self._cancelled.is_set():
            if err is None and self._undo is not None:
                await asyncio.get_running_loop().run_in_executor(None, self._undo)
            raise CancelledByUser(f"Cancelled: {self._action} {self._target}.".replace("  ", " "))
        if err is not None:
            if isinstance(err, EngineError):
                raise err
            raise translate(err, self._action, self._target) from err
