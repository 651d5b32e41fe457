"""Search over a LogBuffer: one C-level regex scan per chunk, matches mapped to lines with numpy.

Searching runs on the bytes the log holds (after removing ANSI escapes when the view renders
them, so what a user sees is what they can find). A full scan of a large log runs in a worker
thread over a snapshot of the chunks; lines that arrive later are scanned incrementally.
Note: in bytes mode case-insensitivity folds ASCII letters only.
"""

from __future__ import annotations

import re

import numpy as np

from desktop.state.ansi import CSI_BYTES_RE
from desktop.engine.log_records import LogBatch
from desktop.state.log_buffer import LogBuffer, LogRegion
from desktop.state.log_spill import loaded


class SearchError(ValueError):
    """The query cannot be searched for; str(err) is a sentence for the user."""


def compile_query(text: str, *, regex: bool, case_sensitive: bool) -> tuple[re.Pattern[bytes], re.Pattern[str]]:
    """(bytes pattern for scanning, str pattern for highlighting) for a query; raises SearchError."""
    if not text:
        raise SearchError("Type something to search for.")
    src = text if regex else re.escape(text)
    flags = re.MULTILINE | (0 if case_sensitive else re.IGNORECASE)
    try:
        return re.compile(src.encode("utf-8"), flags), re.compile(src, flags)
    except re.error as err:
        where = f" at position {err.pos + 1}" if err.pos is not None else ""
        raise SearchError(f"Not a valid regular expression: {err.msg}{where}.") from None
    except (OverflowError, RecursionError):
        raise SearchError("That regular expression is too large.") from None


_ESC_RE = re.compile(rb"\x1b")


def _escape_lines(batch: LogBatch) -> np.ndarray:
    """Indexes of the lines holding an escape sequence (memoised on the immutable batch)."""
    cached = batch.__dict__.get("_esc_lines")
    if cached is None:
        data = batch.data
        if b"\x1b" not in data:
            cached = np.zeros(0, np.int64)
        else:
            pos = np.fromiter((m.start() for m in _ESC_RE.finditer(data)), np.int64)
            lines = np.searchsorted(batch.offs[1:].astype(np.int64) - 1, pos, side="left")
            cached = np.unique(lines)
        object.__setattr__(batch, "_esc_lines", cached)
    return cached


def _scan(pattern: re.Pattern[bytes], data: bytes, ends: np.ndarray, regex: bool) -> np.ndarray:
    starts = []
    find = data.find
    for m in pattern.finditer(data):
        s, e = m.span()
        if e == s or (regex and find(b"\n", s, e) >= 0):
            continue  # empty matches and matches across lines are not line matches
        starts.append(s)
    if not starts:
        return np.zeros(0, np.int64)
    return np.searchsorted(ends, np.asarray(starts, np.int64), side="left").astype(np.int64)


def scan_batch(pattern: re.Pattern[bytes], batch: LogBatch, *, strip_ansi: bool, regex: bool = True) -> np.ndarray:
    """Line index (within the batch) of every match, in order; a line appears once per match.

    With `strip_ansi`, lines are searched as displayed (escape sequences removed). Most lines
    of a log have none: they are scanned in place, and only the lines with escapes are
    stripped and scanned apart (stripping a whole chunk costs 6x the scan itself).
    """
    data = batch.data
    if not data:
        return np.zeros(0, np.int64)
    ends = batch.offs[1:].astype(np.int64) - 1
    esc = _escape_lines(batch) if strip_ansi else np.zeros(0, np.int64)
    if not len(esc):
        return _scan(pattern, data, ends, regex)
    if len(esc) * 8 > len(batch):  # mostly coloured: strip everything at once
        stripped = CSI_BYTES_RE.sub(b"", data)
        return _scan(pattern, stripped, np.flatnonzero(np.frombuffer(stripped, np.uint8) == 10), regex)
    plain = _scan(pattern, data, ends, regex)
    plain = plain[~np.isin(plain, esc)]
    starts = batch.offs[esc].astype(np.int64)
    lens = batch.offs[esc + 1].astype(np.int64) - starts
    idx = np.repeat(starts - np.concatenate(([0], np.cumsum(lens)[:-1])), lens) + np.arange(int(lens.sum()))
    coloured = CSI_BYTES_RE.sub(b"", np.frombuffer(data, np.uint8)[idx].tobytes())  # those lines only
    hits = _scan(pattern, coloured, np.flatnonzero(np.frombuffer(coloured, np.uint8) == 10), regex)
    merged = np.concatenate([plain, esc[hits]])
    return np.sort(merged, kind="stable")


