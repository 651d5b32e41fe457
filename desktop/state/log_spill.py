"""Where a log view's older chunks go when the log outgrows memory: one temporary file per view.

The file is made with `tempfile.TemporaryFile`: mode 0600 and, on POSIX, unlinked at once, so it
has no name another user could open and nothing is left on disk however the app ends (closed,
crashed or killed); closing it (the view closes or is cleared) frees the space. It lives in the
user's cache folder, not /tmp, which is often a RAM disk: spilling there would save nothing.

A spilled chunk keeps only a few numbers in memory (its place in the file, its line count and
time span): its bytes, line offsets, timestamps and tags are read back when something needs
them — a line drawn on screen (a few small reads) or a search (one chunk at a time).
"""

from __future__ import annotations

import os
import tempfile
import threading

import numpy as np

from desktop.engine.log_records import TAG_DTYPE, LogBatch


def spill_dir() -> str | None:
    """The user's cache folder for spilled logs (None: the system's temporary folder)."""
    try:
        import platformdirs

        path = os.path.join(platformdirs.user_cache_dir("pilothouse", appauthor=False), "logs")
        os.makedirs(path, mode=0o700, exist_ok=True)
        return path
    except OSError:
        return None


class SpillClosed(OSError):
    """The view's spill file was closed (the view went away) while something still read it."""


class SpillFile:
    """Append-only; reads may come from any thread (a search runs in a worker)."""

    def __init__(self, directory: str | None = None) -> None:
        self._f = tempfile.TemporaryFile(dir=directory if directory is not None else spill_dir())
        self.fd = self._f.fileno()
        self.size = 0
        # Held across each read and the close: a closed descriptor's number may be reused by the
        # next file opened, and a read must never reach that one.
        self._lock = threading.Lock()
        self.closed = False

    def append(self, *parts) -> int:
        """Write the parts one after the other at the end; returns where the first starts."""
        at = self.size
        with self._lock:
            if self.closed:
                raise SpillClosed("the log view's spill file is closed")
            pos = at
            for p in parts:
                view = memoryview(p).cast("B")
                while view:
                    n = os.pwrite(self.fd, view, pos)
                    view, pos = view[n:], pos + n
        self.size = pos
        return at

    def read(self, offset: int, n: int) -> bytes:
        with self._lock:
            if self.closed:
                raise SpillClosed("the log view's spill file is closed")
            data = os.pread(self.fd, n, offset)
            if len(data) < n:  # a short read is legal; a regular file gives the rest on asking
                parts = [data]
                got = len(data)
                while got < n:
                    more = os.pread(self.fd, n - got, offset + got)
                    if not more:
                        raise OSError(f"the log view's spill file ends before offset {offset + n}")
                    parts.append(more)
                    got += len(more)
                data = b"".join(parts)
        return data

    def close(self) -> None:
        with self._lock:
            if not self.closed:
                self.closed = True
                self._f.close()


class SpilledChunk:
    """A sealed chunk whose contents are in a SpillFile. `load()` reads it back as a LogBatch."""

    __slots__ = ("file", "n", "data_at", "data_len", "offs_at", "ts_at", "tags_at", "ts_min", "ts_max")

    def __init__(self, file: SpillFile, batch: LogBatch) -> None:
        self.file = file
        self.n = len(batch)
        self.data_len = len(batch.data)
        offs = np.ascontiguousarray(batch.offs, np.uint32)
        ts = np.ascontiguousarray(batch.ts, np.int64)
        tags = np.ascontiguousarray(batch.tags, TAG_DTYPE)
        self.data_at = file.append(batch.data, offs, ts, tags)
        self.offs_at = self.data_at + self.data_len
        self.ts_at = self.offs_at + offs.nbytes
        self.tags_at = self.ts_at + ts.nbytes
        self.ts_min = int(ts.min()) if self.n else 0
        self.ts_max = int(ts.max()) if self.n else 0

    def __len__(self) -> int:
        return self.n

    @property
    def nbytes(self) -> int:
        """What it holds in memory (a few numbers), not what it holds on disk."""
        return 96

    def load_offs(self) -> np.ndarray:
        return np.frombuffer(self.file.read(self.offs_at, (self.n + 1) * 4), np.uint32)

    def load_ts(self) -> np.ndarray:
        return np.frombuffer(self.file.read(self.ts_at, self.n * 8), np.int64)

    # Each read back from disk on every use (nothing is kept): for code that reads a field or two
    # of a `chunks()` snapshot; loops over a chunk's lines take `load()` once instead.
    @property
    def ts(self) -> np.ndarray:
        return self.load_ts()

    @property
    def tags(self) -> np.ndarray:
        return np.frombuffer(self.file.read(self.tags_at, self.n * 2), TAG_DTYPE)

    @property
    def offs(self) -> np.ndarray:
        return self.load_offs()

    @property
    def data(self) -> bytes:
        return self.file.read(self.data_at, self.data_len)

    def load(self) -> LogBatch:
        """The whole chunk, read back (a transient copy: the caller drops it when done)."""
        data = self.file.read(self.data_at, self.data_len)
        rest = self.file.read(self.offs_at, (self.n + 1) * 4 + self.n * 8 + self.n * 2)
        offs = np.frombuffer(rest, np.uint32, self.n + 1)
        ts = np.frombuffer(rest, np.int64, self.n, (self.n + 1) * 4)
        tags = np.frombuffer(rest, TAG_DTYPE, self.n, (self.n + 1) * 4 + self.n * 8)
        return LogBatch(data, offs, ts, tags)

    def locate(self, j: int) -> tuple[bytes, int, int, int, int]:
        """(bytes of line j with its newline, 0, its length, ts, tag): a few small reads."""
        a, b = np.frombuffer(self.file.read(self.offs_at + 4 * j, 8), np.uint32).tolist()
        ts = int(np.frombuffer(self.file.read(self.ts_at + 8 * j, 8), np.int64)[0])
        tag = int(np.frombuffer(self.file.read(self.tags_at + 2 * j, 2), TAG_DTYPE)[0])
        return self.file.read(self.data_at + a, b - a), 0, b - a, ts, tag


def loaded(chunk) -> LogBatch:
    """A chunk of a `chunks()` snapshot as a LogBatch (read back from disk when spilled)."""
    return chunk.load() if isinstance(chunk, SpilledChunk) else chunk
