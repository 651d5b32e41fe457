"""A row of buttons that wraps onto a second line when the window is narrow, instead of making
the page wider than the window (Qt's flow layout example, with the calls a QHBoxLayout row used)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QSizePolicy, QSpacerItem, QWidgetItem


class FlowLayout(QLayout):
    def __init__(self, parent=None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        # Answers kept until invalidate(), as Qt's own box layouts keep theirs: one layout pass asks
        # the same height-for-width and sizes many times (each enclosing layout and widget again),
        # and each answer walks every button through Python.
        self._hfw: tuple[int, int] | None = None
        self._entries: list | None = None
        self._hint: QSize | None = None
        self._minimum: QSize | None = None
        self.setContentsMargins(0, 0, 0, 0)

    # -- QLayout --------------------------------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802
        self._items.append(item)
        self.invalidate()

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        if not 0 <= index < len(self._items):
            return None
        self.invalidate()
        return self._items.pop(index)

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        if self._hfw is None or self._hfw[0] != width:
            self._hfw = (width, self._do_layout(QRect(0, 0, width, 0), test_only=True))
        return self._hfw[1]

    def invalidate(self) -> None:
        self._hfw = None
        self._entries = None
        self._hint = self._minimum = None
        super().invalidate()

    def _visible_entries(self) -> list[tuple[QLayoutItem, QSize, bool]]:
        """(item, size hint, is a spacer) of the items shown, read once until invalidate()."""
        if self._entries is None:
            out = []
            for item in self._items:
                w = item.widget()
                if w is not None and not w.isVisibleTo(w.parentWidget()):
                    continue
                out.append((item, item.sizeHint(), item.spacerItem() is not None))
            self._entries = out
        return self._entries

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802
        super().setGeometry(rect)
        self._do_layout(rect, test_only=False)

    def sizeHint(self) -> QSize:  # noqa: N802
        """One row of everything (what it takes when there is room)."""
        if self._hint is None:
            w = sum(i.sizeHint().width() for i in self._items) + self._spacing * max(len(self._items) - 1, 0)
            h = max((i.sizeHint().height() for i in self._items), default=0)
            m = self.contentsMargins()
            self._hint = QSize(w + m.left() + m.right(), h + m.top() + m.bottom())
        return QSize(self._hint)

    def minimumSize(self) -> QSize:  # noqa: N802
        """The widest single item: anything beyond it wraps."""
        if self._minimum is None:
            size = QSize()
            for item in self._items:
                size = size.expandedTo(item.minimumSize())
            m = self.contentsMargins()
            self._minimum = size + QSize(m.left() + m.right(), m.top() + m.bottom())
        return QSize(self._minimum)

    # -- the calls a QHBoxLayout row used --------------------------------------------------------------
    def setSpacing(self, spacing: int) -> None:  # noqa: N802
        self._spacing = spacing
        self.invalidate()

    def spacing(self) -> int:
        return self._spacing

    def addSpacing(self, size: int) -> None:  # noqa: N802
        self.addItem(QSpacerItem(size, 0, QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Minimum))

    def addStretch(self, _stretch: int = 0) -> None:  # noqa: N802
        pass  # rows are packed to the left; what follows a stretch simply comes next

    def addWidget(self, widget, *_args) -> None:  # noqa: N802
        self.addChildWidget(widget)
        self.addItem(QWidgetItem(widget))

    def _do_layout(self, rect: QRect, test_only: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, line = area.x(), area.y(), 0
        for item, hint, spacer in self._visible_entries():
            if x > area.x() and x + hint.width() > area.right() + 1:
                if spacer:
                    continue  # a gap at the end of a line is not carried to the next
                x, y, line = area.x(), y + line + self._spacing, 0
            if not test_only:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line = max(line, hint.height())
        return y + line - rect.y() + m.bottom()
