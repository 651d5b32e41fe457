"""CPU % and Memory columns fed by the StatsHub, for the rows on screen only.

The feeder watches what the tree view shows (scrolling, resizing, filtering, sorting,
expanding, the page being shown or hidden) and keeps one hub subscription per visible
container: scrolling a row into view starts its stream, scrolling it away stops it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QTreeView

from desktop.presentation import stats as stats_text
from desktop.presentation.sizes import binary_size
from desktop.metrics.stats_hub import StatsHub, Subscription
from desktop.metrics.stats_hub import StatsHubs
from desktop.presentation.container_columns import COL_CPU, COL_MEM
from desktop.ui.containers.container_model import ContainerRole, ContainerTreeModel

_DISPLAY = [Qt.ItemDataRole.DisplayRole]
SETTLE_MS = 150  # scrolling fires dozens of times a second: re-plan once it settles


class VisibleStatsFeeder(QObject):
    """Subscribes the hub to the containers visible in `view` and repaints their stats cells.

    `hub`: a StatsHub, or a StatsHubs routing each container to its own engine's hub.
    """

    def __init__(self, view: QTreeView, model: ContainerTreeModel, hub: "StatsHub | StatsHubs") -> None:
        # Parentless on purpose: it must outlive the view long enough to hand its streams back
        # when the view is destroyed (window closed before the app shuts down).
        super().__init__()
        self.view, self.model, self.hub = view, model, hub
        self._subs: dict[str, Subscription] = {}
        self._enabled = True
        self._detached = False
        self._shown: dict[str, tuple[str, str]] = {}  # cid -> the texts on screen now
        view.destroyed.connect(self._detach)
        model.set_stats_source(hub.latest)
        header = view.header()
        header.resizeSection(COL_CPU, 70)
        header.resizeSection(COL_MEM, 90)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SETTLE_MS)
        self._timer.timeout.connect(self.refresh)
        view.verticalScrollBar().valueChanged.connect(self.schedule)
        view.expanded.connect(self.schedule)
        view.collapsed.connect(self.schedule)
        proxy = view.model()
        for sig in (proxy.rowsInserted, proxy.rowsRemoved, proxy.modelReset, proxy.layoutChanged):
            sig.connect(self.schedule)
        view.viewport().installEventFilter(self)
        hub.samples.connect(self._on_hub_samples)
        # The real start-up installs this after the table is already shown and filled: no
        # show/reset/scroll signal will come to trigger the first plan, so plan now.
        self.schedule()

    @property
    def watched(self) -> set[str]:
        """Containers this table is subscribed to now."""
        return set(self._subs)

    def set_enabled(self, on: bool) -> None:
        """Off: no subscriptions at all (columns hidden, or stats switched off)."""
        self._enabled = on
        self.refresh()

    def schedule(self, *args) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def eventFilter(self, obj, event) -> bool:
        if event.type() in (QEvent.Type.Show, QEvent.Type.Hide, QEvent.Type.Resize):
            self.schedule()
        return False

    def visible_ids(self) -> list[str]:
        """Container ids of the rows inside the viewport, top to bottom."""
        vp = self.view.viewport()
        if not self._enabled or not vp.isVisible():
            return []
        ids: list[str] = []
        idx = self.view.indexAt(vp.rect().topLeft())
        height = vp.height()
        while idx.isValid():
            rect = self.view.visualRect(idx)
            if rect.top() >= height:
                break
            c = idx.siblingAtColumn(0).data(ContainerRole)
            if c is not None:
                ids.append(c.id)
            idx = self.view.indexBelow(idx)
        return ids

    def refresh(self) -> None:
        if self._detached:
            return
        wanted = set(self.visible_ids())
        for cid in list(self._subs):
            if cid not in wanted:
                self._subs.pop(cid).close()
                self._shown.pop(cid, None)
                self._repaint(cid)  # its figures stop being live: clear them
        for cid in wanted:
            if cid not in self._subs:
                self._subs[cid] = self.hub.subscribe(cid, glance=True)

    def _repaint(self, cid: str) -> None:
        # One signal per cell: a view repaints just that cell for a one-index change, but the
        # whole viewport (every visible row's delegates) for a range, even of two cells.
        cpu = self.model.index_of(cid, COL_CPU)
        if cpu.isValid():
            self.model.dataChanged.emit(cpu, cpu, _DISPLAY)
            mem = cpu.siblingAtColumn(COL_MEM)
            self.model.dataChanged.emit(mem, mem, _DISPLAY)

    def _on_hub_samples(self, batch) -> None:
        if self._detached:
            return
        # Repaint a row only when what it shows changes: an idle container's "0.0%" and
        # "412.0 KiB" stay put for minutes, and a repaint costs far more than a comparison.
        for s in batch:
            if s.container_id in self._subs:
                shown = (stats_text.percent(s.cpu_percent), binary_size(s.mem_used))
                if self._shown.get(s.container_id) != shown:
                    self._shown[s.container_id] = shown
                    self._repaint(s.container_id)

    def _detach(self, *args) -> None:
        if self._detached:
            return
        self._detached = True
        self.hub.samples.disconnect(self._on_hub_samples)
        for sub in self._subs.values():
            sub.close()
        self._subs.clear()

    def close(self) -> None:
        self._timer.stop()
        self._detach()

