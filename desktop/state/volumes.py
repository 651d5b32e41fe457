"""The volumes of one engine, relisted on volume create/destroy; sizes from disk usage on demand."""

from __future__ import annotations

from dataclasses import replace

from desktop.engine.object_records import Volume
from desktop.engine.objects import ObjectsClient
from desktop.engine.records import EngineEvent
from desktop.state.object_store import ObjectStore, key_of


class VolumeStore(ObjectStore[Volume]):
    def __init__(self, objects: ObjectsClient) -> None:
        super().__init__(self._list, key_of("name"))
        self._objects = objects
        self._sizes: dict[str, int] = {}

    async def _list(self) -> list[Volume]:
        return [replace(v, size=self._sizes.get(v.name)) for v in await self._objects.list_volumes()]

    def on_event(self, ev: EngineEvent) -> None:
        if ev.type == "volume" and ev.action in ("create", "destroy"):
            self.refresh()

    async def load_sizes(self) -> None:
        """Fill the size column from `system df` (costly on big volumes: on demand, not per event)."""
        du = await self._objects.disk_usage()
        self._sizes = {r.id: r.size for r in du.of("volume")}
        self.upsert(replace(v, size=self._sizes.get(v.name)) for v in self.all())
