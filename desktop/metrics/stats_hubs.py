"""Live stats for every engine: one StatsHub per engine session, and routing by container.

A container's stats stream must be opened on the engine that runs it. `StatsHubs` keeps one
StatsHub per session (the primary's is handed in; the others are made on first use, so an
engine nobody looks at costs nothing) and routes a container id to its engine's hub through
the merged store's `owner(cid)`. It offers the part of the StatsHub interface the Containers
page's stats columns use (`subscribe`, `latest`, `samples`), so they cover every engine.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop.metrics.stats_hub import StatsHub, Subscription
from desktop.state.observable import Listeners


class StatsHubs:
    """`get(key)`: that engine's hub (made on first use); `hub_for(cid)`: the hub of the container's
    engine. Listeners: `samples(list[StatsSample])` of every hub."""

    def __init__(self, registry, owner_of: Callable[[str], "str | None"], primary_key: str,
                 primary: StatsHub, make_hub: Callable[..., StatsHub] = StatsHub) -> None:
        self.registry = registry
        self._owner_of = owner_of
        self.primary_key = primary_key
        self._make_hub = make_hub
        self._hubs: dict[str, StatsHub] = {}
        self.samples = Listeners()
        self._closed = False
        self._adopt(primary_key, primary)
        registry.removed.connect(self._on_registry_removed)

    def _adopt(self, key: str, hub: StatsHub) -> None:
        self._hubs[key] = hub
        hub.samples.connect(self.samples.emit)

    # -- hubs ---------------------------------------------------------------------------------------
    def get(self, key: str) -> StatsHub | None:
        """The hub of the engine named `key`, made now if needed; None for an unknown engine."""
        hub = self._hubs.get(key)
        if hub is not None or self._closed:
            return hub
        session = self.registry.get(key)
        if session is None:
            return None
        hub = self._make_hub(session.client, session.containers)
        self._adopt(key, hub)
        return hub

    def existing(self, key: str) -> StatsHub | None:
        """The hub of `key` if one was made (reading never makes one)."""
        return self._hubs.get(key)

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
        hub = self._hubs.get(key) if key is not None else None
        return hub.latest(cid) if hub is not None else None

    def streaming(self, cid: str) -> bool:
        key = self._owner_of(cid)
        hub = self._hubs.get(key) if key is not None else None
        return hub is not None and hub.streaming(cid)

    # -- lifetime -----------------------------------------------------------------------------------
    def _on_registry_removed(self, session) -> None:
        hub = self._hubs.pop(session.key, None)
        if hub is not None:
            hub.samples.disconnect(self.samples.emit)
            if session.key != self.primary_key:
                hub.close()

    def close(self) -> None:
        """Close the hubs made here (the primary's belongs to the app)."""
        self._closed = True
        self.registry.removed.disconnect(self._on_registry_removed)
        for key, hub in self._hubs.items():
            hub.samples.disconnect(self.samples.emit)
            if key != self.primary_key:
                hub.close()
