"""The dashboard's figures for each engine: an EngineOverview per engine, made only when the
dashboard is first asked to show that engine (the primary's exists from the start).

With `hubs` (a StatsHubs) each overview reads its engine's shared StatsHub, the one the
Containers page's stats columns and the Stats tabs use too, so a container watched by both
has one stream. Nothing here streams by itself: an overview streams while the dashboard watches it.
"""

from __future__ import annotations

from desktop.metrics.engine_overview import EngineOverview
from desktop.metrics.stats_hub import StatsHub


class EngineOverviews:
    """`get(key)`: the overview of that engine (session), made on first use."""

    def __init__(self, registry, primary_key: str, primary: EngineOverview, hubs=None) -> None:
        self.registry = registry
        self.primary_key = primary_key
        self.hubs = hubs  # shared hubs, closed by their owner; without them, a hub per overview
        self._made: dict[str, tuple[StatsHub | None, EngineOverview]] = {primary_key: (None, primary)}
        registry.removed.connect(self._on_registry_removed)

    def get(self, key: str) -> EngineOverview | None:
        if key in self._made:
            return self._made[key][1]
        session = self.registry.get(key)
        if session is None:
            return None
        own = None
        hub = self.hubs.get(key) if self.hubs is not None else None
        if hub is None:
            hub = own = StatsHub(session.client, session.containers)
        overview = EngineOverview(session.client, hub, session.sync.events)
        session.sync.add_resync_hook(overview.on_resync)
        self._made[key] = (own, overview)
        return overview

    def _close(self, key: str, own: StatsHub | None, overview: EngineOverview) -> None:
        if key == self.primary_key:
            return  # the primary's overview and hub belong to the app
        overview.close()
        if own is not None:
            own.close()

    def _on_registry_removed(self, session) -> None:
        made = self._made.pop(session.key, None)
        if made is not None:
            self._close(session.key, *made)

    def close(self) -> None:
        """Close the overviews made here (the primary's belongs to the app)."""
        for key, (own, overview) in self._made.items():
            self._close(key, own, overview)