def scan_chunks(pattern: re.Pattern[bytes], chunks: list[tuple[int, LogBatch]], *, strip_ansi: bool, regex: bool) -> np.ndarray:
    """Global line index of every match over a `chunks()` snapshot (safe in a worker thread).

    Spilled chunks are read back one at a time, so a search over a log on disk holds one chunk
    of it in memory at most."""
    parts = [scan_batch(pattern, loaded(c), strip_ansi=strip_ansi, regex=regex) + start for start, c in chunks]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def _region_range(region: LogRegion, a: int) -> list[tuple[int, LogBatch]]:
    """Lines [a, len) of a region as (first index, batch) pieces (copies small ranges only)."""
    out = []
    for start, c in zip(region.starts, region.sealed):
        if start + len(c) > a:
            out.append((start, c) if start >= a else (a, loaded(c).slice(a - start, len(c))))
    n = len(region)
    if n > max(a, region.sealed_count):
        lo = max(a, region.sealed_count) - region.sealed_count
        snap = region.open_snapshot()
        out.append((region.sealed_count + lo, snap.slice(lo, len(snap))))
    return out


class LogSearch:
    """The matches of one query in one buffer, kept current as lines arrive."""

    def __init__(self, query: str, *, regex: bool = False, case_sensitive: bool = False, strip_ansi: bool = True) -> None:
        self.query = query
        self.regex = regex
        self.strip_ansi = strip_ansi
        self.pattern, self.display_pattern = compile_query(query, regex=regex, case_sensitive=case_sensitive)
        self._older = np.zeros(0, np.int64)  # region-local line indexes
        self._newer = np.zeros(0, np.int64)
        self.scanned_older = 0
        self.scanned_newer = 0
        self._all: np.ndarray | None = None
        self._lines: np.ndarray | None = None

    # -- scanning ------------------------------------------------------------------------------
    def snapshot(self, buf: LogBuffer) -> tuple[list, list]:
        """What a full scan needs, taken on the owning thread."""
        return buf.older.chunks(), buf.newer.chunks()

    def scan_snapshot(self, snap: tuple[list, list]) -> tuple[np.ndarray, int, np.ndarray, int]:
        """The full scan; pure, for a worker thread. Returns what `adopt` takes."""
        older, newer = snap
        kw = dict(strip_ansi=self.strip_ansi, regex=self.regex)
        return (scan_chunks(self.pattern, older, **kw), sum(len(c) for _, c in older),
                scan_chunks(self.pattern, newer, **kw), sum(len(c) for _, c in newer))

    def adopt(self, result: tuple[np.ndarray, int, np.ndarray, int]) -> None:
        self._older, self.scanned_older, self._newer, self.scanned_newer = result
        self._all = self._lines = None

    def update(self, buf: LogBuffer) -> bool:
        """Scan lines added since the last scan; True if there are new matches."""
        found = False
        kw = dict(strip_ansi=self.strip_ansi, regex=self.regex)
        for name in ("older", "newer"):
            region: LogRegion = getattr(buf, name)
            done = getattr(self, f"scanned_{name}")
            if len(region) > done:
                new = scan_chunks(self.pattern, _region_range(region, done), **kw)
                setattr(self, f"scanned_{name}", len(region))
                if len(new):
                    setattr(self, f"_{name}", np.concatenate([getattr(self, f"_{name}"), new]))
                    found = True
        if found:
            self._all = self._lines = None
        return found

    def scanned(self, buf: LogBuffer) -> bool:
        return self.scanned_older == len(buf.older) and self.scanned_newer == len(buf.newer)

    # -- results -------------------------------------------------------------------------------
    def matches(self) -> np.ndarray:
        """Global line index per match, in order (call with the buffer's current older size)."""
        if self._all is None:
            self._all = np.concatenate([self._older, self._newer + self.scanned_older])
        return self._all

    def match_count(self) -> int:
        return len(self._older) + len(self._newer)

    def lines(self) -> np.ndarray:
        """Sorted global indexes of the lines with at least one match (the filter's rows)."""
        if self._lines is None:
            a = self.matches()
            self._lines = a[np.concatenate(([True], a[1:] != a[:-1]))] if len(a) else a
        return self._lines

    def match_at(self, k: int) -> tuple[int, int]:
        """(line, ordinal of the match within that line) of match k."""
        a = self.matches()
        line = int(a[k])
        return line, k - int(np.searchsorted(a, line, side="left"))

    def first_match_from(self, line: int, backwards: bool = False) -> int:
        """The index of the first match at/after (or last before) a line; -1 if none."""
        a = self.matches()
        if not len(a):
            return -1
        if backwards:
            k = int(np.searchsorted(a, line, side="left")) - 1
            return k if k >= 0 else len(a) - 1
        k = int(np.searchsorted(a, line, side="left"))
        return k if k < len(a) else 0
