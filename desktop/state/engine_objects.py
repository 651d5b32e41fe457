"""Images, volumes and networks of every engine: one lazy ObjectsState per engine session, and
merged stores over them for the object pages' "All engines" view.

Each engine keeps its own stores (own list calls, own events), so one engine failing never stalls
or empties another. A merged store shows an engine's rows only while that engine is connected:
when it goes away its rows leave the page (the page says which engine is unreachable), and they
come back with its reconnect resync. Rows are keyed "engine|id": one image (content-addressed)
can be on several engines.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from desktop.engine.errors import EngineError
from desktop.state.connection import CONNECTED, CONNECTING
from desktop.state.engines import EngineRegistry, EngineSession
from desktop.state.merged_store import MergedStore
from desktop.state.objects_state import ObjectsState
from desktop.state.observable import Listeners
from desktop.state.per_engine import PerEngine

log = logging.getLogger(__name__)

SEP = "|"


def merged_key(item: Any) -> str:
    """The row key of an image, volume or network in a merged store."""
    return f"{item.engine_id}{SEP}{item.id}"


def _engine_key(engine: str, key: str) -> str:
    return f"{engine}{SEP}{key}"


def _object_id(item: Any) -> str:
    return item.id


class MergedObjectStore(MergedStore[Any]):
    """One kind of object store per engine merged into one (what ObjectTableModel reads), keyed
    "engine|id": one image (content-addressed) can be on several engines."""

    def __init__(self, kind: str) -> None:
        super().__init__(_object_id, _engine_key)
        self.kind = kind  # "images", "volumes" or "networks": the ObjectsState attribute

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def get(self, key: str):
        """By merged key; a bare id finds the first engine's row with that id (single-engine callers)."""
        item = self._items.get(key)
        if item is None and SEP not in key:
            resolved = self.resolve(key)
            item = self._items.get(resolved) if resolved else None
        return item

    @property
    def loaded(self) -> bool:
        return any(self._stores[k].loaded for k in self._shown)

    def resolve(self, raw_key: str) -> str | None:
        """The merged key of the first shown engine's object with this id (or volume name)."""
        for engine in self._stores:
            k = _engine_key(engine, raw_key)
            if k in self._items:
                return k
        return None

    def by_reference(self, ref: str, engine: str | None = None):
        """The image tagged `ref` (see ImageStore.by_reference) on `engine`, or on the first that has it."""
        for key in ([engine] if engine else self._shown_in_order()):
            im = self._stores[key].by_reference(ref)
            if im is not None:
                return im
        return None

    async def wait_idle(self) -> None:
        for s in list(self._stores.values()):
            await s.wait_idle()


class MergedUsage:
    """'Used by' lookups for callers that know only an id: the union over engines."""

    def __init__(self, states: Callable[[], list[ObjectsState]]) -> None:
        self._states = states

    def image_users(self, image_id: str) -> list[str]:
        return sorted({u for st in self._states() for u in st.usage.image_users(image_id)})

    def volume_users(self, name: str) -> list[str]:
        return sorted({u for st in self._states() for u in st.usage.volume_users(name)})

    def network_users(self, name: str) -> list[str]:
        return sorted({u for st in self._states() for u in st.usage.network_users(name)})

    def containers(self) -> list:
        """Every engine's ContainerRefs, by name."""
        return sorted((r for st in self._states() for r in st.usage.containers()), key=lambda r: r.name)


