import asyncio

import pytest

from desktop.engine.endpoints import Endpoint
from desktop.state.engines import EngineRegistry
from desktop.state.history.store import HistoryStore


@pytest.fixture
def run():
    """Run a coroutine to completion on a fresh loop (the history core needs no Qt)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop.run_until_complete
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def history_path(tmp_path):
    return tmp_path / "data" / "history.sqlite"


class Followed:
    """An engine session with its events recorded; helpers wait on real events, never sleep."""

    def __init__(self, host: str, store: HistoryStore, key: str = "local") -> None:
        from desktop.state.history.recorder import EventRecorder

        self.registry = EngineRegistry()
        self.session = self.registry.add(key, [Endpoint(host, "--host")])
        self.store = store
        self.recorder = EventRecorder(store, self.registry)
        self._waiters: list = []
        self.closed = False
        self._resyncs: list = []
        self.session.sync.events.connect(self._on_event)

    def _on_event(self, ev) -> None:
        for pred, fut in list(self._waiters):
            if not fut.done() and pred(ev):
                fut.set_result(ev)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        ready = loop.create_future()

        async def hook() -> None:
            if not ready.done():
                ready.set_result(None)
            for fut in self._resyncs:
                if not fut.done():
                    fut.set_result(None)

        self.session.sync.add_resync_hook(hook)
        self.session.start()
        await asyncio.wait_for(ready, 30)

    def next_resync(self) -> asyncio.Future:
        """Done after the next (re)connection's list: the recorder is watching again by then."""
        fut = asyncio.get_running_loop().create_future()
        self._resyncs.append(fut)
        return fut

    def expect(self, pred) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append((pred, fut))
        return fut

    async def settle(self) -> None:
        """Backfill done and every queued write committed."""
        for task in list(self.recorder._tasks):
            await task
        await asyncio.wrap_future(self.store.flush())

    async def aclose(self) -> None:
        if not self.closed:
            self.closed = True
            await self.recorder.aclose()
            await self.registry.aclose()


@pytest.fixture
def followed(run, engine_host, history_path, test_image):
    made = []

    async def make(key: str = "local", host: str | None = None, store: HistoryStore | None = None) -> Followed:
        if store is None:
            store = HistoryStore(history_path)
            store.start()
        f = Followed(host or engine_host, store, key)
        made.append(f)
        await f.start()
        return f

    yield make
    for f in made:
        run(f.aclose())
        run(f.store.aclose())
