"""Swarm tasks, refreshed only while a view shows them.

The engine announces no task events (a task's container events reach only its own node), so
tasks are listed while someone watches: a watch is a lease on one service's tasks (with their
history), or on every service's current tasks (the Services list's running counts). The lease
holders' tasks are listed at once, again right after any event about a watched service, and
then every `period` seconds until the last lease is released. Nothing is listed with no lease.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import TYPE_CHECKING

from desktop.engine.errors import EngineError
from desktop.engine.swarm_records import SwarmTask
from desktop.engine.tasks import cancel_and_wait
from desktop.state.object_store import ObjectStore, key_of
from desktop.state.observable import Listeners

if TYPE_CHECKING:
    from desktop.engine.swarm import SwarmClient

log = logging.getLogger(__name__)
ALL = "*"  # a lease on every service's current tasks
CURRENT = "current"  # a lease on some services' current tasks (the rows a table shows)
DEFAULT_PERIOD = 1.0
# Every service's tasks (the lists' running counts) is the heavy list: 1,000 tasks cost the engine
# ~80 ms and this process ~50 ms. A list of counts may lag a little more than one service's page.
ALL_PERIOD = 2.0


class TaskLease:
    """Held by a view while it shows tasks; `release()` when it stops."""

    def __init__(self, store: "TaskStore", scope: str, services: frozenset[str] = frozenset()) -> None:
        self._store = store
        self.scope = scope
        self.services = services
        self.released = False

    def update(self, services) -> None:
        """A `watch_current` lease's services changed (the table scrolled): list the new ones now."""
        services = frozenset(services)
        if services != self.services and not self.released:
            self.services = services
            self._store._kick()

    def release(self) -> None:
        if not self.released:
            self.released = True
            self._store._release(self)


