"""EventRecorder: every event of every followed engine into the history, with the times the app
watched each engine; after a gap, what the engine still has is read back (`events --since`)."""

from __future__ import annotations

import asyncio
import logging
import time

from desktop.engine.errors import EngineError
from desktop.engine.event_history import fetch_events
from desktop.state.connection import CONNECTED
from desktop.state.history.store import HistoryStore
from desktop.state.observable import Listeners

log = logging.getLogger(__name__)


def _last_watched(conn, key: str) -> int | None:
    row = conn.execute("SELECT MAX(end) FROM watching WHERE engine=(SELECT id FROM engines WHERE key=?)",
                       (key,)).fetchone()
    return row[0] if row else None


class EventRecorder:
    """Follows the registry's sessions (engines added and removed while running included)."""

    def __init__(self, store: HistoryStore, registry) -> None:
        self.store = store
        self.registry = registry
        self._hooks: dict[str, tuple] = {}
        self._watching: set[str] = set()
        self._tasks: set[asyncio.Task] = set()
        self.filled = 0  # events read back after gaps (tests, the timeline's note)
        self.backfilled = Listeners()  # (count): events read back after a gap are in the history
        self._closed = False
        for s in registry.sessions:
            self._follow(s)
        registry.added.connect(self._follow)
        registry.removed.connect(self._unfollow)

    @property
    def busy(self) -> bool:
        """Reading back what an engine buffered while nobody watched."""
        return bool(self._tasks)

    def _follow(self, session) -> None:
        key = session.key

        def on_event(ev, key=key) -> None:
            self.store.add_event(ev, key)

        def on_status(st, session=session) -> None:
            self._on_status(session, st)

        async def on_resync(session=session) -> None:
            # After every real (re)connection and its list (a prefetched list says "connected"
            # before the engine's client is): the moment watching begins again.
            if session.key in self._hooks and session.key not in self._watching:
                self._start_watching(session)

        self._hooks[key] = (session, on_event, on_status)
        session.sync.events.connect(on_event)
        session.status.changed.connect(on_status)
        session.sync.add_resync_hook(on_resync)
        if session.status.current.state == CONNECTED and session.client.connected:
            self._start_watching(session)

    def _unfollow(self, session) -> None:
        hooks = self._hooks.pop(session.key, None)
        if hooks is None:
            return
        session.sync.events.disconnect(hooks[1])
        session.status.changed.disconnect(hooks[2])
        if session.key in self._watching:
            self._watching.discard(session.key)
            self.store.watch_ended(session.key)

    def _start_watching(self, session) -> None:
        key = session.key
        self._watching.add(key)
        client = session.client
        host = client.endpoint.host if client.endpoint is not None else ""
        self.store.engine_seen(key, host, client.info.id if client.info else "")
        task = asyncio.ensure_future(self._begin(session))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_status(self, session, st) -> None:
        key = session.key
        if st.state != CONNECTED and key in self._watching:
            self._watching.discard(key)
            self.store.watch_ended(key)

    async def _begin(self, session) -> None:
        """Close the gap since the app last watched this engine with what the engine buffered."""
        key = session.key
        try:
            since = await self.store.read(_last_watched, key)
        except Exception as exc:  # noqa: BLE001 - no history file: nothing to fill
            log.info("history: %s", exc)
            return
        now = time.time_ns()
        self.store.watch_started(key)
        try:
            events = await fetch_events(session.client, since or 0, now)
        except EngineError as err:
            log.info("history: the engine's recent events could not be read: %s", err)
            return
        if events:
            added = await asyncio.wrap_future(self.store.add_events(events, key, filled=True))
            self.filled += added or 0
            if added:
                self.backfilled.emit(added)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.registry.added.disconnect(self._follow)
        self.registry.removed.disconnect(self._unfollow)
        for session, on_event, on_status in list(self._hooks.values()):
            session.sync.events.disconnect(on_event)
            session.status.changed.disconnect(on_status)
        self._hooks.clear()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        for key in list(self._watching):
            self.store.watch_ended(key)
        self._watching.clear()
