"""StatsHub: a container's stats stream runs only while someone is looking at it.

Viewers (a visible table row, a Stats tab, the dashboard) subscribe; the hub counts them per
container and keeps a stream open exactly for containers that are subscribed AND running.
Paused, stopped and removed containers have their stream closed; a container that starts
again while watched gets a new one. Each streamed container keeps 15 minutes of history.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from desktop.engine.stats import StatsStreams
from desktop.engine.stats_formulas import StatsSample, StreamEnded
from desktop.metrics.ring_buffer import HISTORY_SECONDS, RingBuffer
from desktop.state.containers import ContainerStore
from desktop.state.observable import Listeners
from desktop.state.per_engine import PerEngine

log = logging.getLogger(__name__)

HISTORY_FIELDS = ("cpu_percent", "mem_used", "mem_limit", "net_rx_rate", "net_tx_rate",
                  "blk_read_rate", "blk_write_rate", "pids")


# A container only a table row looks at reads every 2nd sample of its stream: its CPU % cell is
# still the engine's 1-second figure, refreshed every 2 s, for about half the CPU (the idle
# Containers page target is 0.2 % of a core). A Stats tab or the dashboard gets every sample.
GLANCE_EVERY = 2


class Subscription:
    """A viewer's interest; `close()` (idempotent) gives it back."""

    def __init__(self, hub: "StatsHub", cid: str | None, callback, glance: bool = False) -> None:
        self._hub, self.container_id, self.callback = hub, cid, callback
        self.glance = glance
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._hub._release(self)


class StatsHub:
    """Reference-counted stats streams over a ContainerStore.

    Listeners: `samples(list[StatsSample])` for every batch, `streams_changed(count)`.
    """

    def __init__(self, client, store: ContainerStore, *, history_seconds: int = HISTORY_SECONDS,
                 use_mux: bool = True) -> None:
        self.store = store
        self.client = client  # the engine these streams are opened on
        self.history_seconds = history_seconds
        self._streams = StatsStreams(client, self._on_samples, self._on_ended, use_mux=use_mux)
        self._subs: dict[str, list[Subscription]] = {}
        self._all: list[Subscription] = []  # "every running container" (the dashboard)
        self._latest: dict[str, StatsSample] = {}
        self._history: dict[str, RingBuffer] = {}
        self.last_error: dict[str, str] = {}
        self.samples = Listeners()
        self.streams_changed = Listeners()
        self._closed = False
        store.reset.connect(self._on_store_reset)
        # A resync diffs the store: a container that is "Up Less than a second" before and after
        # an engine restart is no change to it, but its stream died with the engine.
        if hasattr(store, "resynced"):
            store.resynced.connect(self._on_store_reset)
        store.upserted.connect(self._on_store_upserted)
        store.removed.connect(self._on_store_removed)

    # -- viewers --------------------------------------------------------------------------------
    def subscribe(self, cid: str, callback: Callable[[StatsSample], None] | None = None, *,
                  glance: bool = False) -> Subscription:
        """Watch one container; `callback(sample)` gets its samples on the loop. `glance`: a
        table cell, content with a sample every GLANCE_EVERY seconds."""
        sub = Subscription(self, cid, callback, glance)
        self._subs.setdefault(cid, []).append(sub)
        self._reconcile([cid])
        return sub

    def subscribe_all(self, callback: Callable[[list[StatsSample]], None] | None = None) -> Subscription:
        """Watch every running container (costly: for the dashboard while it is visible)."""
        sub = Subscription(self, None, callback)
        self._all.append(sub)
        self._reconcile(c.id for c in self.store.all())
        return sub

    def _release(self, sub: Subscription) -> None:
        if sub.container_id is None:
            self._all.remove(sub)
            self._reconcile(list(self._streams.ids()))
            return
        subs = self._subs.get(sub.container_id, [])
        if sub in subs:
            subs.remove(sub)
        if not subs:
            self._subs.pop(sub.container_id, None)
        self._reconcile([sub.container_id])

    def subscribers(self, cid: str) -> int:
        return len(self._subs.get(cid, ())) + (len(self._all) if self._running(cid) else 0)

    # -- what viewers read ----------------------------------------------------------------------
    @property
    def open_streams(self) -> int:
        """Engine stats connections open now."""
        return self._streams.count

    def streaming(self, cid: str) -> bool:
        return cid in self._streams

    def latest(self, cid: str) -> StatsSample | None:
        return self._latest.get(cid)

    def history(self, cid: str) -> RingBuffer | None:
        return self._history.get(cid)

    def latest_all(self) -> list[StatsSample]:
        return [s for cid, s in self._latest.items() if cid in self._streams]

    # -- stream bookkeeping ---------------------------------------------------------------------
    def _running(self, cid: str) -> bool:
        c = self.store.get(cid)
        return c is not None and c.state == "running"

    def _wanted(self, cid: str) -> bool:
        # Not before the client has connected (the window may show a prefetched list first);
        # the resync that follows the connection reconciles every subscription.
        return (not self._closed and bool(self._subs.get(cid) or self._all) and self._running(cid)
                and getattr(self.client, "connected", True))

    def _every(self, cid: str) -> int:
        glance_only = not self._all and all(s.glance for s in self._subs.get(cid, ()))
        return GLANCE_EVERY if glance_only else 1

    def _reconcile(self, ids) -> None:
        before = self._streams.count
        for cid in ids:
            if self._wanted(cid):
                if cid not in self._streams:
                    self.last_error.pop(cid, None)
                    self._streams.open(cid)
                self._streams.set_every(cid, self._every(cid))
            elif cid in self._streams:
                self._streams.close(cid)
                self._latest.pop(cid, None)
            if not self._subs.get(cid) and not (self._all and self._running(cid)):
                self._history.pop(cid, None)  # nobody looks: drop the history too
                self._latest.pop(cid, None)
        if self._streams.count != before:
            self.streams_changed.emit(self._streams.count)

    def _on_store_reset(self) -> None:
        ids = set(self._streams.ids()) | set(self._subs) | ({c.id for c in self.store.all()} if self._all else set())
        self._reconcile(ids)

    def _on_store_upserted(self, rows) -> None:
        self._reconcile([c.id for c in rows])

    def _on_store_removed(self, ids) -> None:
        self._reconcile(ids)

    def _on_samples(self, batch: list[StatsSample]) -> None:
        for s in batch:
            self._latest[s.container_id] = s
            ring = self._history.get(s.container_id)
            if ring is None:
                ring = self._history[s.container_id] = RingBuffer(HISTORY_FIELDS, self.history_seconds)
            ring.append(s.time, (s.cpu_percent, s.mem_used, s.mem_limit, s.net_rx_rate, s.net_tx_rate,
                                 s.blk_read_rate, s.blk_write_rate, s.pids))
            for sub in list(self._subs.get(s.container_id, ())):
                if sub.callback is not None:
                    sub.callback(s)
        for sub in list(self._all):
            if sub.callback is not None:
                sub.callback(batch)
        self.samples.emit(batch)

    def _on_ended(self, ended: StreamEnded) -> None:
        # Not reopened here (that could spin on a failing engine): the next store change for this
        # container, or the resync after a reconnect, reopens it if it is still wanted.
        if ended.reason:
            self.last_error[ended.container_id] = ended.reason
            log.info("stats stream of %s ended: %s", ended.container_id[:12], ended.reason)
        self._latest.pop(ended.container_id, None)
        self.streams_changed.emit(self._streams.count)

    def close(self) -> None:
        """Close every stream (app shutdown)."""
        self._closed = True
        self._streams.close_all()
        self.streams_changed.emit(0)


