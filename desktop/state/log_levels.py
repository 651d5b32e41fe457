"""Log levels detected per line, and the rows a level (and time) filter keeps.

A line's level is the first level word near its start ("ERROR", "warn", "level=info",
`"level":"error"`, "[E]" is not one): a line "INFO retrying after error" is info. Lines with
no level word are "other". Each level is one LogSearch (a C-level regex scan per chunk, kept
current as lines arrive, older lines included), so levels cost nothing until a filter is on.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from desktop.state.log_buffer import LogBuffer
from desktop.state.log_search import LogSearch
from desktop.state.log_spill import SpilledChunk

LEVELS = ("error", "warn", "info", "other")
WORDS = {
    "error": ("error", "err", "fatal", "panic", "crit", "critical", "emerg", "emergency", "alert", "severe"),
    "warn": ("warn", "warning"),
    "info": ("info", "notice", "debug", "trace"),
}
WINDOW = 160  # how far into a line its level word may be (timestamps and names come first)


def level_pattern(level: str) -> str:
    """A regex matching at the start of a line whose first level word is one of `level`'s."""
    own = "|".join(WORDS[level])
    others = "|".join(w for k, ws in WORDS.items() if k != level for w in ws)
    return rf"^(?:(?!\b(?:{others})\b)[^\n]){{0,{WINDOW}}}?\b(?:{own})\b"


class LevelIndex:
    """The lines of each level in one buffer (built on first use, then kept current)."""

    def __init__(self) -> None:
        self._searches: dict[str, LogSearch] = {}

    def search(self, level: str) -> LogSearch:
        s = self._searches.get(level)
        if s is None:
            s = self._searches[level] = LogSearch(level_pattern(level), regex=True, case_sensitive=False)
        return s

    def update(self, buf: LogBuffer) -> None:
        for s in self._searches.values():
            s.update(buf)

    def reset(self) -> None:
        self._searches.clear()

    def rows(self, buf: LogBuffer, levels: Iterable[str]) -> np.ndarray | None:
        """Sorted line indexes of the lines of `levels`; None when every level is wanted."""
        want = set(levels)
        if want >= set(LEVELS):
            return None
        named = [lv for lv in LEVELS[:-1] if lv in want]
        for lv in (LEVELS[:-1] if "other" in want else named):
            self.search(lv).update(buf)
        parts = [self.search(lv).lines() for lv in named]
        rows = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
        if "other" in want:
            leveled = np.unique(np.concatenate([self.search(lv).lines() for lv in LEVELS[:-1]]))
            rows = np.union1d(rows, np.setdiff1d(np.arange(len(buf), dtype=np.int64), leveled, assume_unique=True))
        return rows


def time_rows(buf: LogBuffer, start_ns: int | None, end_ns: int | None) -> np.ndarray | None:
    """Sorted line indexes whose timestamp lies in [start, end]; None when there is no bound."""
    if start_ns is None and end_ns is None:
        return None
    parts = []
    for first, batch in buf.chunks():
        if isinstance(batch, SpilledChunk):  # on disk: read its timestamps only when it straddles a bound
            inside = (start_ns is None or batch.ts_min >= start_ns) and (end_ns is None or batch.ts_max <= end_ns)
            outside = (start_ns is not None and batch.ts_max < start_ns) or (end_ns is not None and batch.ts_min > end_ns)
            if inside or outside:
                if inside:
                    parts.append(np.arange(first, first + len(batch), dtype=np.int64))
                continue
            ts = batch.load_ts()
        else:
            ts = batch.ts
        keep = np.ones(len(ts), bool)
        if start_ns is not None:
            keep &= ts >= start_ns
        if end_ns is not None:
            keep &= ts <= end_ns
        parts.append(np.flatnonzero(keep).astype(np.int64) + first)
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)
