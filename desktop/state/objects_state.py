"""Images, volumes, networks and usage of one engine, wired to EngineSync (events + resync)."""

from __future__ import annotations

import asyncio
import logging

from desktop.engine.client import EngineClient
from desktop.engine.errors import EngineError
from desktop.engine.objects import ObjectsClient
from desktop.engine.records import EngineEvent
from desktop.engine.tasks import cancel_and_wait
from desktop.state.images import ImageStore
from desktop.state.networks import NetworkStore
from desktop.state.sync import EngineSync
from desktop.state.usage import UsageIndex
from desktop.state.volumes import VolumeStore

log = logging.getLogger(__name__)


class ObjectsState:
    """Owns the object stores; `attach(sync)` subscribes them to events and reconnect resyncs."""

    def __init__(self, client: EngineClient) -> None:
        self.calls = ObjectsClient(client)  # the engine calls on these objects
        self.images = ImageStore(self.calls)
        self.volumes = VolumeStore(self.calls)
        self.networks = NetworkStore(self.calls)
        self.usage = UsageIndex(self.calls.container_refs)

    def attach(self, sync: EngineSync, lazy: bool = False) -> None:
        """With `lazy`, nothing is listed until `want()` (an object page was opened): listing
        2,000 images and `system df` costs the engine and, parsing, the UI thread's GIL."""
        self._lazy, self._wanted, self._stale = lazy, not lazy, True
        self._task: asyncio.Task | None = None
        sync.events.connect(self._on_event)
        sync.add_resync_hook(self.on_resync)

    async def on_resync(self) -> None:
        if getattr(self, "_lazy", False) and not self._wanted:
            self._stale = True  # listed when a page first needs it
            return
        self._stale = False
        await self.resync()

    def want(self) -> None:
        """An object page is shown: from now on the stores follow the engine."""
        if getattr(self, "_wanted", True):
            return
        self._wanted = True
        if self._stale:
            self._stale = False
            self._task = asyncio.ensure_future(self._resync_quietly())

    async def _resync_quietly(self) -> None:
        # Wanted while its engine is down (several engines): the reconnect's resync hook lists.
        try:
            await self.resync()
        except EngineError as err:
            self._stale = True
            log.info("object list failed: %s", err)

    async def resync(self) -> None:
        # The objects first, then which containers use them: listing every container (3 s of the
        # engine's time at 20,000) beside the images would hold the Images page's rows back; the
        # "Used by" cells say they are not known yet until then.
        await asyncio.gather(self.images.load(), self.volumes.load(), self.networks.load())
        await self.usage.load()

    def _on_event(self, ev: EngineEvent) -> None:
        self.usage.on_event(ev)
        self.images.on_event(ev)
        self.volumes.on_event(ev)
        self.networks.on_event(ev)

    async def aclose(self) -> None:
        task = getattr(self, "_task", None)
        await cancel_and_wait(task)
        for s in (self.images, self.volumes, self.networks, self.usage):
            await s.aclose()
