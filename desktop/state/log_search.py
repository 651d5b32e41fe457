"""Search over a LogBuffer: one C-level regex scan per chunk, matches mapped to lines with numpy.

Searching runs on the bytes the log holds (after removing ANSI escapes when the view renders
them, so what a user sees is what they can find). A full scan of a large log runs in a worker
thread over a snapshot of the chunks; lines that arrive later are scanned incrementally.
Note: in bytes mode case-insensitivity folds ASCII letters only.
"""

from __future__ import annotations

import re
import time

import numpy as np

from desktop.state.ansi import CSI_BYTES_RE
from desktop.engine.log_records import LogBatch, escape_lines as _escape_lines
from desktop.state.log_buffer import LogBuffer, LogRegion
from desktop.state.log_spill import loaded
from desktop.state.regex_literals import required_literal


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


class _Query:
    """A compiled query and what makes scanning for it fast (the literal its matches contain)."""

    __slots__ = ("pattern", "literal", "exact", "fold")

    def __init__(self, pattern: re.Pattern[bytes], regex: bool = True) -> None:
        self.pattern = pattern
        self.literal, self.exact = required_literal(pattern)
        self.fold = bool(pattern.flags & re.IGNORECASE) and self.literal is not None and \
            self.literal.upper() != self.literal


DENSE = 8  # a literal in more than one line of this many: the whole-text scan is cheaper


def _line_matches(pattern: re.Pattern[bytes], data: bytes, a: int, b: int, out: list[int]) -> None:
    """Starts of the non-empty matches in the line data[a:b] (without its newline), matched alone."""
    for m in pattern.finditer(data, a, b):
        if m.end() > m.start():
            out.append(m.start())


def _scan_whole(pattern: re.Pattern[bytes], data: bytes) -> list[int]:
    """Every line matched on its own, as grep does, with one pass of the regex over the text.

    A match that runs across a newline (`\\s+`, `[^x]*`) is not a line's match, and it may hide
    one: the lines it touches are matched one by one, then the pass goes on after them.
    """
    out: list[int] = []
    find, rfind = data.find, data.rfind
    pos, n = 0, len(data)
    while pos < n:
        for m in pattern.finditer(data, pos):
            s, e = m.span()
            if e == s:
                continue
            if find(b"\n", s, e) < 0:
                out.append(s)
                continue
            first = rfind(b"\n", 0, s) + 1
            while out and out[-1] >= first:  # that line again, whole
                out.pop()
            last = find(b"\n", e - 1)
            last = n if last < 0 else last
            a = first
            while a <= last and a < n:
                z = find(b"\n", a, last + 1)
                z = last if z < 0 else z
                _line_matches(pattern, data, a, z, out)
                a = z + 1
            pos = last + 1
            break
        else:
            break
    return out


def _gather_lines(data: bytes, starts: np.ndarray, ends: np.ndarray) -> bytes:
    """The bytes data[starts[k]:ends[k]] of every k, joined (views joined once: 3x faster than
    a vectorised gather, whose index array is 8 bytes per byte gathered)."""
    mv = memoryview(data)
    return b"".join([mv[a:z] for a, z in zip(starts.tolist(), ends.tolist())])


def _scan_literal(q: _Query, data: bytes, ends: np.ndarray) -> list[int] | np.ndarray | None:
    """Matches found through the query's literal: only lines holding it are matched (None: the
    literal is in too many lines for that to pay)."""
    hay = data.lower() if q.fold else data
    lit = q.literal
    if not q.exact:
        sample = min(len(hay), 1 << 18)
        lines = hay.count(b"\n", 0, sample) or 1
        if hay.count(lit, 0, sample) * DENSE > lines:
            return None
    out: list[int] = []
    find = hay.find
    k = len(lit)
    pos, n = 0, len(hay)
    if q.exact:  # each occurrence is a match; they do not overlap
        j = find(lit)
        while j >= 0:
            end = find(b"\n", j)
            end = n if end < 0 else end
            while 0 <= j and j + k <= end:
                out.append(j)
                j = find(lit, j + k, end)
            j = find(lit, end + 1)
        return out
    # The lines holding the literal, joined and scanned in one pass: a regex call per line would
    # cost more than the scan of the whole text it saves. Two finds per such line (the literal,
    # then the line's end to go on from); where each line starts and ends comes from `ends`.
    found = []
    while True:
        j = find(lit, pos)
        if j < 0:
            break
        found.append(j)
        end = find(b"\n", j)
        if end < 0:
            break
        pos = end + 1
    if not found:
        return out
    li = np.searchsorted(ends, np.asarray(found, np.int64), side="left")
    z = np.append(ends, n - 1)[li] + 1  # the line's end with its newline (the text's end if none)
    a = np.zeros(len(li), np.int64)
    inner = li > 0
    a[inner] = ends[li[inner] - 1] + 1
    text = _gather_lines(data, a, z)
    hits = np.asarray(_scan_whole(q.pattern, text), np.int64)
    if not len(hits):
        return out
    at = np.concatenate(([0], np.cumsum(z - a)[:-1]))  # where each line starts in `text`
    k_line = np.searchsorted(at, hits, side="right") - 1
    return a[k_line] + (hits - at[k_line])


