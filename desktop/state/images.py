"""The images of one engine, relisted when image events say something changed."""

from __future__ import annotations

from desktop.engine.object_records import Image
from desktop.engine.objects import ObjectsClient
from desktop.engine.records import EngineEvent
from desktop.state.object_store import ObjectStore, key_of

# Image events that change the list (`save`, `push`, `inspect`-like actions do not).
IMAGE_ACTIONS = ("pull", "tag", "untag", "delete", "import", "load", "build", "commit")


class ImageStore(ObjectStore[Image]):
    def __init__(self, objects: ObjectsClient) -> None:
        super().__init__(objects.list_images, key_of("id"))

    def on_event(self, ev: EngineEvent) -> None:
        if ev.type == "image" and ev.action in IMAGE_ACTIONS:
            self.refresh()
        elif ev.type == "container" and ev.action == "commit":
            self.refresh()

    def by_reference(self, ref: str) -> Image | None:
        """The image tagged `ref` (a missing tag means latest), or with this id."""
        want = ref if ":" in ref.rsplit("/", 1)[-1] else f"{ref}:latest"
        for im in self.all():
            if want in im.tags or im.id == ref or im.short_id == ref:
                return im
        return None
