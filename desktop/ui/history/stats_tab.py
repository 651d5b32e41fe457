"""A container's Stats tab with its history: "Live" (the streamed last 15 minutes) or a recorded
range (last hour, day, week, month) from the stats history, on the shared time cursor."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from desktop.ui.history.stats_history_view import RANGES

LIVE = "Live: the last 15 minutes, every second"


class StatsWithHistory(QWidget):
    """`live` (ContainerStatsView: it streams only while shown) and `history` (StatsHistoryView),
    one at a time, chosen by `range`."""

    def __init__(self, live: QWidget, history, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("statsWithHistory")
        self.live, self.history = live, history
        self.range = QComboBox()
        self.range.setObjectName("statsRange")
        self.range.setAccessibleName("What to show")
        self.range.addItem(LIVE, None)
        for label, secs in RANGES:
            self.range.addItem(label + " (recorded)", secs)
        history.range.hide()  # this tab's choice drives it
        self.stack = QStackedWidget()
        self.stack.addWidget(live)
        self.stack.addWidget(history)
        top = QHBoxLayout()
        top.addWidget(QLabel("Show"))
        top.addWidget(self.range)
        top.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.stack, 1)
        self.range.currentIndexChanged.connect(self._on_range_changed)
        history.range.currentIndexChanged.connect(self._on_history_range_changed)

    def _on_range_changed(self, _index: int) -> None:
        secs = self.range.currentData()
        if secs is None:
            self.stack.setCurrentWidget(self.live)
            return
        i = self.history.range.findData(secs)
        if i != self.history.range.currentIndex():
            self.history.range.setCurrentIndex(i)  # it reads that range
        self.stack.setCurrentWidget(self.history)

    def _on_history_range_changed(self, _index: int) -> None:
        # The history widened itself to a moment the cursor points at: say so here too.
        if self.range.currentData() is not None:
            i = self.range.findData(self.history.range.currentData())
            self.range.blockSignals(True)
            self.range.setCurrentIndex(i)
            self.range.blockSignals(False)

    def set_container_state(self, state) -> None:
        for w in (self.live, self.history):
            if hasattr(w, "set_container_state"):
                w.set_container_state(state)

    async def aclose(self) -> None:
        for w in (self.live, self.history):
            if hasattr(w, "release"):
                w.release()
            if hasattr(w, "aclose"):
                await w.aclose()
