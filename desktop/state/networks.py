"""The networks of one engine, relisted on network create/destroy."""

from __future__ import annotations

from desktop.engine.object_records import Network
from desktop.engine.objects import ObjectsClient
from desktop.engine.records import EngineEvent
from desktop.state.object_store import ObjectStore, key_of


class NetworkStore(ObjectStore[Network]):
    def __init__(self, objects: ObjectsClient) -> None:
        super().__init__(objects.list_networks, key_of("id"))

    def on_event(self, ev: EngineEvent) -> None:
        if ev.type == "network" and ev.action in ("create", "destroy", "remove"):
            self.refresh()

    def by_name(self, name: str) -> Network | None:
        return next((n for n in self.all() if n.name == name), None)
