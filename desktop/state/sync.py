"""Keeps the stores in step with the engine: one list, then events; full resync on reconnect."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from desktop.engine.client import EngineClient
from desktop.engine.errors import EngineError
from desktop.engine.events import EngineWatch
from desktop.engine.records import EngineConnected, EngineEvent, EngineLost
from desktop.engine.tasks import cancel_and_wait
from desktop.state.connection import ConnectionStatus
from desktop.state.containers import ContainerStore
from desktop.state.observable import Listeners

log = logging.getLogger(__name__)

# Container actions that change nothing the list shows.
_QUIET_ACTIONS = ("exec_", "attach", "resize", "top", "export", "commit", "archive-path",
                  "extract-to-dir", "copy")
_BATCH = 100  # ids per filtered list call (keeps the URL short)
# The state an event itself announces. The row shows it at once; the filtered list that
# follows brings the rest (status text, exit code, ports). In a burst of 200 changes the
# lists queue behind each other on the engine, and the rows waited for them (p95 ~140 ms).
_EVENT_STATE = {"pause": "paused", "unpause": "running", "start": "running", "die": "exited"}


class EngineSync:
    """Consumes an EngineWatch and keeps a ContainerStore and ConnectionStatus current."""

    def __init__(self, client: EngineClient, containers: ContainerStore, status: ConnectionStatus) -> None:
        self.client = client
        self.containers = containers
        self.status = status
        self.events = Listeners()  # every EngineEvent, for other stores and the activity panel
        self._watch: EngineWatch | None = None
        self._dirty: set[str] = set()
        self._flush_task: asyncio.Task | None = None
        self._task: asyncio.Task | None = None
        self._resync_hooks: list = []
        self._closing = False

    def add_resync_hook(self, hook) -> None:
        """`async hook()` runs after every (re)connect's container resync: other stores list here."""
        self._resync_hooks.append(hook)

    def start(self) -> asyncio.Task:
        self._task = asyncio.get_running_loop().create_task(self.run(), name="engine-sync")
        return self._task

    def retry_now(self) -> None:
        if self._watch is not None:
            self._watch.retry_now()

    async def run(self) -> None:
        self._watch = EngineWatch(self.client)
        async for item in self._watch:
            if self._closing:
                break
            if isinstance(item, EngineEvent):
                self._on_event(item)
            elif isinstance(item, EngineConnected):
                self.status.connected(item.info)
                await self.resync()
            elif isinstance(item, EngineLost):
                self.status.lost(item.reason, item.tried)

    async def resync(self) -> None:
        """Full list; replaces the store. Events queued meanwhile are applied after."""
        try:
            rows = await self.client.list_containers(all=True)
        except EngineError as err:
            log.info("resync failed: %s", err)
            return  # the watch notices the loss and reconnects
        self._dirty.clear()
        self.containers.sync_all(rows)
        # The containers are what the window opens on: call it loaded now, and let the other
        # stores (images, volumes, disk usage: `system df` can take seconds) list after.
        self.status.loaded()
        for hook in self._resync_hooks:
            try:
                await hook()
            except EngineError as err:
                log.info("resync hook failed: %s", err)

    def _on_event(self, ev: EngineEvent) -> None:
        self.events.emit(ev)
        if ev.type != "container" or not ev.id:
            return
        if ev.action == "destroy":
            self._dirty.discard(ev.id)
            self.containers.remove([ev.id])
            return
        if ev.action.startswith(_QUIET_ACTIONS):
            return
        state = _EVENT_STATE.get(ev.action)
        if state is not None:
            c = self.containers.get(ev.id)
            if c is not None and c.state != state:
                self.containers.upsert([dataclasses.replace(c, state=state)])
        self._dirty.add(ev.id)
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        # Events that arrive while a list call is in flight are batched into the next one.
        while self._dirty:
            ids, self._dirty = list(self._dirty), set()
            for i in range(0, len(ids), _BATCH):
                chunk = ids[i:i + _BATCH]
                try:
                    rows = await self.client.list_containers(all=True, filters={"id": chunk})
                except EngineError as err:
                    log.info("refresh after event failed: %s", err)
                    return
                found = {r.id for r in rows}
                self.containers.upsert(rows)
                self.containers.remove([cid for cid in chunk if cid not in found])

    async def aclose(self) -> None:
        self._closing = True  # nothing queued may reach the stores (and the UI) any more
        if self._watch is not None:
            await self._watch.aclose()
        for t in (self._flush_task, self._task):
            await cancel_and_wait(t)
