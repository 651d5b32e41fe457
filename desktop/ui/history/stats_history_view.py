"""A container's recorded stats over the last hour, day, week or month (the history's tiers):
average and peak CPU, average and peak memory, on the shared time cursor (a click points it at
that moment; the moment pointed at elsewhere is marked). Read on the history's reader thread."""

from __future__ import annotations

import asyncio
import time

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QVBoxLayout, QWidget

from desktop.presentation import stats as stats_text
from desktop.presentation.sizes import binary_size
from desktop.state.history import stats_tiers
from desktop.ui.async_tasks import TaskSet
from desktop.ui.history.graph_moment import GraphMoment
from desktop.ui.widgets.live_graph import LiveGraph
from desktop.ui.widgets.plain_text import plain_label

RANGES = (("Last hour", 3600), ("Last day", 86400), ("Last week", 7 * 86400), ("Last month", 30 * 86400))


class StatsHistoryView(QWidget):
    """`loaded(points)` after every read (tests wait on it); `moment_opened()`: show the
    Activity timeline at the cursor's moment."""

    loaded = Signal(int)
    moment_opened = Signal()

    def __init__(self, store, engine: str, container_id: str, cursor=None, name: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("statsHistoryView")
        self.store, self.engine, self.cid = store, engine, container_id
        self.tasks = TaskSet()
        self.range = QComboBox()
        for label, secs in RANGES:
            self.range.addItem(label, secs)
        self.range.currentIndexChanged.connect(self.refresh)
        self.status = plain_label()
        top = QHBoxLayout()
        top.addWidget(self.range)
        top.addWidget(self.status, 1)
        self.cpu = LiveGraph("CPU", ("average", "peak"), stats_text.percent, y_min_range=5)
        self.memory = LiveGraph("Memory", ("average", "peak"), binary_size, y_min_range=1024 ** 2, binary=True)
        self.at = GraphMoment((self.cpu, self.memory), cursor, store, engine, container_id, name,
                              on_outside=self.include, parent=self)
        self.at.moment_opened.connect(self.moment_opened)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.cpu, 1)
        lay.addWidget(self.memory, 1)
        lay.addWidget(self.at.label)

    def include(self, t: float) -> None:
        """Widen the range to the shortest that shows the moment `t`."""
        include_moment(self.range, t)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()  # read when looked at, not before

    def refresh(self) -> None:
        self.tasks.spawn(self._load(self.range.currentData()))

    async def _load(self, span: int) -> None:
        now = time.time()
        tier = stats_tiers.tier_for(span)
        try:
            await asyncio.wrap_future(self.store.flush())  # the samples queued a moment ago too
            pts = await self.store.read(stats_tiers.points, self.engine, self.cid, now - span, now, tier)
        except Exception as exc:  # noqa: BLE001 - no history: say so
            self.status.setText(f"The stats history cannot be read: {exc}")
            self.loaded.emit(0)
            return
        t = np.array([p.t for p in pts], dtype=float)
        for g in (self.cpu, self.memory):
            g.window_seconds = span
        self.cpu.set_series(t, {"average": np.array([p.cpu for p in pts]), "peak": np.array([p.cpu_max for p in pts])},
                            now=now)
        self.memory.set_series(t, {"average": np.array([p.mem for p in pts], dtype=float),
                                   "peak": np.array([p.mem_max for p in pts], dtype=float)}, now=now)
        step = {"stats_1s": "1 s", "stats_10s": "10 s", "stats_1m": "1 min", "stats_1h": "1 h"}[tier]
        self.status.setText(f"{len(pts)} points, one per {step}" if pts else
                            "Nothing recorded for this range yet: the history samples running containers every 10 s.")
        self.at.refreshed()
        self.loaded.emit(len(pts))

    async def aclose(self) -> None:
        await self.at.aclose()
        await self.tasks.cancel_all()


def include_moment(combo: QComboBox, t: float) -> None:
    """Choose the shortest range of a RANGES combo that reaches back to `t` (if the one chosen does not)."""
    age = time.time() - t
    if age <= combo.currentData():
        return
    for i in range(combo.count()):
        if combo.itemData(i) >= age:
            combo.setCurrentIndex(i)
            return
    combo.setCurrentIndex(combo.count() - 1)