def _scan(q: "_Query | re.Pattern[bytes]", data: bytes, ends: np.ndarray, regex: bool = True) -> np.ndarray:
    """Line index of every match in `data` (lines ending at `ends`), in order."""
    if isinstance(q, re.Pattern):
        q = _Query(q, regex)
    starts = _scan_literal(q, data, ends) if q.literal is not None else None
    if starts is None:
        starts = _scan_whole(q.pattern, data)
    if not len(starts):
        return np.zeros(0, np.int64)
    return np.searchsorted(ends, np.asarray(starts, np.int64), side="left").astype(np.int64)


def scan_batch(pattern: "re.Pattern[bytes] | _Query", batch: LogBatch, *, strip_ansi: bool, regex: bool = True) -> np.ndarray:
    """Line index (within the batch) of every match, in order; a line appears once per match.

    Every line is matched on its own (as grep does). With `strip_ansi`, lines are searched as
    displayed (escape sequences removed). Most lines of a log have none: they are scanned in
    place, and only the lines with escapes are stripped and scanned apart (stripping a whole
    chunk costs 6x the scan itself).
    """
    q = pattern if isinstance(pattern, _Query) else _Query(pattern, regex)
    data = batch.data
    if not data:
        return np.zeros(0, np.int64)
    ends = batch.offs[1:].astype(np.int64) - 1
    esc = _escape_lines(batch) if strip_ansi else np.zeros(0, np.int64)
    if not len(esc):
        return _scan(q, data, ends)
    if len(esc) * 8 > len(batch):  # mostly coloured: strip everything at once
        stripped = CSI_BYTES_RE.sub(b"", data)
        return _scan(q, stripped, np.flatnonzero(np.frombuffer(stripped, np.uint8) == 10))
    plain = _scan(q, data, ends)
    if len(plain):  # drop the coloured lines' hits (both sorted: no hashing as np.isin does)
        at = np.minimum(np.searchsorted(esc, plain), len(esc) - 1)
        plain = plain[esc[at] != plain]
    coloured = CSI_BYTES_RE.sub(b"", _gather_lines(data, batch.offs[esc].astype(np.int64),
                                                 batch.offs[esc + 1].astype(np.int64)))  # those lines only
    hits = _scan(q, coloured, np.flatnonzero(np.frombuffer(coloured, np.uint8) == 10))
    merged = np.concatenate([plain, esc[hits]])
    return np.sort(merged, kind="stable")


