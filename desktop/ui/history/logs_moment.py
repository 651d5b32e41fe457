"""A container's Logs tab on the shared time cursor: when the cursor points at a moment of that
container (an event selected in Activity, a point of its recorded Stats graph), the tab scrolls to
the first line written at or after that moment and selects it."""

from __future__ import annotations

import numpy as np

from desktop.state.history.time_cursor import Moment, TimeCursor


def first_line_at(chunks, ts_ns: int) -> int:
    """The index of the first line at or after `ts_ns` (the last line if every line is older;
    -1 without lines). The log file is nearly, not strictly, in time order: the first such line."""
    last = -1
    for first, batch in chunks:
        if not len(batch):
            continue
        hits = np.flatnonzero(batch.ts >= ts_ns)
        if len(hits):
            return first + int(hits[0])
        last = first + len(batch) - 1
    return last


class LogsAtMoment:
    """Links one Logs tab (of container `cid` on engine `engine`) to the cursor until `close()`."""

    def __init__(self, logs_tab, cursor: TimeCursor, engine: str, cid: str) -> None:
        self.logs, self.cursor, self.engine, self.cid = logs_tab, cursor, engine, cid
        self.shown_line = -1  # the line scrolled to last (tests)
        self._waiting: Moment | None = None  # a moment to show once the lines are in
        cursor.moved.connect(self._on_cursor_moved)
        logs_tab.loaded.connect(self._on_logs_loaded)
        if cursor.moment is not None and cursor.moment.about(engine, cid):
            self._on_cursor_moved(cursor.moment)

    def _on_cursor_moved(self, m: Moment) -> None:
        if not m.about(self.engine, self.cid) or not m.container:
            return
        if self.logs.is_loaded:
            self._show(m)
        else:
            self._waiting = m

    def _on_logs_loaded(self) -> None:
        m, self._waiting = self._waiting, None
        if m is not None:
            self._show(m)

    def _show(self, m: Moment) -> None:
        line = first_line_at(self.logs.buffer.chunks(), int(m.t * 1e9))
        if line < 0:
            return
        self.shown_line = line
        self.logs.view.scroll_to_line(line)
        self.logs.view.select_lines(line, line)

    def close(self) -> None:
        self.cursor.moved.disconnect(self._on_cursor_moved)
