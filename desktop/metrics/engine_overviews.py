"""The dashboard's figures for each engine: a StatsHub and an EngineOverview per engine, made
only when the dashboard is first asked to show that engine (the primary's exist from the start).

Nothing here streams by itself: an overview streams while the dashboard watches it.
"""

from __future__ import annotations

from desktop.metrics.engine_overview import EngineOverview
from desktop.metrics.stats_hub import StatsHub


class EngineOverviews:
    """`get(key)`: the overview of that engine (session), made on first use."""

    def __init__(self, registry, primary_key: str, primary: EngineOverview) -> None:
        self.registry = registry
        self._made: dict[str, tuple[StatsHub | None, EngineOverview]] = {primary_key: (None, primary)}
        registry.removed.connect(self._on_registry_removed)

    def get(self, key: str) -> EngineOverview | None:
        if key in self._made:
            return self._made[key][1]
        session = self.registry.get(key)
        if session is None:
            return None
        hub = StatsHub(session.client, session.containers)
        overview = EngineOverview(session.client, hub, session.sync.events)
        session.sync.add_resync_hook(overview.on_resync)
        self._made[key] = (hub, overview)
        return overview

    def _on_registry_removed(self, session) -> None:
        made = self._made.pop(session.key, None)
        if made is not None and made[0] is not None:
            made[1].close()
            made[0].close()

    def close(self) -> None:
        """Close the overviews made here (the primary's belongs to the app)."""
        for hub, overview in self._made.values():
            if hub is not None:
                overview.close()
                hub.close()