def scan_chunks(pattern: "re.Pattern[bytes] | _Query", chunks: list[tuple[int, LogBatch]], *, strip_ansi: bool,
                regex: bool) -> np.ndarray:
    """Global line index of every match over a `chunks()` snapshot (safe in a worker thread).

    Spilled chunks are read back one at a time, so a search over a log on disk holds one chunk
    of it in memory at most."""
    q = pattern if isinstance(pattern, _Query) else _Query(pattern, regex)
    parts = [scan_batch(q, loaded(c), strip_ansi=strip_ansi) + start for start, c in chunks]
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
    """The matches of one query in one buffer, kept current as lines arrive.

    Matches are kept per region (older: backfilled, newer: the tail and followed lines), each
    for a prefix of it that was scanned: a scan in a worker publishes its results as it goes,
    and lines backfilled meanwhile are scanned after it.
    """

    def __init__(self, query: str, *, regex: bool = False, case_sensitive: bool = False, strip_ansi: bool = True) -> None:
        self.query = query
        self.regex = regex
        self.strip_ansi = strip_ansi
        self.pattern, self.display_pattern = compile_query(query, regex=regex, case_sensitive=case_sensitive)
        self._query = _Query(self.pattern, regex)
        self._older = np.zeros(0, np.int64)  # region-local line indexes
        self._newer = np.zeros(0, np.int64)
        self.scanned_older = 0
        self.scanned_newer = 0
        self._buf: LogBuffer | None = None  # whose lines these are (for the newer lines' global index)
        self._all: np.ndarray | None = None
        self._all_at = -1  # the older region's length `_all` was made for
        self._lines: np.ndarray | None = None

    # -- scanning ------------------------------------------------------------------------------
    def snapshot(self, buf: LogBuffer) -> tuple[list, list]:
        """What a full scan needs, taken on the owning thread."""
        self._buf = buf
        return buf.older.chunks(), buf.newer.chunks()

    def scan_snapshot(self, snap: tuple[list, list], on_part=None,
                      every: float = 0.1) -> tuple[np.ndarray, int, np.ndarray, int]:
        """The full scan; pure, for a worker thread. Returns what `adopt` takes.

        Args:
            on_part: called (in the worker) with what `adopt` takes for the part scanned so far,
                about every `every` seconds, so results show while the rest is searched.
        """
        older, newer = snap
        done: dict[str, list[np.ndarray]] = {"older": [], "newer": []}
        counts = {"older": 0, "newer": 0}
        last = time.monotonic()

        def result() -> tuple[np.ndarray, int, np.ndarray, int]:
            o, n = done["older"], done["newer"]
            return (np.concatenate(o) if o else np.zeros(0, np.int64), counts["older"],
                    np.concatenate(n) if n else np.zeros(0, np.int64), counts["newer"])

        for name, chunks in (("older", older), ("newer", newer)):
            for start, c in chunks:
                done[name].append(scan_batch(self._query, loaded(c), strip_ansi=self.strip_ansi) + start)
                counts[name] = start + len(c)
                if on_part is not None and time.monotonic() - last >= every:
                    on_part(result())
                    last = time.monotonic()
        return result()

    def adopt(self, result: tuple[np.ndarray, int, np.ndarray, int], buf: LogBuffer | None = None) -> None:
        """Take a scan's results (all of a snapshot, or the part of it scanned so far)."""
        self._older, self.scanned_older, self._newer, self.scanned_newer = result
        if buf is not None:
            self._buf = buf
        self._all = self._lines = None

    def pending(self, buf: LogBuffer) -> int:
        """Lines added since the last scan."""
        return len(buf.older) - self.scanned_older + len(buf.newer) - self.scanned_newer

    def plan_update(self, buf: LogBuffer) -> tuple:
        """What `scan_update` scans: the lines added since the last scan (taken on the owning thread)."""
        self._buf = buf
        return tuple((name, len(getattr(buf, name)), _region_range(getattr(buf, name), getattr(self, f"scanned_{name}")))
                     for name in ("older", "newer") if len(getattr(buf, name)) > getattr(self, f"scanned_{name}"))

    def scan_update(self, plan: tuple) -> list[tuple[str, int, np.ndarray]]:
        """Scan a plan's lines (pure: for a worker thread when they are many)."""
        kw = dict(strip_ansi=self.strip_ansi, regex=self.regex)
        return [(name, n, scan_chunks(self._query, ranges, **kw)) for name, n, ranges in plan]

    def apply_update(self, found: list[tuple[str, int, np.ndarray]]) -> bool:
        """Take what `scan_update` found; True if there are new matches (a plan older than the
        last scan is ignored)."""
        new_matches = False
        for name, n, new in found:
            if n <= getattr(self, f"scanned_{name}"):
                continue
            setattr(self, f"scanned_{name}", n)
            if len(new):
                setattr(self, f"_{name}", np.concatenate([getattr(self, f"_{name}"), new]))
                new_matches = True
        if new_matches:
            self._all = self._lines = None
        return new_matches

    def update(self, buf: LogBuffer) -> bool:
        """Scan lines added since the last scan; True if there are new matches."""
        return self.apply_update(self.scan_update(self.plan_update(buf)))

    def scanned(self, buf: LogBuffer) -> bool:
        """Every line the buffer holds now was searched."""
        return self.scanned_older == len(buf.older) and self.scanned_newer == len(buf.newer)

    # -- results -------------------------------------------------------------------------------
    def _older_len(self) -> int:
        return len(self._buf.older) if self._buf is not None else self.scanned_older

    def matches(self) -> np.ndarray:
        """Global line index per match, in order."""
        at = self._older_len()
        if self._all is None or self._all_at != at:
            # a newer line's global index moves with every line backfilled before it
            self._all = np.concatenate([self._older, self._newer + at])
            self._all_at = at
            self._lines = None
        return self._all

    def match_count(self) -> int:
        return len(self._older) + len(self._newer)

    def lines(self) -> np.ndarray:
        """Sorted global indexes of the lines with at least one match (the filter's rows)."""
        a = self.matches()
        if self._lines is None:
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
