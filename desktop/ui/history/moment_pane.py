"""What the time cursor points at, beside the Activity timeline: the figures at that moment (the
container's, or its engine's totals, from the stats history, with the moment marked) and the
container's log lines around it, read from its engine (`docker logs --since … --until …`)."""

from __future__ import annotations

import asyncio
import time

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QColor, QFontDatabase, QTextCursor, QTextFormat
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QTextEdit, QVBoxLayout, QWidget

from desktop.engine.errors import EngineError, NotFoundError
from desktop.engine.logs_window import logs_around
from desktop.presentation import stats as stats_text
from desktop.presentation.sizes import binary_size
from desktop.state.history import stats_tiers
from desktop.state.history.time_cursor import Moment
from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.live_graph import LiveGraph
from desktop.ui.widgets.plain_text import plain_label

LOG_SECONDS = 30.0  # log lines this long before and after the moment
SETTLE_MS = 120  # a moment held this long is read (the figures from the history, the logs from the engine)


def _clock(ns: int) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ns / 1e9)) + f".{ns // 1_000_000 % 1000:03d}"


class MomentPane(QWidget):
    """`show_moment(m)`; `loaded(Moment)` once its figures and logs are on screen (tests wait on it).
    `point_requested(t)`: a click in one of its graphs (the page moves the cursor there)."""

    loaded = Signal(object)
    point_requested = Signal(float)
    logs_requested = Signal(object)  # (Moment): the container's own Logs tab, scrolled there

    def __init__(self, store, client_for_key, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("momentPane")
        self.store, self.client_for_key = store, client_for_key
        self.tasks = TaskSet()
        self._task: asyncio.Task | None = None
        self.moment: Moment | None = None
        self.figures: dict[str, float] = {}  # the values at the moment (tests, the caption)
        self.log_lines: list[str] = []
        self.log_at = -1  # index in log_lines of the first line at or after the moment
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._on_settle_timeout)
        self.caption = plain_label("Select an event to see the figures and the log lines at that moment.")
        self.caption.setObjectName("momentCaption")
        self.caption.setWordWrap(True)
        self.cpu = LiveGraph("CPU", ("cpu",), stats_text.percent, y_min_range=5)
        self.memory = LiveGraph("Memory", ("memory",), binary_size, y_min_range=1024 ** 2, binary=True)
        for g in (self.cpu, self.memory):
            g.setMinimumHeight(130)
            g.clicked.connect(self.point_requested)
        self.figures_note = plain_label()
        self.figures_note.setWordWrap(True)
        self.logs_caption = plain_label()
        self.logs_caption.setWordWrap(True)
        self.logs = QPlainTextEdit()
        self.logs.setObjectName("momentLogs")
        self.logs.setAccessibleName("Log lines around the moment")
        self.logs.setReadOnly(True)
        self.logs.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.logs.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.open_logs = QPushButton("Open the container's logs there")
        self.open_logs.setObjectName("momentOpenLogs")
        self.open_logs.setToolTip("The container's page, its Logs tab scrolled to this moment")
        self.open_logs.clicked.connect(lambda: self.moment is not None and self.logs_requested.emit(self.moment))
        self.open_logs.hide()
        graphs = QVBoxLayout()
        graphs.addWidget(self.cpu, 1)
        graphs.addWidget(self.memory, 1)
        graphs.addWidget(self.figures_note)
        logs = QVBoxLayout()
        head = QHBoxLayout()
        head.addWidget(self.logs_caption, 1)
        head.addWidget(self.open_logs)
        logs.addLayout(head)
        logs.addWidget(self.logs, 1)
        body = QHBoxLayout()
        body.addLayout(graphs, 2)
        body.addLayout(logs, 3)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.caption)
        lay.addLayout(body, 1)

    def show_moment(self, m: Moment) -> None:
        """Show a moment (soon: moving through the rows with the keys asks the engine once)."""
        self.moment = m
        self._settle.start()

    def _on_settle_timeout(self) -> None:
        if self.moment is None:
            return
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = self.tasks.spawn(self._load(self.moment))

    async def _load(self, m: Moment) -> None:
        who = f"{m.name or (m.container or '')[:12]}" if m.container else "the engine's containers"
        where = f" (engine {m.engine})" if m.engine else ""
        self.caption.setText(f"At {_clock(int(m.t * 1e9))} on {time.strftime('%Y-%m-%d', time.localtime(m.t))}:"
                             f" {who}{where}. Click a graph to move the moment.")
        for g in (self.cpu, self.memory):
            g.set_mark(m.t)
        await asyncio.gather(self._load_figures(m), self._load_logs(m))
        self.loaded.emit(m)

    async def _load_figures(self, m: Moment) -> None:
        self.figures = {}
        now = time.time()
        since, until, tier = stats_tiers.window_at(m.t, now)
        if self.store is None or m.engine is None:
            self._draw(since, until, np.zeros(0), np.zeros(0), np.zeros(0))
            self.figures_note.setText("No stats history is kept." if self.store is None else "")
            return
        try:
            await asyncio.wrap_future(self.store.flush())
            if m.container:
                pts = await self.store.read(stats_tiers.points, m.engine, m.container, since, until, tier)
                t = np.array([p.t for p in pts], dtype=float)
                cpu = np.array([p.cpu for p in pts], dtype=float)
                mem = np.array([p.mem for p in pts], dtype=float)
            else:
                rows = await self.store.read(stats_tiers.engine_totals, m.engine, since, until, tier)
                t = np.array([r[0] for r in rows], dtype=float)
                cpu = np.array([r[1] for r in rows], dtype=float)
                mem = np.array([r[2] for r in rows], dtype=float)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the history is unavailable: say so
            self._draw(since, until, np.zeros(0), np.zeros(0), np.zeros(0))
            self.figures_note.setText(f"The stats history cannot be read: {exc}")
            return
        self._draw(since, until, t, cpu, mem)
        step = stats_tiers.TIER_SECONDS[tier]
        i = self.cpu.index_at(m.t)
        if i is None or abs(t[i] - m.t) > max(3 * step, 30):
            self.figures_note.setText("Nothing was recorded at that moment (the history samples running"
                                      " containers every 10 s).")
            return
        self.figures = {"cpu": float(cpu[i]), "memory": float(mem[i]), "t": float(t[i])}
        self.figures_note.setText(f"At that moment: CPU {stats_text.percent(cpu[i])},"
                                  f" memory {binary_size(mem[i])}.")

    def _draw(self, since: float, until: float, t, cpu, mem) -> None:
        self.cpu.title = "Container's CPU" if self.moment and self.moment.container else "Containers' CPU"
        self.memory.title = "Container's memory" if self.moment and self.moment.container else "Containers' memory"
        for g, y, name in ((self.cpu, cpu, "cpu"), (self.memory, mem, "memory")):
            g.window_seconds = until - since
            g.set_series(t, {name: y}, now=until)

    async def _load_logs(self, m: Moment) -> None:
        self.log_lines, self.log_at = [], -1
        self.logs.clear()
        self.open_logs.setVisible(bool(m.container))
        if not m.container:
            self.logs_caption.setText("Log lines show for a container's events.")
            return
        try:
            client = self.client_for_key(m.engine)
        except LookupError:
            self.logs_caption.setText(f"Engine {m.engine} is not followed now: its logs cannot be read.")
            return
        self.logs_caption.setText("Reading the log lines…")
        try:
            got = await logs_around(client, m.container, m.t, LOG_SECONDS, LOG_SECONDS)
        except NotFoundError:
            self.open_logs.hide()
            self.logs_caption.setText("The container is gone from the engine, and its logs with it"
                                      " (a crash report keeps the last lines of a crash).")
            return
        except EngineError as err:
            self.logs_caption.setText(str(err))
            return
        self.log_lines = [text for _, text in got.lines]
        self.log_at = got.at
        span = f"from {_clock(int(got.since * 1e9))[:8]} to {_clock(int(got.until * 1e9))[:8]}"
        if not got.lines:
            self.logs_caption.setText(f"No log lines {span}.")
            return
        cut = " (the nearest lines; more before and after)" if got.more_before or got.more_after else ""
        self.logs_caption.setText(f"{len(got.lines)} log lines {span}{cut}; the moment is marked.")
        self.logs.setPlainText("\n".join(f"{_clock(ts)}  {text}" for ts, text in got.lines))
        self._mark_line(min(got.at, len(got.lines) - 1))

    def _mark_line(self, row: int) -> None:
        block = self.logs.document().findBlockByNumber(row)
        cursor = QTextCursor(block)
        sel = QTextEdit.ExtraSelection()
        sel.format.setBackground(QColor("#fde7b0"))
        sel.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        sel.cursor = cursor
        self.logs.setExtraSelections([sel])
        self.logs.setTextCursor(cursor)
        self.logs.centerCursor()

    async def aclose(self) -> None:
        self._settle.stop()
        await self.tasks.cancel_all()
