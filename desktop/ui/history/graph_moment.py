"""History graphs on the shared time cursor: a click on a graph points the cursor at that moment
(of that container, or that engine); wherever the cursor points, the graphs mark it and a line
below says the figures and the events at it, with a link to the Activity timeline there."""

from __future__ import annotations

import asyncio
import html
import time

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QLabel

from desktop.state.activity import describe
from desktop.state.history.time_cursor import Moment, TimeCursor
from desktop.state.history.timeline import TimelineFilter, query_events
from desktop.ui.async_tasks import TaskSet

EVENT_SECONDS = 15.0  # events this close to the moment are "at" it (the graphs' points are 10 s apart)


class GraphMoment(QObject):
    """Links a view's graphs to the cursor. `moment_opened()` when its link is clicked;
    `described(text)` once the line below the graphs says what happened at the moment."""

    moment_opened = Signal()
    described = Signal(str)

    def __init__(self, graphs, cursor: TimeCursor | None, store, engine: str, container: str | None = None,
                 name: str = "", on_outside=None, parent=None) -> None:
        super().__init__(parent)
        self.graphs, self.cursor, self.store = graphs, cursor, store
        self.engine, self.container, self.name = engine, container, name
        self.on_outside = on_outside  # called with a moment older than the range shown
        self.tasks = TaskSet()
        self.label = QLabel()
        self.label.setObjectName("graphMoment")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        # Tab reaches the link and Enter follows it, as a click does.
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                           | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.label.linkActivated.connect(lambda _link: self.moment_opened.emit())
        self.label.hide()
        self.text = ""  # the line's plain text (tests)
        for g in graphs:
            g.clicked.connect(self._on_graph_clicked)
        if cursor is not None:
            cursor.moved.connect(self._on_cursor_moved)
            if cursor.moment is not None:
                self._on_cursor_moved(cursor.moment)

    def _on_graph_clicked(self, t: float) -> None:
        if self.cursor is not None:
            self.cursor.point(min(t, time.time()), engine=self.engine, container=self.container, name=self.name,
                              source=self)

    def _on_cursor_moved(self, m: Moment) -> None:
        for g in self.graphs:
            g.set_mark(m.t)
        if self.on_outside is not None:
            self.on_outside(m.t)
        self.tasks.spawn(self.describe(m))

    def refreshed(self) -> None:
        """The graphs were redrawn: say the figures at the moment again."""
        if self.cursor is not None and self.cursor.moment is not None:
            self.tasks.spawn(self.describe(self.cursor.moment))

    async def describe(self, m: Moment) -> None:
        at = time.strftime("%H:%M:%S", time.localtime(m.t))
        day = "" if time.localtime(m.t)[:3] == time.localtime()[:3] else time.strftime(" on %Y-%m-%d", time.localtime(m.t))
        figures = []
        for g in self.graphs:
            i = g.index_at(m.t)
            value = g.value_at(g.names[0], m.t) if g.names else None
            if i is not None and value is not None and abs(g.times[i] - m.t) <= 30:
                figures.append(f"{g.title} {g.fmt(value)}")
        events: list[str] = []
        if self.store is not None:
            f = TimelineFilter(engine=self.engine, container=self.container, since=int((m.t - EVENT_SECONDS) * 1e9),
                               until=int((m.t + EVENT_SECONDS) * 1e9), limit=4, newest_first=False)
            try:
                rows = await self.store.read(query_events, f)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the history is unavailable: the figures say enough
                rows = []
            for r in rows:
                name, what = describe(r.to_engine_event())
                events.append(what if self.container else f"{r.name or name} {what}")
        parts = [", ".join(figures) or "nothing recorded"]
        if events:
            parts.append("events: " + "; ".join(events))
        self.text = f"At {at}{day}: " + " · ".join(parts)
        self.label.setText(html.escape(self.text) + " · <a href='activity'>Show in Activity</a>")
        self.label.show()
        self.described.emit(self.text)

    async def aclose(self) -> None:
        if self.cursor is not None:
            self.cursor.moved.disconnect(self._on_cursor_moved)
        await self.tasks.cancel_all()