class EngineObjects:
    """One ObjectsState per engine (listing lazily: nothing until `want()`), merged for the pages.

    `selected` is the engine the window's switcher shows (None: all engines); pages read it to
    filter rows and to choose where a create/pull goes.
    """

    def __init__(self, registry: EngineRegistry, primary: str) -> None:
        self.registry = registry
        self._first_primary = primary
        self.selected: str | None = None
        self._status_hooks: dict[str, tuple[EngineSession, Callable]] = {}
        self._wanted = False
        self.images = MergedObjectStore("images")
        self.volumes = MergedObjectStore("volumes")
        self.networks = MergedObjectStore("networks")
        self.usage = MergedUsage(lambda: self._states.values())
        self.usage_changed = Listeners()  # any engine's "used by" index changed
        self.reachability_changed = Listeners()  # an engine came or went: pages update their notice
        self._states: PerEngine[ObjectsState] = PerEngine(registry, self._add, self._remove, eager=True)

    @property
    def primary(self) -> str:
        """The engine that stands for all now: the registry's primary ("Make primary" moves it)."""
        p = self.registry.primary
        return p.key if p is not None else self._first_primary

    # -- per engine ----------------------------------------------------------------------------
    def _add(self, s: EngineSession) -> ObjectsState:
        st = ObjectsState(s.client)
        st.attach(s.sync, lazy=True)
        st.usage.changed.connect(self.usage_changed.emit)
        shown = s.status.current.state == CONNECTED
        for merged in (self.images, self.volumes, self.networks):
            merged.follow(s.key, getattr(st, merged.kind), shown)

        def on_status(state, key=s.key) -> None:
            for merged in (self.images, self.volumes, self.networks):
                merged.set_shown(key, state.state == CONNECTED)
            self.reachability_changed.emit()

        self._status_hooks[s.key] = (s, on_status)
        s.status.changed.connect(on_status)
        if self._wanted:
            st.want()
        self.reachability_changed.emit()
        return st

    def _remove(self, key: str, st: ObjectsState, _owned: bool) -> None:
        for merged in (self.images, self.volumes, self.networks):
            merged.unfollow(key)
        session, hook = self._status_hooks.pop(key)
        session.status.changed.disconnect(hook)
        asyncio.ensure_future(st.aclose())
        self.reachability_changed.emit()

    def state(self, engine: str) -> ObjectsState:
        return self._states[engine]

    def state_for(self, item: Any) -> ObjectsState:
        """The ObjectsState of the engine an image, volume or network belongs to."""
        return self._states.existing(item.engine_id) or self._states[self.primary]

    def client(self, engine: str):
        """The EngineClient of an engine (for transfers, runs and volume files)."""
        session = self.registry.get(engine)
        if session is None:
            raise LookupError(f"no engine named {engine}")
        return session.client

    def states(self) -> list[ObjectsState]:
        return list(self._states.values())

    @property
    def several(self) -> bool:
        return len(self._states) > 1

    def connected(self) -> list[str]:
        return [s.key for s in self.registry.sessions if s.status.current.state == CONNECTED]

    def unreachable(self) -> list[str]:
        """Engines whose rows are missing because the engine is not answering (connecting is not that)."""
        return [s.key for s in self.registry.sessions if s.status.current.state not in (CONNECTED, CONNECTING)]

    def targets(self) -> list[str]:
        """Where a create/pull may go: the selected engine, or every connected engine (primary first)."""
        if self.selected is not None:
            return [self.selected]
        keys = self.connected()
        first = self.primary
        return sorted(keys, key=lambda k: k != first) or [first]

    # -- lazy listing --------------------------------------------------------------------------
    def want(self) -> None:
        """An object page is shown: every engine's stores list and follow from now on."""
        self._wanted = True
        for st in self._states.values():
            st.want()

    async def resync(self) -> None:
        await asyncio.gather(*(self._states[k].resync() for k in self.connected()))

    async def recheck_usage(self) -> None:
        """Re-read every listed engine's "used by" references. `docker network connect` on a
        container that is not running sends no event, so nothing else would show it."""
        states = [self._states[k] for k in self.connected() if self._states[k].usage.loaded]
        results = await asyncio.gather(*(st.usage.load() for st in states), return_exceptions=True)
        for err in results:
            if isinstance(err, EngineError):
                log.info("usage recheck failed: %s", err)
            elif isinstance(err, BaseException):
                raise err

    async def on_resync(self) -> None:
        """Late start (pages installed after the first resync): each connected engine's resync hook."""
        await asyncio.gather(*(self._states[k].on_resync() for k in self.connected()))

    async def aclose(self) -> None:
        for st in list(self._states.values()):
            await st.aclose()
