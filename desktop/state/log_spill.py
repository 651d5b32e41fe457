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

import logging
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from desktop.engine.log_records import TAG_DTYPE, LogBatch, escape_lines

log = logging.getLogger(__name__)

WRITE_PIECE = 1 << 20  # bytes written per hold of the file's lock


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
        self._writer: ThreadPoolExecutor | None = None
        self._size_lock = threading.Lock()  # the owner and the writer both take room at the end
        self.backlog = 0  # bytes handed to the writer and not on disk yet

    def reserve(self, n: int) -> int:
        """Room for n bytes at the end (written later by `write_at`); returns where it starts."""
        with self._size_lock:
            at = self.size
            self.size += n
        return at

    def add_backlog(self, n: int) -> None:
        """Count bytes handed to the writer (n < 0: written); both threads change it."""
        with self._size_lock:
            self.backlog += n

    def write_at(self, at: int, *parts) -> None:
        """Write the parts one after the other from `at` (in a writer thread: the lock is taken
        per megabyte, so a line drawn from the file meanwhile waits for one piece at most)."""
        pos = at
        for p in parts:
            view = memoryview(p).cast("B")
            while view:
                with self._lock:
                    if self.closed:
                        raise SpillClosed("the log view's spill file is closed")
                    n = os.pwrite(self.fd, view[:WRITE_PIECE], pos)
                view, pos = view[n:], pos + n

    def append(self, *parts) -> int:
        """Write the parts one after the other at the end; returns where the first starts."""
        at = self.reserve(sum(memoryview(p).nbytes for p in parts))
        self.write_at(at, *parts)
        return at

    def writer(self) -> ThreadPoolExecutor:
        """The one thread that writes this file's chunks, in order (made on first use)."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="log-spill")
        return self._writer

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
        if self._writer is not None:
            self._writer.shutdown(wait=False, cancel_futures=True)

    def settle(self) -> None:
        """Wait until every chunk handed to the writer is on disk (tests, and before measuring)."""
        if self._writer is not None and not self.closed:
            self._writer.submit(lambda: None).result()


class SpilledChunk:
    """A sealed chunk whose contents are in a SpillFile. `load()` reads it back as a LogBatch.

    Made on the owning (UI) thread, which only reserves its place in the file: the writing is
    done by the file's writer thread (a 4 MB pwrite on the UI thread stalled it). Until it is
    on disk the chunk answers from the batch it still holds; once written, the batch is let go.
    """

    __slots__ = ("file", "n", "data_at", "data_len", "offs_at", "ts_at", "tags_at", "ts_min", "ts_max", "_batch",
                 "esc_at", "esc_n", "_size")

    def __init__(self, file: SpillFile, batch: LogBatch, *, background: bool = False) -> None:
        """Args:
            background: written by the file's writer thread (else here and now)."""
        self.file = file
        self.n = len(batch)
        self.data_len = len(batch.data)
        offs = np.ascontiguousarray(batch.offs, np.uint32)
        ts = np.ascontiguousarray(batch.ts, np.int64)
        tags = np.ascontiguousarray(batch.tags, TAG_DTYPE)
        self.data_at = file.reserve(self.data_len + offs.nbytes + ts.nbytes + tags.nbytes)
        self.offs_at = self.data_at + self.data_len
        self.ts_at = self.offs_at + offs.nbytes
        self.tags_at = self.ts_at + ts.nbytes
        self.ts_min = int(ts.min()) if self.n else 0
        self.ts_max = int(ts.max()) if self.n else 0
        self.esc_at, self.esc_n = -1, 0  # its coloured lines' index, written after it (-1: none)
        self._batch: LogBatch | None = batch
        self._size = self.data_len + offs.nbytes + ts.nbytes + tags.nbytes
        if background:
            file.add_backlog(self._size)
            file.writer().submit(self._write, offs, ts, tags, True)
        else:
            self._write(offs, ts, tags)

    def _write(self, offs, ts, tags, background_write: bool = False) -> None:
        batch = self._batch
        if batch is None:
            return
        try:
            # The lines holding escapes, found while the chunk is at hand and kept on disk beside
            # it: a search of the log on disk then does not look for them again.
            esc = escape_lines(batch).astype(np.int32)
            esc_at = self.file.reserve(esc.nbytes) if len(esc) else -1
            self.file.write_at(self.data_at, batch.data, offs, ts, tags)
            if len(esc):
                self.file.write_at(esc_at, esc)
            self.esc_at, self.esc_n = esc_at, len(esc)
        except SpillClosed:
            return  # the view closed: nothing will read it
        except OSError as exc:  # disk full: the chunk stays in memory, readable as before
            log.warning("could not move %d log bytes to disk: %s", self.data_len, exc)
            return
        finally:
            if background_write:
                self.file.add_backlog(-self._size)
        self._batch = None

    def __len__(self) -> int:
        return self.n

    @property
    def pending(self) -> bool:
        """Not on disk yet (or could not be written): still held in memory."""
        return self._batch is not None

    @property
    def nbytes(self) -> int:
        """What it holds in memory (a few numbers, and the batch until it is on disk)."""
        b = self._batch
        return 96 if b is None else 96 + len(b.data) + b.offs.nbytes + b.ts.nbytes + b.tags.nbytes

    def load_offs(self) -> np.ndarray:
        b = self._batch
        if b is not None:
            return b.offs
        return np.frombuffer(self.file.read(self.offs_at, (self.n + 1) * 4), np.uint32)

    def load_ts(self) -> np.ndarray:
        b = self._batch
        if b is not None:
            return b.ts
        return np.frombuffer(self.file.read(self.ts_at, self.n * 8), np.int64)

    # Each read back from disk on every use (nothing is kept): for code that reads a field or two
    # of a `chunks()` snapshot; loops over a chunk's lines take `load()` once instead.
    @property
    def ts(self) -> np.ndarray:
        return self.load_ts()

    @property
    def tags(self) -> np.ndarray:
        b = self._batch
        if b is not None:
            return b.tags
        return np.frombuffer(self.file.read(self.tags_at, self.n * 2), TAG_DTYPE)

    @property
    def offs(self) -> np.ndarray:
        return self.load_offs()

    @property
    def data(self) -> bytes:
        b = self._batch
        if b is not None:
            return b.data
        return self.file.read(self.data_at, self.data_len)

    def load(self) -> LogBatch:
        """The whole chunk, read back (a transient copy: the caller drops it when done)."""
        b = self._batch
        if b is not None:
            return b
        data = self.file.read(self.data_at, self.data_len)
        rest = self.file.read(self.offs_at, (self.n + 1) * 4 + self.n * 8 + self.n * 2)
        offs = np.frombuffer(rest, np.uint32, self.n + 1)
        ts = np.frombuffer(rest, np.int64, self.n, (self.n + 1) * 4)
        tags = np.frombuffer(rest, TAG_DTYPE, self.n, (self.n + 1) * 4 + self.n * 8)
        batch = LogBatch(data, offs, ts, tags)
        # (written: its escape index was set before the batch was let go)
        esc = np.frombuffer(self.file.read(self.esc_at, self.esc_n * 4), np.int32).astype(np.int64) \
            if self.esc_n else np.zeros(0, np.int64)
        object.__setattr__(batch, "_esc_lines", esc)
        return batch

    def locate(self, j: int) -> tuple[bytes, int, int, int, int]:
        """(bytes of line j with its newline, 0, its length, ts, tag): a few small reads."""
        b = self._batch
        if b is not None:
            return b.data, int(b.offs[j]), int(b.offs[j + 1]), int(b.ts[j]), int(b.tags[j])
        a, b = np.frombuffer(self.file.read(self.offs_at + 4 * j, 8), np.uint32).tolist()
        ts = int(np.frombuffer(self.file.read(self.ts_at + 8 * j, 8), np.int64)[0])
        tag = int(np.frombuffer(self.file.read(self.tags_at + 2 * j, 2), TAG_DTYPE)[0])
        return self.file.read(self.data_at + a, b - a), 0, b - a, ts, tag


def loaded(chunk) -> LogBatch:
    """A chunk of a `chunks()` snapshot as a LogBatch (read back from disk when spilled)."""
    return chunk.load() if isinstance(chunk, SpilledChunk) else chunk