class TaskStore(ObjectStore[SwarmTask]):
    """Tasks keyed by id; `watch(service_id)` / `watch_all()` start refreshing, release stops."""

    def __init__(self, swarm: "SwarmClient", period: float = DEFAULT_PERIOD) -> None:
        super().__init__(self._list_watched, key_of("id"))
        self.swarm = swarm
        self.period = period
        self._leases: list[TaskLease] = []
        self._loop_task: asyncio.Task | None = None
        self._wake: asyncio.Event | None = None
        self.refreshes = 0  # how many lists ran (tests check that nothing runs unwatched)
        self.refreshed = Listeners()  # after each list, changed or not
        # Table cells read these per paint: counted once per change, not once per cell.
        self._running: Counter | None = None
        self._per_node: Counter | None = None
        # service id → running tasks, as the engine counts them (`watch_current` leases).
        self.status: dict[str, int] = {}
        for lst in (self.reset, self.upserted, self.removed):
            lst.connect(self._invalidate)

    # -- leases ------------------------------------------------------------------------------
    def watch(self, service_id: str) -> TaskLease:
        return self._add(TaskLease(self, service_id))

    def watch_all(self) -> TaskLease:
        return self._add(TaskLease(self, ALL))

    def watch_current(self, service_ids) -> TaskLease:
        """The current tasks of these services (a table's visible rows); `lease.update(ids)` follows scrolling."""
        return self._add(TaskLease(self, CURRENT, frozenset(service_ids)))

    @property
    def current_services(self) -> frozenset[str]:
        out: set[str] = set()
        for lease in self._leases:
            if lease.scope == CURRENT:
                out |= lease.services
        return frozenset(out)

    @property
    def watched(self) -> set[str]:
        return {lease.scope for lease in self._leases}

    def _add(self, lease: TaskLease) -> TaskLease:
        self._leases.append(lease)
        self._kick()
        return lease

    def _release(self, lease: TaskLease) -> None:
        if lease in self._leases:
            self._leases.remove(lease)
        if not self._leases:
            # The loop ends after the list in flight (if any): a tab switch releases one lease
            # and takes another at once, and the list under way serves the new one.
            if self._wake is not None:
                self._wake.set()
        else:
            self._kick()

    def service_changed(self, service_id: str) -> None:
        """A service event: its tasks are about to change; list now if anyone watches them."""
        scopes = self.watched
        if ALL in scopes or service_id in scopes or service_id in self.current_services:
            self._kick()

    def _kick(self) -> None:
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()
        if self._loop_task is None or self._loop_task.done():
            self._loop_task = asyncio.get_running_loop().create_task(self._run(), name="swarm-tasks")

    async def _run(self) -> None:
        wake = self._wake
        while self._leases:
            wake.clear()
            try:
                self.merge(await self._list_fresh())
            except EngineError as err:
                log.info("task list failed: %s", err)
            self.refreshed.emit()
            if not self._leases:
                return
            light = not (self.watched - {ALL, CURRENT})  # only counts: no service page open
            period = self.period * (ALL_PERIOD / DEFAULT_PERIOD) if light else self.period
            try:
                await asyncio.wait_for(wake.wait(), timeout=period)
            except asyncio.TimeoutError:
                pass

    async def _list_watched(self) -> list[SwarmTask]:
        scopes = self.watched
        if not scopes:
            return []
        self.refreshes += 1
        calls = []
        known = dict(self._items)  # a snapshot: the worker thread reads it while the loop goes on
        if ALL in scopes:
            calls.append(self.swarm.tasks(desired_state="running", known=known))
        elif self.current_services:
            # Only counts are shown for these rows: the engine counts their running tasks itself
            # (what `docker service ls` shows), in one call, instead of sending every task over.
            await self._count(sorted(self.current_services))
        services = sorted(scopes - {ALL, CURRENT})
        if services:
            calls.append(self.swarm.tasks(service=services, known=known))
        found: dict[str, SwarmTask] = {}
        for batch in await asyncio.gather(*calls):
            for t in batch:
                found[t.id] = t
        return list(found.values())

    # -- views -------------------------------------------------------------------------------
    def of_service(self, service_id: str) -> list[SwarmTask]:
        return [t for t in self.all() if t.service_id == service_id]

    def of_node(self, node_id: str) -> list[SwarmTask]:
        return [t for t in self.all() if t.node_id == node_id and t.current]

    def _invalidate(self, *_a) -> None:
        self._running = self._per_node = None

    def set_status(self, counts: dict[str, int]) -> None:
        """Running counts the engine gave with a services list."""
        self.status.update(counts)
        self._invalidate()
        self.refreshed.emit()

    async def _count(self, service_ids: list[str]) -> None:
        counts = await self.swarm.running_counts(service_ids)
        for sid in service_ids:
            self.status[sid] = counts.get(sid, 0)
        self._invalidate()

    def running_counts(self) -> Counter:
        """service id → tasks running now (the Services list's 'running' figure)."""
        if self._running is None:
            counts = Counter(t.service_id for t in self.all() if t.running and t.desired_state == "running")
            listed = self.watched - {ALL, CURRENT}  # services whose every task is listed: exact
            if ALL not in self.watched:
                for sid, n in self.status.items():
                    if sid not in listed:
                        counts[sid] = n
            self._running = counts
        return self._running

    def node_counts(self) -> Counter:
        """node id → its current tasks (the Nodes list's 'tasks' figure)."""
        if self._per_node is None:
            self._per_node = Counter(t.node_id for t in self.all() if t.current)
        return self._per_node

    def clear(self) -> None:
        if len(self) or self.loaded:
            self.replace_all([])

    async def wait_refreshed(self) -> None:
        """Until one more list has been merged (tests and the bench wait on this)."""
        done = asyncio.get_running_loop().create_future()

        def on_refreshed() -> None:
            if not done.done():
                done.set_result(None)

        self.refreshed.connect(on_refreshed)
        try:
            await done
        finally:
            self.refreshed.disconnect(on_refreshed)

    async def aclose(self) -> None:
        self._leases.clear()
        await cancel_and_wait(self._loop_task)
        await super().aclose()
