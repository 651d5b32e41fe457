"""The whole log of a container (or a Compose project) in compact form.

Lines are kept as raw bytes in large chunks, each line ending in b"\\n", with a uint32 offsets
array, an int64 timestamp (ns since the epoch) and a one-byte tag per line; a line is decoded
only when something draws or copies it. That is ~13 bytes of overhead per line, so 10 million
lines stay within ~1.2x of the raw log.

Two regions: `older` (backfilled from the start of the log, grows at its end while the
viewer already shows the tail) and `newer` (the tail, then followed lines). Global line
index = index in older, then index in newer; when older grows, every newer index shifts,
which the view compensates for (see LogBuffer.changed).

No cap on lines: past `memory_limit` bytes of sealed chunks, the oldest sealed chunks move to
the view's spill file (log_spill.py) and are read back when drawn, searched or saved; what stays
in memory is the open chunks and the newest sealed ones, so memory stays near the limit however
long the log grows.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterator

import numpy as np

from desktop.engine.log_records import TAG_DTYPE, LogBatch
from desktop.state.log_spill import SpilledChunk, SpillFile, loaded
from desktop.state.observable import Listeners

SEAL_BYTES = 8 << 20  # an open chunk is sealed into immutable arrays at this size
BACKLOG_BYTES = SEAL_BYTES  # spill writes in flight before the next one is made in place
_TAG_CODE = np.dtype(TAG_DTYPE).char  # the array module's code for the tag type


def default_memory_limit() -> int:
    """Log bytes one view keeps in memory before spilling: a 16th of the RAM, 64 MiB to 1 GiB."""
    try:
        import psutil

        total = psutil.virtual_memory().total
    except (ImportError, OSError):
        total = 4 << 30
    return int(min(1 << 30, max(64 << 20, total // 16)))


class LogRegion:
    """Append-only list of chunks: sealed ones are immutable numpy/bytes, the last one grows."""

    def __init__(self) -> None:
        self.sealed: list[LogBatch | SpilledChunk] = []
        self.starts: list[int] = []  # first line index of each sealed chunk
        self.sealed_count = 0
        self.mem_sealed = 0  # bytes of the sealed chunks still in memory
        self.spilled = 0  # how many leading sealed chunks are on disk (spilled in order)
        self._reset_open()

    def _reset_open(self) -> None:
        self.odata = bytearray()
        self.ooffs = array("I", [0])
        self.ots = array("q")
        self.otags = array(_TAG_CODE)

    def __len__(self) -> int:
        return self.sealed_count + len(self.ots)

    @staticmethod
    def _chunk_bytes(c: "LogBatch | SpilledChunk") -> int:
        if isinstance(c, SpilledChunk):
            return c.nbytes
        return len(c.data) + c.offs.nbytes + c.ts.nbytes + c.tags.nbytes

    def nbytes(self) -> int:
        """What the region holds in memory (spilled chunks: only their few numbers)."""
        n = sum(self._chunk_bytes(c) for c in self.sealed)
        return n + len(self.odata) + len(self.ooffs) * 4 + len(self.ots) * 8 + len(self.otags) * self.otags.itemsize

    def disk_bytes(self) -> int:
        return sum(c.data_len for c in self.sealed[:self.spilled])

    def spill_first(self, file: SpillFile) -> int:
        """Move the oldest sealed chunk still in memory to the spill file; returns bytes freed."""
        k = self.spilled
        c = self.sealed[k]
        freed = self._chunk_bytes(c)
        # Written by the file's writer thread, unless it is a chunk behind: then here, as memory
        # must stay near the limit however busy the machine keeps that thread.
        self.sealed[k] = SpilledChunk(file, c, background=file.backlog < BACKLOG_BYTES)
        self.spilled += 1
        self.mem_sealed -= freed
        return freed

    def append(self, b: LogBatch) -> None:
        if not len(b):
            return
        if len(b.data) >= SEAL_BYTES // 4:
            # Big batches (a backfill block, one huge line) go in as they are, not copied into the
            # growing chunk: the small lines before them are sealed first to keep the order.
            self.seal()
            self._add_sealed(b)
            return
        base = len(self.odata)
        self.odata += b.data
        self.ooffs.frombytes((b.offs[1:].astype(np.uint64) + base).astype(np.uint32).tobytes())
        self.ots.frombytes(b.ts.astype(np.int64).tobytes())
        self.otags.frombytes(b.tags.astype(TAG_DTYPE).tobytes())
        if len(self.odata) >= SEAL_BYTES:
            self.seal()

    def _add_sealed(self, b: LogBatch) -> None:
        self.starts.append(self.sealed_count)
        self.sealed.append(b)
        self.sealed_count += len(b)
        self.mem_sealed += self._chunk_bytes(b)

    def seal(self) -> None:
        if self.ots:
            self._add_sealed(LogBatch(bytes(self.odata), np.frombuffer(self.ooffs, np.uint32).copy(),
                                      np.frombuffer(self.ots, np.int64).copy(), np.frombuffer(self.otags, TAG_DTYPE).copy()))
            self._reset_open()

    def open_snapshot(self) -> LogBatch:
        """The growing chunk as an immutable batch (a copy: safe to read in another thread)."""
        return LogBatch(bytes(self.odata), np.frombuffer(self.ooffs, np.uint32).copy(),
                        np.frombuffer(self.ots, np.int64).copy(), np.frombuffer(self.otags, TAG_DTYPE).copy())

    def chunks(self) -> list[tuple[int, "LogBatch | SpilledChunk"]]:
        """(first index, batch) for every chunk, the open one as a snapshot (spilled ones: see
        log_spill.loaded)."""
        out = list(zip(self.starts, self.sealed))
        if self.ots:
            out.append((self.sealed_count, self.open_snapshot()))
        return out

    def locate(self, i: int) -> tuple[bytes | bytearray, int, int, int, int]:
        """(data, start, end-with-newline, ts, tag) of line i."""
        if i >= self.sealed_count:
            j = i - self.sealed_count
            return self.odata, self.ooffs[j], self.ooffs[j + 1], self.ots[j], self.otags[j]
        k = bisect.bisect_right(self.starts, i) - 1
        c, j = self.sealed[k], i - self.starts[k]
        if isinstance(c, SpilledChunk):
            return c.locate(j)
        return c.data, int(c.offs[j]), int(c.offs[j + 1]), int(c.ts[j]), int(c.tags[j])


class LogBuffer:
    """All lines of one log view. `changed(older_added, newer_added)` after appends; `cleared()`."""

    def __init__(self, memory_limit: int | None = None, spill_dir: str | None = None) -> None:
        """Args:
            memory_limit: bytes of sealed chunks kept in memory before the oldest go to disk.
            spill_dir: where the spill file is made (default: the user's cache folder).
        """
        self.older = LogRegion()
        self.newer = LogRegion()
        self.changed = Listeners()
        self.cleared = Listeners()
        self.sources: list[str] = []  # container (or Compose service) names, by source index
        self.memory_limit = default_memory_limit() if memory_limit is None else memory_limit
        self._spill_dir = spill_dir
        self._spill: SpillFile | None = None

    def __len__(self) -> int:
        return len(self.older) + len(self.newer)

    def nbytes(self) -> int:
        """Bytes held in memory (lines, offsets, timestamps, tags)."""
        return self.older.nbytes() + self.newer.nbytes()

    def memory_raw_bytes(self) -> int:
        """The log text held in memory (what nbytes() is measured against)."""
        n = 0
        for r in (self.older, self.newer):
            n += sum(len(c.data) for c in r.sealed[r.spilled:]) + len(r.odata)
        return n

    def disk_bytes(self) -> int:
        """Log text moved to the spill file."""
        return self.older.disk_bytes() + self.newer.disk_bytes()

    def append(self, batch: LogBatch) -> None:
        """New lines at the end (tail, then followed lines)."""
        if len(batch):
            self.newer.append(batch)
            self._keep_within_limit()
            self.changed.emit(0, len(batch))

    def backfill(self, batch: LogBatch) -> None:
        """Older lines, in order, between what was backfilled so far and the tail."""
        if len(batch):
            self.older.append(batch)
            self._keep_within_limit()
            self.changed.emit(len(batch), 0)

    def _keep_within_limit(self) -> None:
        # Oldest first: the older region from its start, then the newer one. The open chunks and
        # the newest sealed ones (where a following view reads) stay.
        while self.older.mem_sealed + self.newer.mem_sealed > self.memory_limit:
            region = self.older if self.older.spilled < len(self.older.sealed) else self.newer
            if region.spilled >= len(region.sealed):
                return
            if self._spill is None:
                self._spill = SpillFile(self._spill_dir)
            region.spill_first(self._spill)

    @property
    def spill_file(self) -> SpillFile | None:
        return self._spill

    def settle(self) -> None:
        """Wait until the chunks being moved to disk are there (chunks are written in a thread)."""
        if self._spill is not None:
            self._spill.settle()

    def clear(self) -> None:
        self.older, self.newer = LogRegion(), LogRegion()
        self.close()
        self.cleared.emit()

    def close(self) -> None:
        """Remove the spill file (the view closes); the lines in memory stay readable."""
        spill, self._spill = self._spill, None
        if spill is not None:
            spill.close()

    def _loc(self, i: int):
        n = len(self.older)
        if i < 0 or i >= n + len(self.newer):
            raise IndexError(i)
        return self.older.locate(i) if i < n else self.newer.locate(i - n)

    def line_bytes(self, i: int) -> bytes:
        data, a, b, _, _ = self._loc(i)
        return bytes(data[a:b - 1])

    def line(self, i: int) -> tuple[str, int, int]:
        """(text, ts ns, tag) of line i, decoded for display."""
        data, a, b, ts, tag = self._loc(i)
        return bytes(data[a:b - 1]).decode("utf-8", "replace"), ts, tag

    def line_head(self, i: int, max_bytes: int | None) -> tuple[str, int, int, int]:
        """(text of at most `max_bytes` bytes, ts, tag, the line's full length in bytes): a 32 MiB
        line is not decoded whole to draw the part of it that fits on screen."""
        data, a, b, ts, tag = self._loc(i)
        n = b - 1 - a
        end = b - 1 if max_bytes is None or n <= max_bytes else a + max_bytes
        return bytes(data[a:end]).decode("utf-8", "replace"), ts, tag, n

    def last_ts(self) -> int:
        return self._loc(len(self) - 1)[3] if len(self) else 0

    def chunks(self) -> list[tuple[int, LogBatch]]:
        """(first global index, batch) for every chunk in order; safe to hand to another thread."""
        n = len(self.older)
        return self.older.chunks() + [(s + n, c) for s, c in self.newer.chunks()]



def iter_log_bytes(chunks: list[tuple[int, LogBatch]], lines: np.ndarray | None = None) -> Iterator[bytes]:
    """The bytes of a `LogBuffer.chunks()` snapshot, each line with its newline.

    Args:
        lines: sorted global line indexes to keep (a filter); None keeps every line.
    """
    for start, chunk in chunks:
        if lines is not None:
            lo, hi = np.searchsorted(lines, [start, start + len(chunk)])
            if lo == hi:
                continue
        c = loaded(chunk)
        if lines is None:
            yield c.data
            continue
        for j in (lines[lo:hi] - start).tolist():
            yield c.data[c.offs[j]:c.offs[j + 1]]
