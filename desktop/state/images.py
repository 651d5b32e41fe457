"""The images of one engine: one full list, then each image event updates just that image.

Tag, untag and pull events name one image: it is inspected and upserted, and its tags are taken
off any other image (a tag names exactly one image; the one that lost it may become dangling).
Delete removes it. Load, import and commit can add several images: those relist.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from desktop.engine.errors import EngineError
from desktop.engine.object_records import Image
from desktop.engine.objects import ObjectsClient
from desktop.engine.records import EngineEvent
from desktop.engine.tasks import cancel_and_wait
from desktop.state.object_store import ObjectStore, key_of

log = logging.getLogger(__name__)

TARGETED_ACTIONS = ("tag", "untag", "pull")
RELIST_ACTIONS = ("import", "load")


class ImageStore(ObjectStore[Image]):
    def __init__(self, objects: ObjectsClient) -> None:
        super().__init__(objects.list_images, key_of("id"))
        self._objects = objects
        self._pending: set[str] = set()
        self._work: asyncio.Task | None = None

    def on_event(self, ev: EngineEvent) -> None:
        if ev.type == "image":
            if ev.action == "delete":
                self._pending.discard(ev.id)
                self.remove([ev.id])
            elif ev.action in TARGETED_ACTIONS and ev.id:
                self._pending.add(ev.id)
                self._kick()
            elif ev.action in RELIST_ACTIONS:
                self.refresh()
        elif ev.type == "container" and ev.action == "commit":
            self.refresh()

    def _kick(self) -> None:
        if self._work is None or self._work.done():
            self._work = asyncio.get_running_loop().create_task(self._apply_pending())

    async def _apply_pending(self) -> None:
        while self._pending:
            refs, self._pending = sorted(self._pending), set()
            try:
                found, stale = await self.fetch(lambda: self._objects.inspect_images(refs))
            except EngineError as err:
                log.info("image update failed: %s", err)
                return
            for ref, image in found.items():
                if image is not None and stale(image.id):
                    continue  # deleted while it was inspected: the answer is already out of date
                if image is None:
                    if ref.startswith("sha256:"):
                        self.remove([ref])
                    else:
                        self.refresh()  # a name that no longer resolves: let a list sort it out
                    continue
                self._take_tags(image)
                self.upsert([image])

    def _take_tags(self, image: Image) -> None:
        moved = set(image.tags)
        if not moved:
            return
        losers = [replace(o, tags=tuple(t for t in o.tags if t not in moved)) for o in self.all()
                  if o.id != image.id and moved.intersection(o.tags)]
        if losers:
            self.upsert(losers)

    def by_reference(self, ref: str) -> Image | None:
        """The image tagged `ref` (a missing tag means latest), or with this id."""
        want = ref if ":" in ref.rsplit("/", 1)[-1] else f"{ref}:latest"
        for im in self.all():
            if want in im.tags or im.id == ref or im.short_id == ref:
                return im
        return None

    async def wait_idle(self) -> None:
        await super().wait_idle()
        while self._work is not None and not self._work.done():
            await asyncio.shield(self._work)

    async def aclose(self) -> None:
        await super().aclose()
        await cancel_and_wait(self._work)
