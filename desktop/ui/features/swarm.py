"""The swarm wing: a SwarmState per engine (lazy: listed once the Swarm page is opened) and the
Swarm page, which follows the engine switcher (all engines → the primary, and it says so)."""

from __future__ import annotations

import asyncio

from desktop.engine.errors import EngineError
from desktop.engine.swarm import SwarmClient
from desktop.state.per_engine import PerEngine
from desktop.state.swarm import SwarmState
from desktop.ui.async_tasks import TaskSet
from desktop.ui.swarm.swarm_page import SwarmPage


class SwarmWing:
    """Builds the Swarm page; `show_engine(key|None)`, `set_engine_count(n)`, `aclose()`."""

    def __init__(self, window, engines, primary_key: str) -> None:
        self.window = window
        self.engines = engines
        self.primary_key = primary_key
        self.tasks = TaskSet()
        self.page = SwarmPage()
        self._selected: str | None = None
        self._count = len(engines.sessions)
        self._closing = False
        self.states: PerEngine[SwarmState] = PerEngine(engines, self._make, self._dropped, eager=True)
        window.add_page("swarm", "Swarm", "swarm", self.page)
        self.show_engine(None)

    def state(self, key: str) -> SwarmState:
        return self.states[key]

    def _make(self, session) -> SwarmState:
        state = SwarmState(SwarmClient(session.client))
        state.attach(session.sync, lazy=True)
        if session.status.is_connected:  # made after the first resync: read its role now
            self.tasks.spawn(self._first_info(state))
        return state

    async def _first_info(self, state: SwarmState) -> None:
        try:
            await state.refresh_info()
        except EngineError:
            pass  # the next reconnect's resync reads it

    def _dropped(self, key: str, state: SwarmState, _owned: bool) -> None:
        if self._closing:
            return  # aclose awaits every state itself
        self.tasks.spawn(state.aclose())
        if self._selected == key:
            self.show_engine(None)

    def show_engine(self, key: str | None) -> None:
        self._selected = key
        session = (self.engines.get(key) if key else None) or self.engines.primary
        if session is None or self.states.existing(session.key) is None:
            return
        caption = ""
        if self._count > 1:
            caption = f"Engine {session.key}" + ("" if key else
                                                 " (the primary engine: choose another in the engine switcher)")
        self.page.show_engine(session.key, self.states[session.key],
                              lambda s=session: s.client.api_endpoint or s.client.endpoints[0], caption)

    def set_engine_count(self, n: int) -> None:
        self._count = n
        self.show_engine(self._selected)

    async def aclose(self) -> None:
        await self.page.aclose()
        states = self.states.values()
        self._closing = True
        self.states.close()
        await self.tasks.cancel_all()
        await asyncio.gather(*(s.aclose() for s in states), return_exceptions=True)
