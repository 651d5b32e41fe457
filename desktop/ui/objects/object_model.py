"""A flat Qt table model over an ObjectStore, with columns described as pure functions.

Store signals map to fine-grained model signals (rows inserted/removed, dataChanged), so a relist
that changes one image repaints one row. "Used by" columns read the UsageIndex; its changes
repaint those columns only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt

from desktop.state.object_store import ObjectStore
from desktop.ui.widgets.plain_text import plain_tooltip

ItemRole = Qt.ItemDataRole.UserRole + 1
SortRole = Qt.ItemDataRole.UserRole + 2
KeyRole = Qt.ItemDataRole.UserRole + 3
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_ANSWERED = frozenset({_DISPLAY, _TOOLTIP, _ALIGN, int(ItemRole), int(SortRole), int(KeyRole)})
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[Any], str]
    sort: Callable[[Any], Any] | None = None
    tooltip: Callable[[Any], str] | None = None
    align_right: bool = False
    usage: bool = False  # depends on the UsageIndex: repaint when it changes


class ObjectTableModel(QAbstractTableModel):
    def __init__(self, store: ObjectStore, columns: list[Column], key: Callable[[Any], str], parent=None) -> None:
        super().__init__(parent)
        self._store = store
        self._columns = columns
        self._key = key
        self._keys: list[str] = []
        self._row: dict[str, int] = {}
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._rebuild()
        store.reset.connect(self._on_store_reset)
        store.upserted.connect(self._on_store_upserted)
        store.removed.connect(self._on_store_removed)

    @property
    def columns(self) -> list[Column]:
        return self._columns

    def _rebuild(self) -> None:
        self._keys = self._sorted_keys([self._key(i) for i in self._store.all()])
        self._row = {k: r for r, k in enumerate(self._keys)}

    # Sorting happens here, in Python's sort with one key call per row, instead of in the proxy
    # (whose comparisons call data() through Qt twice per comparison: ~40k calls for 2,000 rows).
    def _sorted_keys(self, keys: list[str]) -> list[str]:
        if self._sort is None:
            return keys
        col, order = self._sort
        c = self._columns[col]
        keyfn = c.sort or c.text
        get = self._store.get

        def k(key: str):
            v = keyfn(get(key))
            return (0, v) if not isinstance(v, str) else (1, v.lower())

        return sorted(keys, key=k, reverse=order == Qt.SortOrder.DescendingOrder)

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self._columns):
            return
        self._sort = (column, order)
        self._resort()

    def _resort(self) -> None:
        if self._sort is None:
            return
        new = self._sorted_keys(self._keys)
        if new == self._keys:
            return
        self.layoutAboutToBeChanged.emit()
        old_keys = self._keys
        self._keys = new
        self._row = {k: r for r, k in enumerate(self._keys)}
        persistent = self.persistentIndexList()
        self.changePersistentIndexList(
            persistent, [self.index(self._row[old_keys[i.row()]], i.column()) for i in persistent])
        self.layoutChanged.emit()

    # Overridden so the proxy's mapToSource (once per cell and role painted) costs one Python
    # call: the inherited index() asks the Python rowCount() and columnCount() every time.
    def index(self, row: int, column: int, parent=QModelIndex()) -> QModelIndex:
        if 0 <= row < len(self._keys) and 0 <= column < len(self._columns) and not parent.isValid():
            return self.createIndex(row, column)
        return QModelIndex()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._keys)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation, role=_DISPLAY):
        # Asked for every role of every section at each header paint: the int test first (an enum
        # comparison costs ~1.5 µs).
        if role != _DISPLAY or orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        return self._columns[section].title

    def item(self, row: int):
        return self._store.get(self._keys[row]) if 0 <= row < len(self._keys) else None

    def row_of(self, key: str) -> int:
        """The row of a key; over a merged store a bare id finds the first engine's row."""
        r = self._row.get(key)
        if r is None and hasattr(self._store, "resolve"):
            resolved = self._store.resolve(key)
            r = self._row.get(resolved) if resolved else None
        return -1 if r is None else r

    def data(self, index: QModelIndex, role=_DISPLAY):
        # Called once per painted cell and role: plain ints and an early return for the roles
        # this model never answers keep it cheap (comparing PySide enums costs ~1.5 µs each).
        if role not in _ANSWERED:
            return None
        row = index.row()
        if not 0 <= row < len(self._keys):
            return None
        it = self._store.get(self._keys[row])
        if it is None:
            return None
        col = self._columns[index.column()]
        if role == _DISPLAY:
            return col.text(it)
        if role == ItemRole:
            return it
        if role == KeyRole:
            return self._keys[row]
        if role == SortRole:
            return col.sort(it) if col.sort else col.text(it)
        if role == _TOOLTIP:
            return plain_tooltip(col.tooltip(it)) if col.tooltip else None
        if role == _ALIGN:
            return _RIGHT if col.align_right else None
        return None

    def usage_changed(self) -> None:
        cols = [i for i, c in enumerate(self._columns) if c.usage]
        if cols and self._keys:
            self.dataChanged.emit(self.index(0, min(cols)), self.index(len(self._keys) - 1, max(cols)))

    # -- store → model ------------------------------------------------------------------------------
    def _on_store_reset(self) -> None:
        self.beginResetModel()
        self._rebuild()
        self.endResetModel()

    def _on_store_upserted(self, items: list) -> None:
        new = [self._key(i) for i in items if self._key(i) not in self._row]
        for i in items:
            r = self._row.get(self._key(i))
            if r is not None:
                self.dataChanged.emit(self.index(r, 0), self.index(r, len(self._columns) - 1))
        if new:
            first = len(self._keys)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for k in new:
                self._row[k] = len(self._keys)
                self._keys.append(k)
            self.endInsertRows()
        self._resort()

    def _on_store_removed(self, keys: list[str]) -> None:
        for r in sorted((self._row[k] for k in keys if k in self._row), reverse=True):
            self.beginRemoveRows(QModelIndex(), r, r)
            del self._keys[r]
            self.endRemoveRows()
        self._row = {k: r for r, k in enumerate(self._keys)}


class ObjectFilterProxy(QSortFilterProxyModel):
    """Text filter over all columns plus an optional predicate on the item."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._text = ""
        self._pred: Callable[[Any], bool] | None = None
        self._engine: str | None = None
        self.setDynamicSortFilter(True)

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Sorted by the source model (fast); the proxy only filters and keeps the source order."""
        self.sourceModel().sort(column, order)

    def set_text(self, text: str) -> None:
        self._text = text.strip().lower()
        self.refilter()

    def set_predicate(self, pred: Callable[[Any], bool] | None) -> None:
        self._pred = pred
        self.refilter()

    def set_engine(self, engine: str | None) -> None:
        """Only this engine's rows (None: every engine's)."""
        self._engine = engine
        self.refilter()

    def refilter(self) -> None:
        """Re-run the filter (Qt ≥ 6.10 wants begin/endFilterChange; older ones invalidateFilter)."""
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            self.endFilterChange()
        else:
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        model: ObjectTableModel = self.sourceModel()
        it = model.item(row)
        if it is None:
            return False
        if self._engine is not None and getattr(it, "engine_id", None) != self._engine:
            return False
        if self._pred is not None and not self._pred(it):
            return False
        if not self._text:
            return True
        return any(self._text in (c.text(it) or "").lower() for c in model.columns)
