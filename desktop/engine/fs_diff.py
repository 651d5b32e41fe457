"""A container's filesystem diff and the sizes of what it changed (archive stats, one HEAD
request per file on a connection of its own, so the app's calls are not queued behind them)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence

from desktop.engine.archive import ContainerFiles
from desktop.engine.client import EngineClient
from desktop.engine.errors import translate
from desktop.engine.stream_clients import stream_api

MAX_SIZED = 5000  # more changed files than this: the rest show no size (each costs a request)
BATCH = 200


async def container_diff(client: EngineClient, cid: str) -> list[dict]:
    """The Engine API's diff: [{"Path", "Kind"}] (0 changed, 1 added, 2 deleted)."""
    try:
        return await client.run(client.api.diff, cid) or []
    except Exception as exc:  # noqa: BLE001
        raise translate(exc, "read the changes of", f"container {cid[:12]}") from exc


class SizeReader:
    """Stats `paths` in a worker thread; `on_sizes([(path, size, is_dir)])` on the loop, in batches.
    `cancel()` stops it between two requests."""

    def __init__(self, client: EngineClient, cid: str, paths: Sequence[str],
                 on_sizes: Callable[[list[tuple[str, int, bool]]], None]) -> None:
        self.client, self.cid = client, cid
        self.paths = list(paths)[:MAX_SIZED]
        self.skipped = max(0, len(paths) - MAX_SIZED)
        self.on_sizes = on_sizes
        self._stop = threading.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        files = ContainerFiles(self.client, self.cid)

        def deliver(batch):
            if not self._stop.is_set():
                self.on_sizes(batch)

        def work() -> None:
            api = None
            try:
                api = stream_api(self.client, timeout=30)
                batch: list[tuple[str, int, bool]] = []
                for path in self.paths:
                    if self._stop.is_set():
                        break
                    try:
                        e = files.stat_blocking(api, path)
                    except Exception:  # noqa: BLE001 - gone since the diff, or unreadable: no size
                        continue
                    batch.append((path, e.size, e.is_dir))
                    if len(batch) >= BATCH:
                        loop.call_soon_threadsafe(deliver, batch)
                        batch = []
                if batch:
                    loop.call_soon_threadsafe(deliver, batch)
            except Exception as exc:  # noqa: BLE001
                loop.call_soon_threadsafe(lambda e=exc: done.done() or done.set_exception(e))
            finally:
                if api is not None:
                    api.close()
                loop.call_soon_threadsafe(lambda: done.done() or done.set_result(None))

        threading.Thread(target=work, name=f"sizes-{self.cid[:12]}", daemon=True).start()
        try:
            await done
        except asyncio.CancelledError:
            self._stop.set()
            raise

    def cancel(self) -> None:
        self._stop.set()
