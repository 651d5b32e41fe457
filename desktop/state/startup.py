"""The start-up path's Qt-free steps: which engines to follow, the prefetched first table, and
waiting for the first full list (or the first "no engine" verdict)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

from desktop.engine.saved_engines import SavedEngine
from desktop.engine.endpoints import Endpoint, engine_name, list_contexts  # noqa: F401 - engine_name: app.py's
from desktop.engine.errors import InvalidInputError
from desktop.engine.prefetch import PREFETCH_TIMEOUT, Prefetch
from desktop.state.connection import CONNECTED, UNREACHABLE, ConnectionState


def choose_primary(discovered: Sequence[Endpoint], saved: Sequence[SavedEngine], primary: str,
                   explicit_host: bool = False) -> tuple[list[Endpoint], list[tuple[str, list[Endpoint]]]]:
    """The engine the window opens on and the ones followed beside it. A saved engine chosen as
    primary in Settings comes first (the discovered one is then followed beside it); a host given
    on the command line always wins."""
    chosen = next((e for e in saved if e.name == primary), None) if primary and not explicit_host else None
    if chosen is not None:
        try:
            ep = chosen.endpoint()
        except InvalidInputError:
            chosen = None  # its files are gone: open on what discovery finds (Settings says why)
    if chosen is None:
        return list(discovered), extra_engines(discovered, saved)
    rest = [e for e in saved if e.name != chosen.name]
    extras = [(engine_name(discovered), list(discovered))] if discovered and discovered[0].host != ep.host else []
    seen = {ep.host} | {e.host for _n, eps in extras for e in eps}
    taken = {ep.name} | {n for n, _ in extras}
    return [ep], extras + [x for x in extra_engines([ep, *(e for _n, eps in extras for e in eps)], rest)
                           if x[0] not in taken and x[1][0].host not in seen]


def extra_engines(endpoints: Sequence[Endpoint], saved: Sequence) -> list[tuple[str, list[Endpoint]]]:
    """Engines followed beside the primary one: those saved in Settings, then docker contexts."""
    seen = {e.host for e in endpoints}
    out: list[tuple[str, list[Endpoint]]] = []
    for entry in saved:
        try:
            ep = SavedEngine.parse(entry).endpoint()
        except InvalidInputError:
            continue  # the settings page reports it
        if ep.host not in seen:
            seen.add(ep.host)
            out.append((ep.name, [ep]))
    for ep in list_contexts():
        if ep.host not in seen:
            seen.add(ep.host)
            out.append((ep.name, [ep]))
    return out


async def show_prefetched(session, prefetch: Prefetch) -> bool:
    """Put the prefetched list in the session's store at once (the sync's own resync follows and
    corrects it). False when there is nothing to show, or the real connection won the race."""
    client = session.client
    if not prefetch.done() and not await client.run(prefetch.wait, PREFETCH_TIMEOUT):
        return False
    if prefetch.result is None:
        return False
    engine, rows = prefetch.result
    if client.engine_tag and rows and rows[0].engine_id != client.engine_tag:  # (started without the tag)
        tag = client.engine_tag
        rows = await client.run(lambda: [dataclasses.replace(r, engine_id=tag) for r in rows])
    if session.status.is_connected or session.containers.all():
        return False  # the real connection's list is fresher
    session.containers.replace_all(rows)
    session.status.connected(engine)
    session.status.loaded()
    return True


async def first_load(status, timeout: float | None = None) -> ConnectionState:
    """Wait until the first full list is in, or the first 'no engine' verdict."""
    fut: asyncio.Future = asyncio.get_running_loop().create_future()

    def check(s: ConnectionState) -> None:
        if not fut.done() and ((s.state == CONNECTED and s.loaded) or s.state == UNREACHABLE):
            fut.set_result(s)

    status.changed.connect(check)
    check(status.current)
    try:
        return await asyncio.wait_for(fut, timeout)
    finally:
        status.changed.disconnect(check)


class SessionStarter:
    """Starts every engine session once (engines added later start at once), after the prefetched
    table when there is one: the sessions import the docker SDK (~60 ms) that the first paint
    need not wait for."""

    def __init__(self, engines, primary) -> None:
        self.engines, self.primary = engines, primary
        self.started = False
        self._prefetch_task: asyncio.Future | None = None
        engines.added.connect(self._on_engines_added)

    def start(self, prefetch: Prefetch | None = None, sessions_after_paint: bool = False) -> None:
        """With a prefetch and `sessions_after_paint`, the sessions start when the caller has
        painted the prefetched table (`start_sessions()`), or at once if there is nothing to show."""
        if prefetch is not None:
            self._prefetch_task = asyncio.ensure_future(self._apply_prefetch(prefetch))
        if prefetch is None or not sessions_after_paint:
            self.start_sessions()

    def start_sessions(self) -> None:
        if not self.started:
            self.started = True
            for session in self.engines.sessions:
                session.start()

    async def _apply_prefetch(self, prefetch: Prefetch) -> None:
        shown = False
        try:
            shown = await show_prefetched(self.primary, prefetch)
        finally:
            if not shown:
                self.start_sessions()  # nothing to paint first: connect now

    def _on_engines_added(self, session) -> None:
        if self.started:
            session.start()

    def cancel(self) -> None:
        if self._prefetch_task is not None and not self._prefetch_task.done():
            self._prefetch_task.cancel()
