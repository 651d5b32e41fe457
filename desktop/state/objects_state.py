"""Images, volumes, networks and usage of one engine, wired to EngineSync (events + resync)."""

from __future__ import annotations

import asyncio

from desktop.engine.client import EngineClient
from desktop.engine.objects import ObjectsClient
from desktop.engine.records import EngineEvent
from desktop.state.images import ImageStore
from desktop.state.networks import NetworkStore
from desktop.state.sync import EngineSync
from desktop.state.usage import UsageIndex
from desktop.state.volumes import VolumeStore


class ObjectsState:
    """Owns the object stores; `attach(sync)` subscribes them to events and reconnect resyncs."""

    def __init__(self, client: EngineClient) -> None:
        self.objects = ObjectsClient(client)
        self.images = ImageStore(self.objects)
        self.volumes = VolumeStore(self.objects)
        self.networks = NetworkStore(self.objects)
        self.usage = UsageIndex(self.objects.container_refs)

    def attach(self, sync: EngineSync) -> None:
        sync.events.connect(self._on_event)
        sync.add_resync_hook(self.resync)

    async def resync(self) -> None:
        await asyncio.gather(self.usage.load(), self.images.load(), self.volumes.load(), self.networks.load())

    def _on_event(self, ev: EngineEvent) -> None:
        self.usage.on_event(ev)
        self.images.on_event(ev)
        self.volumes.on_event(ev)
        self.networks.on_event(ev)

    async def aclose(self) -> None:
        for s in (self.images, self.volumes, self.networks, self.usage):
            await s.aclose()
