"""Which containers use which image, volume and network ("used by" columns), kept from events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from desktop.engine.errors import EngineError
from desktop.engine.object_records import ContainerRefs
from desktop.engine.records import EngineEvent
from desktop.engine.tasks import cancel_and_wait
from desktop.state.event_ledger import RECHECK
from desktop.state.observable import Listeners

log = logging.getLogger(__name__)

# Container events after which its image, mounts, networks or name may differ.
_REFS_ACTIONS = ("create", "rename", "connect", "disconnect", "update")


class UsageIndex:
    """ContainerRefs by container id, and the reverse indexes; announces `changed()`."""

    def __init__(self, lister: Callable[[list[str] | None], Awaitable[list[ContainerRefs]]]) -> None:
        self._lister = lister
        self._refs: dict[str, ContainerRefs] = {}
        self._by_image: dict[str, list[str]] = {}
        self._by_volume: dict[str, list[str]] = {}
        self._by_network: dict[str, list[str]] = {}
        self.changed = Listeners()
        self._dirty: set[str] = set()
        self._task: asyncio.Task | None = None
        self.loaded = False
        # container id → {network name: attached?} from `network connect/disconnect` events. The
        # engine sends those before its container list shows the change: a list that still
        # contradicts one is asked again a little later (desktop/state/event_ledger.py).
        self._expect: dict[str, dict[str, bool]] = {}
        self._attempts: dict[str, int] = {}
        self._touched: set[str] | None = None  # containers with events while a full list is out

    def _reindex(self) -> None:
        img: dict[str, list[str]] = {}
        vol: dict[str, list[str]] = {}
        net: dict[str, list[str]] = {}
        for r in sorted(self._refs.values(), key=lambda r: r.name):
            img.setdefault(r.image_id, []).append(r.name)
            for v in r.volumes:
                vol.setdefault(v, []).append(r.name)
            for n in r.networks:
                net.setdefault(n, []).append(r.name)
        self._by_image, self._by_volume, self._by_network = img, vol, net
        self.changed.emit()

    def image_users(self, image_id: str) -> list[str]:
        return self._by_image.get(image_id, [])

    def volume_users(self, name: str) -> list[str]:
        return self._by_volume.get(name, [])

    def network_users(self, name: str) -> list[str]:
        return self._by_network.get(name, [])

    def container_name(self, cid: str) -> str:
        r = self._refs.get(cid)
        return r.name if r else cid[:12]

    def containers(self) -> list[ContainerRefs]:
        return sorted(self._refs.values(), key=lambda r: r.name)

    async def load(self) -> None:
        """The full list. A container with an event while it was out may be older in it than
        what its own refresh brought: those are read again after."""
        self._touched = touched = set()
        try:
            rows = await self._lister(None)
        finally:
            self._touched = None
        self._refs = {r.id: r for r in rows}
        self.loaded = True
        self._reindex()
        for cid in touched:
            self.refresh_container(cid)

    def on_event(self, ev: EngineEvent) -> None:
        cid = None
        if ev.type == "container":
            if ev.action == "destroy":
                if self._touched is not None:
                    self._touched.add(ev.id)
                if self._refs.pop(ev.id, None) is not None:
                    self._reindex()
                return
            if ev.action.startswith(_REFS_ACTIONS):
                cid = ev.id
        elif ev.type == "network" and ev.action in ("connect", "disconnect"):
            cid = ev.attributes.get("container")
            net = ev.attributes.get("name")
            if cid and net:
                self._expect.setdefault(cid, {})[net] = ev.action == "connect"
                self._attempts.pop(cid, None)
        if cid:
            if self._touched is not None:
                self._touched.add(cid)
            self.refresh_container(cid)

    def refresh_container(self, cid: str) -> None:
        """Re-read one container's references soon. Needed after connecting a container that is not
        running: the engine records it without a `network connect` event."""
        self._dirty.add(cid)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        while self._dirty:
            ids, self._dirty = sorted(self._dirty), set()
            try:
                rows = await self._lister(ids)
            except EngineError as err:
                log.info("usage refresh failed: %s", err)
                return
            found = {r.id: r for r in rows}
            later = []
            for cid in ids:
                if self._lagging(cid, found.get(cid)):
                    later.append(cid)
                elif cid in found:
                    self._refs[cid] = found[cid]
                else:
                    self._refs.pop(cid, None)
            self._reindex()
            if later:
                n = min(self._attempts[c] for c in later)
                await asyncio.sleep(RECHECK[n - 1])
                self._dirty.update(later)

    def _lagging(self, cid: str, refs: ContainerRefs | None) -> bool:
        """Does the list still contradict a connect/disconnect event (and may it be asked again)?"""
        want = self._expect.get(cid)
        if want and refs is not None and any((net in refs.networks) != on for net, on in want.items()):
            n = self._attempts.get(cid, 0)
            if n < len(RECHECK):
                self._attempts[cid] = n + 1
                return True
        self._expect.pop(cid, None)
        self._attempts.pop(cid, None)
        return False

    async def aclose(self) -> None:
        await cancel_and_wait(self._task)
