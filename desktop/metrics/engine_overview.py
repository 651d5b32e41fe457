"""What the dashboard says about the engine: object counts and live container totals.

Counts of containers come from the store (no engine call); images and volumes are listed
when the dashboard opens and again after image/volume events. Totals and the top 5 come
from the StatsHub's streams, which run only while the dashboard watches all containers.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from desktop.engine.errors import EngineError
from desktop.engine.records import EngineEvent
from desktop.engine.stats_formulas import StatsSample
from desktop.metrics.ring_buffer import HISTORY_SECONDS, RingBuffer
from desktop.metrics.stats_hub import StatsHub, Subscription
from desktop.state.observable import Listeners
from desktop.state.per_engine import PerEngine

log = logging.getLogger(__name__)

TOTAL_FIELDS = ("cpu_percent", "mem_used", "streams")
COALESCE_S = 0.3  # the engine's per-second samples arrive in a few batches: one total per tick


@dataclass(frozen=True)
class Counts:
    running: int = 0
    paused: int = 0
    stopped: int = 0
    images: int | None = None
    volumes: int | None = None


class EngineOverview:
    """Listeners: `changed()` when counts change, `totals_changed()` once per stats tick."""

    def __init__(self, client, hub: StatsHub, events: Listeners | None = None,
                 history_seconds: int = HISTORY_SECONDS) -> None:
        self.client, self.hub, self.store = client, hub, hub.store
        self.totals = RingBuffer(TOTAL_FIELDS, history_seconds)
        self.changed = Listeners()
        self.totals_changed = Listeners()
        self._images: int | None = None
        self._volumes: int | None = None
        self._sub: Subscription | None = None
        self._flush: asyncio.TimerHandle | None = None
        self._list_task: asyncio.Task | None = None
        self._objects_dirty = True
        if events is not None:
            events.connect(self._on_engine_event)
        # The counts follow the store, not the events: an event arrives before the store has
        # taken the state it announces, and counting then showed the old state until the next one.
        self._counts_due = False
        for signal in (self.store.reset, self.store.upserted, self.store.removed):
            signal.connect(self._on_store_changed)

    # -- counts -----------------------------------------------------------------------------------
    def counts(self) -> Counts:
        running = paused = stopped = 0
        for c in self.store.all():
            if c.state == "paused":
                paused += 1
            elif c.state in ("running", "restarting"):
                running += 1
            else:
                stopped += 1
        return Counts(running, paused, stopped, self._images, self._volumes)

    async def refresh_objects(self) -> None:
        """List images and volumes (one call each, in the executor)."""
        self._objects_dirty = False
        try:
            api = self.client.api
            images = await self.client.run(api.images, quiet=True)
            volumes = await self.client.run(api.volumes)
        except (EngineError, Exception) as exc:  # noqa: BLE001 - counts stay unknown; the page says so
            log.info("could not count images/volumes: %s", exc)
            return
        self._images = len(images or [])
        self._volumes = len((volumes or {}).get("Volumes") or [])
        self.changed.emit()

    async def on_resync(self) -> None:
        """After every (re)connect: counts may have changed while away."""
        self._objects_dirty = True
        if self.watching:
            await self.refresh_objects()
        self.changed.emit()

    def _on_engine_event(self, ev: EngineEvent) -> None:
        if ev.type in ("image", "volume"):
            self._objects_dirty = True
            if self.watching:
                self._schedule_list()

    def _on_store_changed(self, *_args) -> None:
        if not self.watching or self._counts_due:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.changed.emit()
            return
        self._counts_due = True  # once per turn of the loop, however many rows a burst changes
        loop.call_soon(self._emit_counts)

    def _emit_counts(self) -> None:
        self._counts_due = False
        self.changed.emit()

    def _schedule_list(self) -> None:
        if self._list_task is None or self._list_task.done():
            self._list_task = asyncio.ensure_future(self.refresh_objects())

    # -- live totals ------------------------------------------------------------------------------
    @property
    def watching(self) -> bool:
        return self._sub is not None

    def watch(self) -> None:
        """Start the streams of every running container (dashboard shown)."""
        if self._sub is None:
            self._sub = self.hub.subscribe_all(self._on_batch)
            if self._objects_dirty or self._images is None:
                self._schedule_list()

    def unwatch(self) -> None:
        if self._sub is not None:
            self._sub.close()
            self._sub = None
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None

    def _on_batch(self, batch: list[StatsSample]) -> None:
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(COALESCE_S, self._append_totals)

    def _append_totals(self) -> None:
        self._flush = None
        latest = self.hub.latest_all()
        if not latest:
            return
        t = max(s.time for s in latest)
        self.totals.append(t, (sum(s.cpu_percent for s in latest), sum(s.mem_used for s in latest), len(latest)))
        self.totals_changed.emit()

    def top(self, n: int = 5, by: str = "cpu_percent") -> list[tuple[str, StatsSample]]:
        """The n containers using most CPU (or `mem_used`), as (name, sample)."""
        ranked = sorted(self.hub.latest_all(), key=lambda s: getattr(s, by), reverse=True)[:n]
        out = []
        for s in ranked:
            c = self.store.get(s.container_id)
            out.append((c.name if c else s.container_id[:12], s))
        return out

    def close(self) -> None:
        for signal in (self.store.reset, self.store.upserted, self.store.removed):
            try:
                signal.disconnect(self._on_store_changed)
            except ValueError:
                pass  # closed already
        self.unwatch()
        if self._list_task is not None and not self._list_task.done():
            self._list_task.cancel()


# -- every engine: an overview per engine, made on first use -----------------------------------
# The dashboard's figures for each engine: an EngineOverview per engine, made only when the
# dashboard is first asked to show that engine (the primary's exists from the start).
#
# With `hubs` (a StatsHubs) each overview reads its engine's shared StatsHub, the one the
# Containers page's stats columns and the Stats tabs use too, so a container watched by both
# has one stream. Nothing here streams by itself: an overview streams while the dashboard watches it.
class EngineOverviews:
    """`get(key)`: the overview of that engine (session), made on first use."""

    def __init__(self, registry, primary_key: str, primary: EngineOverview, hubs=None) -> None:
        self.registry = registry
        self.primary_key = primary_key
        self.hubs = hubs  # shared hubs, closed by their owner; without them, a hub per overview
        # engine → (the hub made for it here, or None; its overview)
        self._made: PerEngine[tuple[StatsHub | None, EngineOverview]] = PerEngine(registry, self._make, self._dropped)
        self._made.adopt(primary_key, (None, primary))

    def get(self, key: str) -> EngineOverview | None:
        made = self._made.get(key)
        return made[1] if made is not None else None

    def _make(self, session) -> tuple[StatsHub | None, EngineOverview]:
        own = None
        hub = self.hubs.get(session.key) if self.hubs is not None else None
        if hub is None:
            hub = own = StatsHub(session.client, session.containers)
        overview = EngineOverview(session.client, hub, session.sync.events)
        session.sync.add_resync_hook(overview.on_resync)
        return (own, overview)

    @staticmethod
    def _dropped(key: str, made: tuple[StatsHub | None, EngineOverview], owned: bool) -> None:
        if not owned:
            return  # the primary's overview and hub belong to the app
        own, overview = made
        overview.close()
        if own is not None:
            own.close()

    def close(self) -> None:
        """Close the overviews made here (the primary's belongs to the app)."""
        self._made.close()
