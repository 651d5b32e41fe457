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
from collections.abc import Callable
from typing import Any

from desktop.state.connection import CONNECTED, CONNECTING
from desktop.state.engines import EngineRegistry, EngineSession
from desktop.state.keyed_store import KeyedStore
from desktop.state.object_store import ObjectStore
from desktop.state.objects_state import ObjectsState
from desktop.state.observable import Listeners

SEP = "|"


def merged_key(item: Any) -> str:
    """The row key of an image, volume or network in a merged store."""
    return f"{item.engine_id}{SEP}{item.id}"


class MergedObjectStore(KeyedStore[Any]):
    """One kind of object store per engine merged into one (what ObjectTableModel reads), keyed
    "engine|id"."""

    def __init__(self, kind: str) -> None:
        super().__init__(merged_key)
        self.kind = kind  # "images", "volumes" or "networks": the ObjectsState attribute
        self._stores: dict[str, ObjectStore] = {}  # engine key → its store
        self._shown: set[str] = set()  # engines whose rows are in the merged store
        self._hooks: dict[str, tuple] = {}

    # -- the store interface -------------------------------------------------------------------
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
            k = f"{engine}{SEP}{raw_key}"
            if k in self._items:
                return k
        return None

    def store(self, engine: str) -> ObjectStore:
        return self._stores[engine]

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

    def _shown_in_order(self) -> list[str]:
        return [k for k in self._stores if k in self._shown]

    # -- following engines ---------------------------------------------------------------------
    def follow(self, engine: str, store: ObjectStore, shown: bool) -> None:
        def on_reset() -> None:
            if engine in self._shown:
                self._drop(engine)
                self._take(engine)
                self.reset.emit()

        def on_upserted(items: list) -> None:
            if engine in self._shown:
                for i in items:
                    self._items[merged_key(i)] = i
                self.upserted.emit(items)

        def on_removed(keys: list[str]) -> None:
            if engine in self._shown:
                gone = [f"{engine}{SEP}{k}" for k in keys if self._items.pop(f"{engine}{SEP}{k}", None) is not None]
                if gone:
                    self.removed.emit(gone)

        self._stores[engine] = store
        self._hooks[engine] = (on_reset, on_upserted, on_removed)
        store.reset.connect(on_reset)
        store.upserted.connect(on_upserted)
        store.removed.connect(on_removed)
        self.set_shown(engine, shown)

    def unfollow(self, engine: str) -> None:
        self.set_shown(engine, False)
        store = self._stores.pop(engine, None)
        hooks = self._hooks.pop(engine, None)
        if store is not None and hooks is not None:
            store.reset.disconnect(hooks[0])
            store.upserted.disconnect(hooks[1])
            store.removed.disconnect(hooks[2])

    def set_shown(self, engine: str, shown: bool) -> None:
        """Show or hide one engine's rows (hidden while the engine is unreachable)."""
        if shown == (engine in self._shown):
            return
        if shown:
            self._shown.add(engine)
            items = self._take(engine)
            if items:
                self.upserted.emit(items)
        else:
            self._shown.discard(engine)
            gone = self._drop(engine)
            if gone:
                self.removed.emit(gone)

    def _take(self, engine: str) -> list:
        items = self._stores[engine].all()
        for i in items:
            self._items[merged_key(i)] = i
        return items

    def _drop(self, engine: str) -> list[str]:
        prefix = f"{engine}{SEP}"
        gone = [k for k in self._items if k.startswith(prefix)]
        for k in gone:
            del self._items[k]
        return gone


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
        self.primary = primary
        self.selected: str | None = None
        self._states: dict[str, ObjectsState] = {}
        self._status_hooks: dict[str, Callable] = {}
        self._wanted = False
        self.images = MergedObjectStore("images")
        self.volumes = MergedObjectStore("volumes")
        self.networks = MergedObjectStore("networks")
        self.usage = MergedUsage(lambda: list(self._states.values()))
        self.usage_changed = Listeners()  # any engine's "used by" index changed
        self.reachability_changed = Listeners()  # an engine came or went: pages update their notice
        for s in registry.sessions:
            self._add(s)
        registry.added.connect(self._add)
        registry.removed.connect(self._remove)

    # -- per engine ----------------------------------------------------------------------------
    def _add(self, s: EngineSession) -> None:
        st = ObjectsState(s.client)
        st.attach(s.sync, lazy=True)
        self._states[s.key] = st
        st.usage.changed.connect(self.usage_changed.emit)
        shown = s.status.current.state == CONNECTED
        for merged in (self.images, self.volumes, self.networks):
            merged.follow(s.key, getattr(st, merged.kind), shown)

        def on_status(state, key=s.key) -> None:
            for merged in (self.images, self.volumes, self.networks):
                merged.set_shown(key, state.state == CONNECTED)
            self.reachability_changed.emit()

        self._status_hooks[s.key] = on_status
        s.status.changed.connect(on_status)
        if self._wanted:
            st.want()
        self.reachability_changed.emit()

    def _remove(self, s: EngineSession) -> None:
        for merged in (self.images, self.volumes, self.networks):
            merged.unfollow(s.key)
        hook = self._status_hooks.pop(s.key, None)
        if hook is not None:
            s.status.changed.disconnect(hook)
        st = self._states.pop(s.key, None)
        if st is not None:
            asyncio.ensure_future(st.aclose())
        self.reachability_changed.emit()

    def state(self, engine: str) -> ObjectsState:
        return self._states[engine]

    def state_for(self, item: Any) -> ObjectsState:
        """The ObjectsState of the engine an image, volume or network belongs to."""
        return self._states.get(item.engine_id) or self._states[self.primary]

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
        return sorted(keys, key=lambda k: k != self.primary) or [self.primary]

    # -- lazy listing --------------------------------------------------------------------------
    def want(self) -> None:
        """An object page is shown: every engine's stores list and follow from now on."""
        self._wanted = True
        for st in self._states.values():
            st.want()

    async def resync(self) -> None:
        await asyncio.gather(*(self._states[k].resync() for k in self.connected()))

    async def on_resync(self) -> None:
        """Late start (pages installed after the first resync): each connected engine's resync hook."""
        await asyncio.gather(*(self._states[k]._on_resync() for k in self.connected()))

    async def aclose(self) -> None:
        for st in list(self._states.values()):
            await st.aclose()
