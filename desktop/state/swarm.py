"""One engine's swarm, kept current by events: its place in the swarm (from `docker info`), and
keyed stores of nodes, services, secrets and configs.

A manager announces node, service, secret and config events; each one fetches just that object
(inspect) and upserts or removes its row, so a change reaches the page without relisting. After
every (re)connect the stores are listed once. Tasks have no events: desktop/state/swarm_tasks.py
refreshes them only while a service is on screen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from desktop.engine.errors import EngineError, NotFoundError
from desktop.engine.records import EngineEvent
from desktop.engine.swarm import SwarmClient
from desktop.engine.swarm_records import SwarmInfo
from desktop.engine.tasks import cancel_and_wait
from desktop.state.object_store import ObjectStore, key_of
from desktop.state.observable import Listeners
from desktop.state.swarm_tasks import TaskStore

log = logging.getLogger(__name__)

SWARM_EVENT_TYPES = ("node", "service", "secret", "config")


class SwarmState:
    """Swarm stores of one engine; `attach(sync)` follows its events and reconnect resyncs.

    Announces `info_changed(SwarmInfo)` when the engine joins, leaves, or changes role.
    """

    def __init__(self, swarm: SwarmClient) -> None:
        self.swarm = swarm
        self.info: SwarmInfo | None = None
        self.info_changed = Listeners()
        self.nodes = ObjectStore(swarm.nodes, key_of("id"))
        self.services = ObjectStore(self._list_services, key_of("id"))
        self.secrets = ObjectStore(swarm.secrets, key_of("id"))
        self.configs = ObjectStore(swarm.configs, key_of("id"))
        self.tasks = TaskStore(swarm)
        self._fetchers: dict[str, tuple[ObjectStore, Callable[[str], Awaitable]]] = {
            "node": (self.nodes, swarm.node), "service": (self.services, swarm.service),
            "secret": (self.secrets, swarm.secret), "config": (self.configs, swarm.config),
        }
        self._pending: dict[tuple[str, str], asyncio.Task] = {}
        self._again: set[tuple[str, str]] = set()
        self._lazy = False
        self._wanted = True
        self._stale = True
        self._task: asyncio.Task | None = None
        self._closed = False

    async def _list_services(self):
        services, counts = await self.swarm.services_with_counts()
        self.tasks.set_status(counts)  # the list's running counts, until the tasks say otherwise
        return services

    # -- wiring ------------------------------------------------------------------------------
    def attach(self, sync, lazy: bool = False) -> None:
        """With `lazy`, the stores list only once `want()` is called (the Swarm page was opened);
        `docker info` (the engine's role) is read at every connect either way."""
        self._lazy, self._wanted = lazy, not lazy
        sync.events.connect(self.on_event)
        sync.add_resync_hook(self.resync)

    def want(self) -> None:
        if self._wanted:
            return
        self._wanted = True
        if self._stale and self.info is not None and self.info.is_manager:
            # Each list's task is made here, not inside another task: on the page's first show, every
            # extra hop through the loop can wait behind Qt laying out and painting the page.
            self._stale = False
            loads = [asyncio.ensure_future(s.load()) for s in self.stores]
            self._task = asyncio.ensure_future(self._after_loads(loads))

    @property
    def is_manager(self) -> bool:
        return self.info is not None and self.info.is_manager

    @property
    def stores(self) -> tuple[ObjectStore, ...]:
        return (self.nodes, self.services, self.secrets, self.configs)

    # -- resync ------------------------------------------------------------------------------
    async def resync(self) -> None:
        """Read the engine's swarm role; a manager's stores are listed again."""
        await self.refresh_info()

    async def refresh_info(self) -> SwarmInfo:
        info = await self.swarm.info()
        changed = info != self.info
        self.info = info
        if changed:
            # Announced before the lists: the page builds its (empty) tables now, and the task
            # list its visible tables ask for runs beside the other lists instead of after them.
            self.info_changed.emit(info)
        if info.is_manager:
            if self._wanted:
                self._stale = False
                await self._load()
            else:
                self._stale = True
        else:
            for s in self.stores:
                if s.loaded or len(s):
                    s.replace_all([])
            self.tasks.clear()
        return info

    async def _load(self) -> None:
        await asyncio.gather(*(s.load() for s in self.stores))

    async def _after_loads(self, loads: list[asyncio.Future]) -> None:
        results = await asyncio.gather(*loads, return_exceptions=True)
        for res in results:
            if isinstance(res, EngineError):
                self._stale = True
                log.info("swarm list failed: %s", res)
            elif isinstance(res, BaseException):
                raise res

    # -- events ------------------------------------------------------------------------------
    def on_event(self, ev: EngineEvent) -> None:
        if ev.type not in SWARM_EVENT_TYPES or not ev.id or self._closed:
            return
        if not self.is_manager or not self._wanted:
            if ev.type == "node" and self.info is not None and ev.id == self.info.node_id:
                # This engine's own role may have changed (promoted, demoted): read it again.
                self._spawn(("info", ""), self._refresh_info_quietly)
            return
        store, fetch = self._fetchers[ev.type]
        if ev.action == "remove":
            prior = self._pending.pop((ev.type, ev.id), None)
            if prior is not None:
                prior.cancel()
            store.remove([ev.id])
            if ev.type == "service":
                self.tasks.status.pop(ev.id, None)
        else:
            self._spawn((ev.type, ev.id), lambda: self._fetch_one(store, fetch, ev.id))
        if ev.type == "service":
            self.tasks.service_changed(ev.id)
        if ev.type == "node" and ev.id == (self.info.node_id if self.info else ""):
            self._spawn(("info", ""), self._refresh_info_quietly)

    def _spawn(self, key: tuple[str, str], make: Callable[[], Awaitable[None]]) -> None:
        """Run `make()` for this object; if a run is in flight, run it once more after it (a burst
        of events for one object costs at most two fetches, and the last sees the newest state)."""
        if self._closed:
            return
        if key in self._pending and not self._pending[key].done():
            self._again.add(key)
            return

        async def loop() -> None:
            while True:
                self._again.discard(key)
                await make()
                if key not in self._again:
                    return

        task = asyncio.get_running_loop().create_task(loop())
        self._pending[key] = task
        task.add_done_callback(lambda t: self._pending.get(key) is t and self._pending.pop(key, None))

    async def _fetch_one(self, store: ObjectStore, fetch, obj_id: str) -> None:
        try:
            item, stale = await store.fetch(lambda: fetch(obj_id))
        except NotFoundError:
            store.remove([obj_id])
            return
        except EngineError as err:
            log.info("swarm object refresh failed: %s", err)
            return
        if not stale(obj_id):
            store.upsert([item])

    async def settle_node(self, node_id: str, timeout: float = 20.0) -> None:
        """After a promotion or demotion: read the node until its manager status settles.

        The swarm announces the role change, but not the new manager's raft join that follows
        (unreachable → reachable), so the row would keep the first state it was told."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline and not self._closed:
            try:
                node = await self.swarm.node(node_id)
            except NotFoundError:
                self.nodes.remove([node_id])
                return
            self.nodes.upsert([node])
            if node.role == "worker" or node.reachability == "reachable":
                return
            await asyncio.sleep(0.5)  # a raft join takes a few heartbeats; nothing announces its end

    async def _refresh_info_quietly(self) -> None:
        try:
            await self.refresh_info()
        except EngineError as err:
            log.info("swarm info failed: %s", err)

    async def wait_idle(self) -> None:
        while self._pending:
            await asyncio.gather(*list(self._pending.values()), return_exceptions=True)
        for s in self.stores:
            await s.wait_idle()

    async def aclose(self) -> None:
        self._closed = True
        await cancel_and_wait(self._task)
        for t in list(self._pending.values()):
            await cancel_and_wait(t)
        self._pending.clear()
        for s in self.stores:
            await s.aclose()
        await self.tasks.aclose()
