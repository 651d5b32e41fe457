"""A live time-series graph (pyqtgraph): a few named curves, a time axis, exact values on hover.

The plot is built when the graph is first shown (or first reached through `plot`, `curves`,
`cursor` or `mark`): importing pyqtgraph and building a PlotWidget cost ~0.3 s per graph page,
and most graphs (the dashboard's, a Stats tab's) are never shown in a session, or long after
start-up.
"""

from __future__ import annotations

import html

import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

PALETTE = ("#2f6fdf", "#e07b00", "#2e9d4f", "#c8372d", "#7a4fd0", "#00838f")
WINDOW_SECONDS = 15 * 60


def nice_step(raw: float, binary: bool = False) -> float:
    """A round tick step at least `raw`: 1/2/5 × 10^k, or a power of two for byte figures."""
    if raw <= 0:
        return 1.0
    if binary:
        return float(2 ** int(np.ceil(np.log2(raw))))
    exp = 10 ** np.floor(np.log10(raw))
    for m in (1, 2, 5, 10):
        if m * exp >= raw:
            return float(m * exp)
    return float(10 * exp)


class LiveGraph(QWidget):
    """Title + plot; `set_series(t, {name: y})` redraws; hovering shows each curve's value there.
    `clicked(t)` when a point of the plot is clicked; `set_mark(t)` pins a moment (the shared
    time cursor): a line there, and the title says the values at it while nobody hovers.

    Args:
        fmt: turns one y value into text for the hover line and the title (e.g. "12.5%").
    """

    clicked = Signal(float)

    def __init__(self, title: str, names: tuple[str, ...], fmt: Callable[[float], str],
                 y_min_range: float = 1.0, binary: bool = False, parent=None) -> None:
        super().__init__(parent)
        self.binary = binary  # byte figures: ticks at powers of two (16 MiB, 32 MiB), not 9.5 MiB
        self.title, self.names, self.fmt = title, names, fmt
        self.y_min_range = y_min_range
        self.window_seconds = WINDOW_SECONDS  # the span shown, ending now (history views widen it)
        self.header = QLabel(title)
        self.header.setObjectName("graphTitle")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self._plot = None
        self._curves: dict = {}
        self._cursor = None
        self._mark = None
        self._range: tuple[float, float] | None = None  # the x range to show, set before the plot exists
        self.mark_time: float | None = None
        self._t = np.zeros(0)
        self._ys: dict[str, np.ndarray] = {}
        self.hover_text = ""
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.header)
        self.setMinimumHeight(140)
        self.set_series(np.zeros(0), {}, now=time.time())  # the empty 15-minute frame, not pyqtgraph's 0..1

    def _apply_palette(self) -> None:
        """The plot in the window's colours: pyqtgraph paints its own, a white plot on a dark window."""
        if self._plot is None:
            return  # built later, in the palette of that moment
        pal = self.palette()
        self._plot.setBackground(pal.color(QPalette.ColorRole.Base))
        pi = self._plot.getPlotItem()
        for side in ("left", "bottom"):
            pi.getAxis(side).setTextPen(pal.color(QPalette.ColorRole.WindowText))
            pi.getAxis(side).setPen(pal.color(QPalette.ColorRole.Mid))

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    # -- the plot, built on first use ---------------------------------------------------------------
    @property
    def plot(self):
        if self._plot is None:
            self._build()
        return self._plot

    @property
    def curves(self) -> dict:
        self.plot
        return self._curves

    @property
    def cursor(self):
        self.plot
        return self._cursor

    @property
    def mark(self):
        self.plot
        return self._mark

    @property
    def built(self) -> bool:
        return self._plot is not None

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._plot is None:
            self._build()
        super().showEvent(event)

    def _build(self) -> None:
        import pyqtgraph as pg

        self._pg = pg
        plot = self._plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        plot.setAccessibleName(self.title)
        # Not a Tab stop: the keyboard has nothing to do on it (no zoom, no menu). Built when first
        # shown, it would also join the focus chain at its far end, out of reading order.
        plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        plot.setMinimumHeight(120)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.showGrid(x=True, y=True, alpha=0.15)
        pi = plot.getPlotItem()
        self._apply_palette()
        pi.getAxis("left").setWidth(74)  # room for "512.0 KiB/s"; narrower hides the labels
        self._make_curves()
        self._cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#9aa3ad", style=Qt.PenStyle.DashLine))
        self._cursor.hide()
        plot.addItem(self._cursor, ignoreBounds=True)
        self._mark = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#c8372d", width=1.5))
        self._mark.setVisible(self.mark_time is not None)
        if self.mark_time is not None:
            self._mark.setPos(self.mark_time)
        plot.addItem(self._mark, ignoreBounds=True)
        plot.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        plot.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)
        self.layout().addWidget(plot, 1)
        self._draw()

    def _make_curves(self) -> None:
        pg = self._pg
        for c in self._curves.values():
            self._plot.removeItem(c)
        self._curves = {n: self._plot.plot(pen=pg.mkPen(PALETTE[i % len(PALETTE)], width=1.6), name=n)
                        for i, n in enumerate(self.names)}

    def set_names(self, names: tuple[str, ...]) -> None:
        """Replace the curves (e.g. once the number of CPU cores is known)."""
        self.names = names
        if self._plot is not None:
            self._make_curves()

    def set_series(self, t: np.ndarray, ys: dict[str, np.ndarray], now: float | None = None) -> None:
        self._t, self._ys = t, ys
        end = now if now is not None else (t[-1] if len(t) else time.time())
        self._range = (end - self.window_seconds, end)
        if self._plot is not None:
            self._draw()
        if not self.hover_text:
            self._show_title()

    def _draw(self) -> None:
        t, ys = self._t, self._ys
        for n, curve in self._curves.items():
            y = ys.get(n)
            if y is None or not len(t):
                curve.setData([], [])
            else:
                curve.setData(t, y)
        if self._range is not None:
            self._plot.setXRange(*self._range, padding=0)
        top = max([float(np.nanmax(y)) for y in ys.values() if len(y)] + [self.y_min_range])
        step = nice_step(top / 4, self.binary)
        ticks = [(k * step, self.fmt(k * step)) for k in range(1, int(top * 1.1 / step) + 1)]
        self._plot.getPlotItem().getAxis("left").setTicks([ticks])
        self._plot.setYRange(0, max(top * 1.1, step), padding=0)

    def set_mark(self, t: float | None) -> None:
        """Pin a moment (None: none): a line at it, its values in the title."""
        self.mark_time = t
        if self._mark is not None:
            self._mark.setVisible(t is not None)
            if t is not None:
                self._mark.setPos(t)
        if not self.hover_text:
            self._show_title()

    def index_at(self, x: float) -> int | None:
        """The sample nearest to time `x` (None without samples)."""
        if not len(self._t):
            return None
        i = int(np.clip(np.searchsorted(self._t, x), 0, len(self._t) - 1))
        if i > 0 and abs(self._t[i - 1] - x) < abs(self._t[i] - x):
            i -= 1
        return i

    @property
    def times(self) -> np.ndarray:
        """The sample times shown (epoch seconds)."""
        return self._t

    def value_at(self, name: str, x: float) -> float | None:
        """A curve's value at the sample nearest to time `x`."""
        i = self.index_at(x)
        y = self._ys.get(name)
        return None if i is None or y is None or i >= len(y) else float(y[i])

    def _show_title(self, i: int | None = None) -> None:
        parts = [f"<b>{html.escape(self.title)}</b>"]
        marked = False
        if i is None and self.mark_time is not None:
            i = self.index_at(self.mark_time)
            marked = i is not None
        if i is None and len(self._t):
            i = len(self._t) - 1
        for k, n in enumerate(self.names[:8]):  # a 64-core host would not fit: the graph shows them all
            y = self._ys.get(n)
            colour = PALETTE[k % len(PALETTE)]
            val = self.fmt(float(y[i])) if (y is not None and i is not None and i < len(y)) else "–"
            label = f"{html.escape(n)} " if len(self.names) > 1 else ""
            parts.append(f"<span style='color:{colour}'>■</span> {label}{val}")
        if i is not None and (self.hover_text or marked):
            parts.append(f"<span style='color:#6b7280'>at {time.strftime('%H:%M:%S', time.localtime(self._t[i]))}</span>")
        self.header.setText("&nbsp;&nbsp;".join(parts))

    def hover_at(self, x: float) -> str:
        """Show the values nearest to time `x` (what a mouse hover does); returns the text."""
        i = self.index_at(x)
        if i is None:
            return ""
        self.cursor.setPos(self._t[i])
        self.cursor.show()
        self.hover_text = " ".join(f"{n} {self.fmt(float(self._ys[n][i]))}" for n in self.names if n in self._ys)
        self._show_title(i)
        return self.hover_text

    def leave_hover(self) -> None:
        self.hover_text = ""
        if self._cursor is not None:
            self._cursor.hide()
        self._show_title()

    def _on_scene_mouse_moved(self, pos) -> None:
        vb = self.plot.getPlotItem().vb
        if self.plot.sceneBoundingRect().contains(pos) and vb.sceneBoundingRect().contains(pos):
            self.hover_at(vb.mapSceneToView(pos).x())
        elif self.hover_text:
            self.leave_hover()

    def _on_scene_mouse_clicked(self, event) -> None:
        vb = self.plot.getPlotItem().vb
        pos = event.scenePos()
        if event.button() == Qt.MouseButton.LeftButton and vb.sceneBoundingRect().contains(pos):
            self.clicked.emit(float(vb.mapSceneToView(pos).x()))

    def leaveEvent(self, event) -> None:
        self.leave_hover()
        super().leaveEvent(event)
