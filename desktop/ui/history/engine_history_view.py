"""The Dashboard's history card: the engine's containers' total CPU and memory over the last hour,
day, week or month, from the history's sampled tiers (read on its reader thread), on the shared
time cursor like a container's recorded Stats."""

from __future__ import annotations

import asyncio
import time

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QVBoxLayout

from desktop.presentation import stats as stats_text
from desktop.presentation.sizes import binary_size
from desktop.state.history import stats_tiers
from desktop.ui.async_tasks import TaskSet
from desktop.ui.history.graph_moment import GraphMoment
from desktop.ui.history.stats_history_view import RANGES, include_moment
from desktop.ui.widgets.live_graph import LiveGraph
from desktop.ui.widgets.plain_text import plain_label
from desktop.ui.widgets.palette_sheet import set_sheet


class EngineHistoryView(QFrame):
    """`loaded(points)` after every read (tests wait on it); `moment_opened()`: show the
    Activity timeline at the cursor's moment."""

    loaded = Signal(int)
    moment_opened = Signal()

    def __init__(self, store, engine: str, cursor=None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("engineHistoryCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.store, self.engine = store, engine
        self.tasks = TaskSet()
        self.title = QLabel()
        set_sheet(self.title, "font-weight: 600;")
        self.range = QComboBox()
        for label, secs in RANGES:
            self.range.addItem(label, secs)
        self.range.currentIndexChanged.connect(self.refresh)
        self.status = plain_label()
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addWidget(self.range)
        top.addWidget(self.status, 1)
        self.cpu = LiveGraph("Containers' CPU", ("total",), stats_text.percent, y_min_range=5)
        self.memory = LiveGraph("Containers' memory", ("total",), binary_size, y_min_range=1024 ** 2, binary=True)
        for g in (self.cpu, self.memory):
            g.setMinimumHeight(170)
        graphs = QHBoxLayout()
        graphs.addWidget(self.cpu)
        graphs.addWidget(self.memory)
        self.at = GraphMoment((self.cpu, self.memory), cursor, store, engine,
                              on_outside=lambda t: include_moment(self.range, t), parent=self)
        self.at.moment_opened.connect(self.moment_opened)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(graphs)
        lay.addWidget(self.at.label)
        self._show_title()

    def _show_title(self) -> None:
        self.title.setText(f"History of engine {self.engine}")

    def set_engine(self, engine: str) -> None:
        if engine != self.engine:
            self.engine = self.at.engine = engine
            self._show_title()
            if self.isVisible():
                self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        self.tasks.spawn(self._load(self.range.currentData(), self.engine))

    async def _load(self, span: int, engine: str) -> None:
        now = time.time()
        try:
            await asyncio.wrap_future(self.store.flush())
            rows = await self.store.read(stats_tiers.engine_totals, engine, now - span, now)
        except Exception as exc:  # noqa: BLE001 - no history: say so
            self.status.setText(f"The history cannot be read: {exc}")
            self.loaded.emit(0)
            return
        t = np.array([r[0] for r in rows], dtype=float)
        for g in (self.cpu, self.memory):
            g.window_seconds = span
        self.cpu.set_series(t, {"total": np.array([r[1] for r in rows], dtype=float)}, now=now)
        self.memory.set_series(t, {"total": np.array([r[2] for r in rows], dtype=float)}, now=now)
        self.status.setText(f"{len(rows)} points" if rows else
                            "Nothing recorded for this range yet: running containers are sampled every 10 s.")
        self.at.refreshed()
        self.loaded.emit(len(rows))

    async def aclose(self) -> None:
        await self.at.aclose()
        await self.tasks.cancel_all()
