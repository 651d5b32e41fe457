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
from desktop.state.event_ledger import APPLY, RECHECK_LATER, EventLedger
from desktop.state.observable import Listeners

log = logging.getLogger(__name__)

# Container actions that change nothing the list shows.
_QUIET_ACTIONS = ("exec_", "attach", "resize", "top", "export", "commit", "archive-path",
                  "extract-to-dir", "copy")
_BATCH = 100  # ids per filtered list call (keeps the URL short)
# "restarting" ends with a start, or with nothing at all when the engine gives up (no event says
# so): a restarting container is listed again this often until it is in another state.
TRANSIENT_RECHECK_S = 1.0
# The state an event itself announces. The row shows it at once; the filtered list that
# follows brings the rest (status text, ports). In a burst of 200 changes the lists queue
# behind each other on the engine, and the rows waited for them (p95 ~140 ms).
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
        self._stale: set[str] = set()  # listed while the engine's list lagged its own events
        self._transient: set[str] = set()  # listed as restarting: listed again shortly
        self._transient_task: asyncio.Task | None = None
        self._ledger = EventLedger()
        # One list in flight at a time: answers are applied in the order they were asked for.
        self._listing = asyncio.Lock()
        self._flush_task: asyncio.Task | None = None
        self._recheck_task: asyncio.Task | None = None
        self._hooks_task: asyncio.Task | None = None
        self._task: asyncio.Task | None = None
        self._resync_hooks: list = []
        self._closing = False
        self.synced = False  # a full list from this session's own connection has been applied

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
        async for first in self._watch:
            events: list[EngineEvent] = []
            # A burst arrives together: its events reach the store as one change, not one each
            # (200 pauses had the Containers model re-read its groups 200 times).
            for item in (first, *self._watch.ready()):
                if self._closing:
                    return
                if isinstance(item, EngineEvent):
                    events.append(item)
                    continue
                self._on_events(events)
                events = []
                if isinstance(item, EngineConnected):
                    self._ledger.forget()
                    self.status.connected(item.info)
                    await self.resync()
                elif isinstance(item, EngineLost):
                    self.status.lost(item.reason, item.tried)
            if not self._closing:
                self._on_events(events)

    async def resync(self) -> None:
        """Full list, diffed into the store; events queued meanwhile are applied after it."""
        async with self._listing:
            mark = self._ledger.mark()
            try:
                rows = await self.client.list_containers(all=True)
            except EngineError as err:
                log.info("resync failed: %s", err)
                return  # the watch notices the loss and reconnects
            listed = {r.id: r for r in rows}
            keep: set[str] = set()
            for cid in set(listed) | {c.id for c in self.containers.all()}:
                row = listed.get(cid)
                verdict = self._ledger.judge(cid, row.state if row else None, mark)
                if verdict != APPLY:
                    keep.add(cid)
                    listed.pop(cid, None)
                    if verdict == RECHECK_LATER:
                        self._stale.add(cid)
            # Everything asked for before this list is covered by it.
            self._dirty &= self._ledger.newer_than(mark)
            self.containers.sync_all(listed.values(), keep=keep)
            self._transient |= {r.id for r in listed.values() if r.state == "restarting"}
            self.synced = True
        self._schedule_recheck()
        # The containers are what the window opens on: call it loaded now, and let the other
        # stores (images, volumes, disk usage: `system df` can take seconds) list after, beside
        # the events (which must not wait for them).
        self.status.loaded()
        if self._resync_hooks or self.client.info_provisional:
            if self._hooks_task is not None:
                self._hooks_task.cancel()
            self._hooks_task = asyncio.get_running_loop().create_task(self._run_hooks(), name="resync-hooks")

    async def _run_hooks(self) -> None:
        if self.client.info_provisional:
            try:
                self.status.update_info(await self.client.refresh_info())
            except EngineError as err:
                log.info("engine information not refreshed: %s", err)
        for hook in self._resync_hooks:
            try:
                await hook()
            except EngineError as err:
                log.info("resync hook failed: %s", err)

    def _on_events(self, events: list[EngineEvent]) -> None:
        if not events:
            return
        changed: dict[str, object] = {}  # container id -> its row with the state the events announce
        gone: list[str] = []
        for ev in events:
            self.events.emit(ev)
            if ev.type != "container" or not ev.id or ev.action.startswith(_QUIET_ACTIONS):
                continue
            self._ledger.note(ev.id, ev.action)
            if ev.action == "destroy":
                self._dirty.discard(ev.id)
                changed.pop(ev.id, None)
                gone.append(ev.id)
                continue
            state = _EVENT_STATE.get(ev.action)
            if state is not None:
                c = changed.get(ev.id) or self.containers.get(ev.id)
                if c is not None and c.state != state:
                    changes = {"state": state}
                    code = ev.attributes.get("exitCode")
                    if ev.action == "die" and code is not None:
                        changes["status"] = f"Exited ({code}) Less than a second ago"
                    changed[ev.id] = dataclasses.replace(c, **changes)
            self._dirty.add(ev.id)
        if changed:
            self.containers.upsert(list(changed.values()))
        if gone:
            self.containers.remove(gone)
        self._kick()

    def _kick(self) -> None:
        if self._dirty and (self._flush_task is None or self._flush_task.done()) and not self._closing:
            self._flush_task = asyncio.get_running_loop().create_task(self._flush(), name="engine-sync-flush")

    async def _flush(self) -> None:
        # Events that arrive while a list call is in flight are batched into the next one.
        while self._dirty:
            async with self._listing:
                ids, self._dirty = list(self._dirty), set()
                for i in range(0, len(ids), _BATCH):
                    chunk = ids[i:i + _BATCH]
                    mark = self._ledger.mark()
                    try:
                        rows = await self.client.list_containers(all=True, filters={"id": chunk})
                    except EngineError as err:
                        log.info("refresh after event failed: %s", err)
                        self._dirty.update(ids[i:])  # the resync after a reconnect covers them
                        return
                    self._apply(chunk, rows, mark)
                if not self._dirty and not self._stale:
                    self._ledger.settled(mark)
        self._schedule_recheck()

    def _apply(self, chunk: list[str], rows, mark: int) -> None:
        listed = {r.id: r for r in rows}
        upsert, gone = [], []
        for cid in chunk:
            row = listed.get(cid)
            verdict = self._ledger.judge(cid, row.state if row else None, mark)
            if verdict == RECHECK_LATER:
                self._stale.add(cid)
            elif verdict == APPLY:
                (upsert.append(row) if row is not None else gone.append(cid))
        self.containers.upsert(upsert)
        self.containers.remove(gone)
        self._transient |= {r.id for r in upsert if r.state == "restarting"}

    def _schedule_recheck(self) -> None:
        if self._transient and (self._transient_task is None or self._transient_task.done()) and not self._closing:
            self._transient_task = asyncio.get_running_loop().create_task(self._recheck_transient(),
                                                                          name="engine-sync-transient")
        if self._stale and (self._recheck_task is None or self._recheck_task.done()) and not self._closing:
            self._recheck_task = asyncio.get_running_loop().create_task(self._recheck(), name="engine-sync-recheck")

    async def _recheck_transient(self) -> None:
        await asyncio.sleep(TRANSIENT_RECHECK_S)
        self._dirty |= self._transient
        self._transient = set()
        self._kick()

    async def _recheck(self) -> None:
        await asyncio.sleep(self._ledger.delay(self._stale))
        self._dirty |= self._stale
        self._stale = set()
        self._kick()

    async def aclose(self) -> None:
        self._closing = True  # nothing queued may reach the stores (and the UI) any more
        if self._watch is not None:
            await self._watch.aclose()
        for t in (self._recheck_task, self._transient_task, self._hooks_task, self._flush_task, self._task):
            await cancel_and_wait(t)
