"""The Logs page's list of containers to merge: a check box per container, held as a list of
(id, text) and a set of checked ids behind a list model. A QListWidget made an item object per
container (over a second at 20,000); this model makes nothing per row, and the list view with
uniform row heights asks only for the rows on screen."""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt, Signal

IdRole = Qt.ItemDataRole.UserRole + 1

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_CHECK = int(Qt.ItemDataRole.CheckStateRole)
_ID = int(IdRole)
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsUserCheckable


class ContainerPickerModel(QAbstractListModel):
    """Signals: checked_by_user() after a click (or the keyboard) changed a row's check."""

    checked_by_user = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[str, str]] = []
        self._checked: set[str] = set()

    # -- the page's side -------------------------------------------------------------------------
    def rows(self) -> list[tuple[str, str]]:
        return self._rows

    def set_rows(self, rows: list[tuple[str, str]], checked: set[str]) -> None:
        """Other containers (or another order): the list anew, these ids checked."""
        self.beginResetModel()
        self._rows = list(rows)
        self._checked = {cid for cid, _ in self._rows if cid in checked}
        self.endResetModel()

    def set_texts(self, rows: list[tuple[str, str]]) -> None:
        """The same containers in the same order, some texts changed (a state)."""
        changed = [i for i, ((_, new), (_, old)) in enumerate(zip(rows, self._rows)) if new != old]
        self._rows = list(rows)
        if changed:
            self.dataChanged.emit(self.index(changed[0]), self.index(changed[-1]), [_DISPLAY, _TOOLTIP])

    def set_checked(self, ids) -> None:
        """Exactly these containers checked (not announced as the user's)."""
        want = set(ids)
        self._checked = {cid for cid, _ in self._rows if cid in want}
        if self._rows:
            self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1), [_CHECK])

    def checked_ids(self) -> list[str]:
        """The checked containers, in the list's order."""
        return [cid for cid, _ in self._rows if cid in self._checked]

    # -- QAbstractListModel ------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt's name
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex, role: int = _DISPLAY):
        row = index.row()
        if not index.isValid() or row >= len(self._rows):
            return None
        cid, text = self._rows[row]
        if role == _DISPLAY or role == _TOOLTIP:
            return text
        if role == _CHECK:
            return Qt.CheckState.Checked if cid in self._checked else Qt.CheckState.Unchecked
        if role == _ID:
            return cid
        return None

    def flags(self, index: QModelIndex):
        return _FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def setData(self, index: QModelIndex, value, role: int = _CHECK) -> bool:  # noqa: N802 - Qt's name
        if role != _CHECK or not index.isValid() or index.row() >= len(self._rows):
            return False
        cid = self._rows[index.row()][0]
        state = value.value if isinstance(value, Qt.CheckState) else int(value)
        if state == Qt.CheckState.Checked.value:
            self._checked.add(cid)
        else:
            self._checked.discard(cid)
        self.dataChanged.emit(index, index, [_CHECK])
        self.checked_by_user.emit()
        return True
