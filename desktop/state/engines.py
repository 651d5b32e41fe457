"""Several engines at once: one session per engine, a merged container store, a merged status.

Each EngineSession is fully independent (its own client, store, status, sync), so one engine
failing never empties or stalls another. Container ids are random 256-bit values, so the merged
store can key rows by id. Records carry the session's name as their engine tag: daemons on one
host can share an engine ID, so it cannot tell engines apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from desktop.engine.client import EngineClient
from desktop.engine.endpoints import Endpoint
from desktop.engine.records import Container
from desktop.state.connection import (CONNECTED, CONNECTING, RECONNECTING, UNREACHABLE, ConnectionState,
                                      ConnectionStatus)
from desktop.state.containers import ContainerStore, container_id
from desktop.state.merged_store import MergedStore
from desktop.state.observable import Listeners
from desktop.state.sync import EngineSync


@dataclass
class EngineSession:
    """One engine: its candidate endpoints and the live objects that follow it."""

    key: str  # unique within the registry (the name shown to the user)
    endpoints: tuple[Endpoint, ...]
    client: EngineClient
    containers: ContainerStore
    status: ConnectionStatus
    sync: EngineSync

    @classmethod
    def create(cls, key: str, endpoints: Sequence[Endpoint]) -> "EngineSession":
        client = EngineClient(endpoints)
        client.engine_tag = key
        containers = ContainerStore()
        status = ConnectionStatus()
        return cls(key, tuple(endpoints), client, containers, status, EngineSync(client, containers, status))

    @property
    def engine_id(self) -> str:
        """The tag on this engine's records."""
        return self.key

    def start(self) -> None:
        self.sync.start()

    async def aclose(self) -> None:
        await self.sync.aclose()
        await self.client.aclose()


class EngineRegistry:
    """The engines the app follows; announces `added(session)`, `removed(session)` and
    `primary_changed(session)`.

    The primary is the engine shown where one engine stands for all (the dashboard under "All
    engines", where a new container goes first): the first one followed, until the user makes
    another primary.
    """

    def __init__(self) -> None:
        self.sessions: list[EngineSession] = []
        self.added = Listeners()
        self.removed = Listeners()
        self.primary_changed = Listeners()
        self._primary_key: str | None = None

    @property
    def primary(self) -> EngineSession | None:
        return (self.get(self._primary_key) if self._primary_key else None) or (
            self.sessions[0] if self.sessions else None)

    def set_primary(self, key: str) -> bool:
        """Make a followed engine the primary now. False when no engine `key` is followed."""
        s = self.get(key)
        if s is None:
            return False
        if s is not self.primary:
            self._primary_key = key
            self.primary_changed.emit(s)
        return True

    def add(self, key: str, endpoints: Sequence[Endpoint]) -> EngineSession:
        if self.get(key) is not None:
            raise ValueError(f"an engine named {key!r} already exists")
        session = EngineSession.create(key, endpoints)
        self.sessions.append(session)
        self.added.emit(session)
        return session

    def get(self, key: str) -> EngineSession | None:
        return next((s for s in self.sessions if s.key == key), None)

    def by_engine_id(self, engine_id: str) -> EngineSession | None:
        return next((s for s in self.sessions if s.engine_id == engine_id), None)

    def client_for(self, c: Container) -> EngineClient:
        s = self.by_engine_id(c.engine_id)
        if s is None:
            raise LookupError(f"no engine session for {c.engine_id}")
        return s.client

    def client_for_key(self, key: str) -> EngineClient:
        s = self.get(key)
        if s is None:
            raise LookupError(f"no engine named {key}")
        return s.client

    def label_for(self, engine_id: str) -> str:
        s = self.by_engine_id(engine_id)
        return s.key if s else engine_id[:12]

    async def remove(self, key: str) -> None:
        s = self.get(key)
        if s is None:
            return
        was_primary = s is self.primary
        self.sessions.remove(s)
        if key == self._primary_key:
            self._primary_key = None
        self.removed.emit(s)
        if was_primary and self.primary is not None:
            self.primary_changed.emit(self.primary)
        await s.aclose()

    async def aclose(self) -> None:
        for s in list(self.sessions):
            await s.aclose()


def _same_key(_engine: str, cid: str) -> str:
    return cid


class MergedContainerStore(MergedStore[Container]):
    """Every session's containers in one store (for the 'All engines' view); container ids are
    unique across engines, so they stay the keys, and `owner(cid)` names the engine."""

    def __init__(self, registry: EngineRegistry) -> None:
        super().__init__(container_id, _same_key, bulk_as_reset=True)
        self.registry = registry
        for s in registry.sessions:
            self._follow_session(s)
        registry.added.connect(self._follow_session)
        registry.removed.connect(self._on_registry_removed)

    def _follow_session(self, s: EngineSession) -> None:
        self.follow(s.key, s.containers)

    def _on_registry_removed(self, s: EngineSession) -> None:
        self.unfollow(s.key)


class MergedStatus:
    """A ConnectionStatus-like view over all sessions, for the 'All engines' view."""

    def __init__(self, registry: EngineRegistry) -> None:
        self.registry = registry
        self.changed = Listeners()
        self.current = ConnectionState()
        for s in registry.sessions:
            s.status.changed.connect(self._recompute)
        registry.added.connect(lambda s: (s.status.changed.connect(self._recompute), self._recompute()))
        registry.removed.connect(lambda s: self._recompute())
        self._recompute()

    @property
    def is_connected(self) -> bool:
        return self.current.state == CONNECTED

    def _recompute(self, *_args) -> None:
        states = [(s.key, s.status.current) for s in self.registry.sessions]
        connected = [(k, st) for k, st in states if st.state == CONNECTED]
        lost = tuple(k for k, st in states if st.state in (RECONNECTING, UNREACHABLE))
        if connected:
            k, first = connected[0]
            new = ConnectionState(CONNECTED, first.info, "", (), first.endpoint,
                                  loaded=all(st.loaded for _k, st in connected), lost=lost)
        elif any(st.state == RECONNECTING for _k, st in states):
            k, st = next((k, st) for k, st in states if st.state == RECONNECTING)
            new = ConnectionState(RECONNECTING, st.info, st.message, st.tried, st.endpoint, lost=lost)
        elif states and all(st.state == UNREACHABLE for _k, st in states):
            tried = tuple(t for _k, st in states for t in st.tried)
            msgs = "; ".join(f"{k}: {st.message}" for k, st in states if st.message)
            new = ConnectionState(UNREACHABLE, None, msgs, tried, "", lost=lost)
        else:
            new = ConnectionState(CONNECTING, lost=lost)
        if new != self.current:
            self.current = new
            self.changed.emit(new)


class MergedEvents(Listeners):
    """Every session's engine events as one stream (each EngineEvent carries its engine's tag);
    follows engines added and removed while the app runs."""

    def __init__(self, registry: EngineRegistry) -> None:
        super().__init__()
        self.registry = registry
        for s in registry.sessions:
            s.sync.events.connect(self.emit)
        registry.added.connect(self._on_added)
        registry.removed.connect(self._on_removed)

    def _on_added(self, s: EngineSession) -> None:
        s.sync.events.connect(self.emit)

    def _on_removed(self, s: EngineSession) -> None:
        s.sync.events.disconnect(self.emit)

    def close(self) -> None:
        self.registry.added.disconnect(self._on_added)
        self.registry.removed.disconnect(self._on_removed)
        for s in self.registry.sessions:
            s.sync.events.disconnect(self.emit)
