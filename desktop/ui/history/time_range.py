"""The Activity timeline's custom time range: a "from" and a "to" moment typed or picked, checked
where they are typed (from must come before to), beside the preset ranges."""

from __future__ import annotations

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtWidgets import QDateTimeEdit, QHBoxLayout, QLabel, QWidget

from desktop.ui.widgets.plain_text import plain_label
from desktop.ui.widgets.palette_sheet import set_sheet

FORMAT = "yyyy-MM-dd HH:mm:ss"


class CustomRange(QWidget):
    """`changed()` when a valid range is set; `span_ns()` is (since, until) in ns, or None while
    the range is not valid (the message beside the fields says why)."""

    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("activityCustomRange")
        now = QDateTime.currentDateTime()
        self.start = QDateTimeEdit(now.addSecs(-3600))
        self.end = QDateTimeEdit(now)
        for edit, name in ((self.start, "From"), (self.end, "To")):
            edit.setDisplayFormat(FORMAT)
            edit.setCalendarPopup(True)
            edit.setAccessibleName(f"{name} (date and time)")
            edit.dateTimeChanged.connect(self._on_edit_changed)
        self.error = plain_label("")
        self.error.setObjectName("activityRangeError")
        set_sheet(self.error, "color: #b00020;")
        self.error.hide()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel("From"))
        lay.addWidget(self.start)
        lay.addWidget(QLabel("to"))
        lay.addWidget(self.end)
        lay.addWidget(self.error, 1)

    def set_span(self, since_s: float, until_s: float) -> None:
        """Put a range in the fields (one `changed` for both)."""
        self.blockSignals(True)
        try:
            self.start.setDateTime(QDateTime.fromSecsSinceEpoch(int(since_s)))
            self.end.setDateTime(QDateTime.fromSecsSinceEpoch(int(until_s)))
        finally:
            self.blockSignals(False)
        self._on_edit_changed()

    def span_ns(self) -> tuple[int, int] | None:
        a = self.start.dateTime().toSecsSinceEpoch()
        b = self.end.dateTime().toSecsSinceEpoch()
        if a >= b:
            return None
        return a * 1_000_000_000, b * 1_000_000_000 + 999_999_999  # the "to" second included

    def _on_edit_changed(self, *_a) -> None:
        if self.span_ns() is None:
            self.error.setText("The start of the range must come before its end.")
            self.error.show()
            return
        self.error.hide()
        self.changed.emit()
