"""Window memory: the window opens as it was closed (size and place, sidebar, last page, each
page's splitters, table column widths and sort order). Read once at start, before the window is
shown; written off the UI thread, atomically, a moment after each change and at shutdown."""

from __future__ import annotations

import asyncio
import base64
import logging

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QSplitter, QTableView, QTreeView

from desktop.state import window_state
from desktop.ui.features.wing import Shared

log = logging.getLogger(__name__)
SAVE_DELAY_MS = 1500  # a drag or a resize settles before anything is written


def _views(page) -> list:
    return [v for v in page.findChildren(QAbstractItemView) if isinstance(v, (QTreeView, QTableView))]


def _header(view) -> QHeaderView:
    return view.header() if isinstance(view, QTreeView) else view.horizontalHeader()


def _saved_columns(header: QHeaderView) -> list[int]:
    """Widths the user can set (0 where the view computes them: stretched, fixed, hidden)."""
    last = header.count() - 1
    return [header.sectionSize(i) if (header.sectionResizeMode(i) == QHeaderView.ResizeMode.Interactive
                                      and not header.isSectionHidden(i)
                                      and not (header.stretchLastSection() and i == last)) else 0
            for i in range(header.count())]


class WindowMemory(QObject):
    """Made right after the window's first pages, before it is shown; pages added later (the
    other wings) are restored as they arrive (`MainWindow.page_added`)."""

    def __init__(self, shared: Shared, path=None) -> None:
        super().__init__(shared.window)
        self.window = window = shared.window
        self.path = path if path is not None else shared.settings.path.parent / window_state.FILE_NAME
        # One small file read before the first paint, as the settings are (the window must open
        # at its place, not jump there).
        self.saved = window_state.load(self.path)
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self.save_soon)
        self._page_chosen = False  # the user (or the saved page) already chose a page
        self._closed = False  # after aclose: the window goes away, its last changes are not news
        geometry = self.saved.get("geometry")
        if isinstance(geometry, str):
            try:
                window.restoreGeometry(QByteArray(base64.b64decode(geometry, validate=True)))
            except ValueError:  # not base64: the window's default size and place
                pass
        if self.saved.get("sidebar") is False:
            window.side_panel.hide()
        for key, _title in window.page_entries():
            self._on_window_page_added(key)
        window.page_added.connect(self._on_window_page_added)
        window.sidebar.currentRowChanged.connect(self._on_sidebar_row_changed)
        window.installEventFilter(self)

    # -- restoring ---------------------------------------------------------------------------------
    def _on_window_page_added(self, key: str) -> None:
        page = self.window.page(key)
        splitters = self.saved.get("splitters", {})
        for i, sp in enumerate(page.findChildren(QSplitter)):
            sizes = splitters.get(f"{key}/{i}")
            if isinstance(sizes, list) and len(sizes) == sp.count() and all(isinstance(n, int) for n in sizes):
                sp.setSizes(sizes)
            sp.splitterMoved.connect(self._changed)
        columns = self.saved.get("columns", {})
        for i, view in enumerate(_views(page)):
            self._restore_view(view, columns.get(f"{key}/{i}"))
            _header(view).sectionResized.connect(self._changed)
            _header(view).sortIndicatorChanged.connect(self._changed)
        if not self._page_chosen and key == self.saved.get("page"):
            self._page_chosen = True
            self.window.show_page(key)

    @staticmethod
    def _restore_view(view, saved) -> None:
        if not isinstance(saved, dict):
            return
        header = _header(view)
        widths = saved.get("widths")
        if isinstance(widths, list) and len(widths) == header.count():
            for i, w in enumerate(widths):
                if isinstance(w, int) and w > 0 and header.sectionResizeMode(i) == QHeaderView.ResizeMode.Interactive:
                    header.resizeSection(i, w)
        sort = saved.get("sort")
        if (isinstance(sort, list) and len(sort) == 2 and all(isinstance(n, int) for n in sort)
                and 0 <= sort[0] < header.count() and header.isSortIndicatorShown()):
            order = Qt.SortOrder(sort[1])
            if view.isSortingEnabled():
                view.sortByColumn(sort[0], order)
            else:  # the page sorts its own model when the indicator moves
                header.setSortIndicator(sort[0], order)

    # -- saving ------------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """What to write: the window as it is now, over what was saved for pages not made yet."""
        window = self.window
        splitters = dict(self.saved.get("splitters", {}))
        columns = dict(self.saved.get("columns", {}))
        for key, _title in window.page_entries():
            page = window.page(key)
            for i, sp in enumerate(page.findChildren(QSplitter)):
                if any(sp.sizes()):  # a splitter never laid out has no sizes worth keeping
                    splitters[f"{key}/{i}"] = sp.sizes()
            for i, view in enumerate(_views(page)):
                header = _header(view)
                entry = {"widths": _saved_columns(header)}
                if header.isSortIndicatorShown():
                    entry["sort"] = [header.sortIndicatorSection(), header.sortIndicatorOrder().value]
                columns[f"{key}/{i}"] = entry
        return {"geometry": base64.b64encode(bytes(window.saveGeometry())).decode("ascii"),
                "sidebar": not window.side_panel.isHidden(),
                "page": window.current_page_key() or self.saved.get("page"),
                "splitters": splitters, "columns": columns}

    async def save(self) -> None:
        """Write the window's state now (in a worker thread; one write at a time)."""
        state = self.snapshot()
        async with self._lock:
            try:
                await asyncio.to_thread(window_state.save, self.path, state)
            except OSError as exc:
                log.warning("window state: could not write %s: %s", self.path, exc)
        self.saved = state

    def save_soon(self) -> None:
        if self._closed:
            return
        task = asyncio.ensure_future(self.save())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _changed(self, *_args) -> None:
        if not self._closed:
            self._timer.start()  # restarted by each change: one write once things settle

    def _on_sidebar_row_changed(self, _row: int) -> None:
        self._page_chosen = True
        self._changed()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if obj is self.window and event.type() in (QEvent.Type.Resize, QEvent.Type.Move):
            self._changed()
        return False

    # -- the Wing protocol -------------------------------------------------------------------------
    def show_engine(self, key: str | None) -> None:
        pass

    def set_engine_count(self, n: int) -> None:
        pass

    async def aclose(self) -> None:
        self._closed = True
        self._timer.stop()
        self.window.removeEventFilter(self)
        for task in list(self._tasks):
            await task
        await self.save()