# -- every engine: one hub per engine session, routing by container ---------------------------
# Live stats for every engine: one StatsHub per engine session, and routing by container.
#
# A container's stats stream must be opened on the engine that runs it. `StatsHubs` keeps one
# StatsHub per session (the primary's is handed in; the others are made on first use, so an
# engine nobody looks at costs nothing) and routes a container id to its engine's hub through
# the merged store's `owner(cid)`. It offers the part of the StatsHub interface the Containers
# page's stats columns use (`subscribe`, `latest`, `samples`), so they cover every engine.
class StatsHubs:
    """`get(key)`: that engine's hub (made on first use); `hub_for(cid)`: the hub of the container's
    engine. Listeners: `samples(list[StatsSample])` of every hub."""

    def __init__(self, registry, owner_of: Callable[[str], "str | None"], primary_key: str,
                 primary: StatsHub, make_hub: Callable[..., StatsHub] = StatsHub) -> None:
        self.registry = registry
        self._owner_of = owner_of
        self.primary_key = primary_key
        self.samples = Listeners()
        self._hubs: PerEngine[StatsHub] = PerEngine(registry, self._make, self._dropped)
        self._make_hub = make_hub
        primary.samples.connect(self.samples.emit)
        self._hubs.adopt(primary_key, primary)

    def _make(self, session) -> StatsHub:
        hub = self._make_hub(session.client, session.containers)
        hub.samples.connect(self.samples.emit)
        return hub

    def _dropped(self, key: str, hub: StatsHub, owned: bool) -> None:
        hub.samples.disconnect(self.samples.emit)
        if owned:
            hub.close()

    # -- hubs ---------------------------------------------------------------------------------------
    def get(self, key: str) -> StatsHub | None:
        """The hub of the engine named `key`, made now if needed; None for an unknown engine."""
        return self._hubs.get(key)

    def existing(self, key: str) -> StatsHub | None:
        """The hub of `key` if one was made (reading never makes one)."""
        return self._hubs.existing(key)

    def hub_for(self, cid: str) -> StatsHub:
        """The hub of the engine that runs `cid` (the primary's when the container is unknown)."""
        key = self._owner_of(cid)
        hub = self.get(key) if key is not None else None
        return hub if hub is not None else self._hubs[self.primary_key]

    @property
    def open_streams(self) -> int:
        """Engine stats connections open now, on every engine."""
        return sum(h.open_streams for h in self._hubs.values())

    # -- the StatsHub interface the stats columns use ---------------------------------------------
    def subscribe(self, cid: str, callback=None, *, glance: bool = False) -> Subscription:
        return self.hub_for(cid).subscribe(cid, callback, glance=glance)

    def latest(self, cid: str):
        # Called for every painted stats cell: a lookup, never a hub made here.
        key = self._owner_of(cid)
        hub = self._hubs.existing(key) if key is not None else None
        return hub.latest(cid) if hub is not None else None

    def streaming(self, cid: str) -> bool:
        key = self._owner_of(cid)
        hub = self._hubs.existing(key) if key is not None else None
        return hub is not None and hub.streaming(cid)

    def close(self) -> None:
        """Close the hubs made here (the primary's belongs to the app)."""
        self._hubs.close()
