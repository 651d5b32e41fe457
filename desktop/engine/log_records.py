"""Log lines as the engine hands them up: parsed batches of raw bytes with timestamps and tags.

Records, not storage: the engine's log readers produce them and the state layer's LogBuffer keeps
them, so they live on the engine floor (nothing here imports a layer above).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STDERR = 1  # tag bit 0; the bits above hold a source (container of a merged view) index, 1-based
TAG_DTYPE = np.uint16  # so a merged view takes up to 32,767 containers
MAX_SOURCES = (1 << 15) - 1


@dataclass(frozen=True, eq=False)  # identity equality: batches carry memoised search data
class LogBatch:
    """Parsed lines ready to append: `offs` has n+1 entries into `data`."""

    data: bytes
    offs: np.ndarray  # uint32, offs[0] == 0, offs[-1] == len(data)
    ts: np.ndarray  # int64 ns
    tags: np.ndarray  # TAG_DTYPE

    def __len__(self) -> int:
        return len(self.ts)

    @staticmethod
    def empty() -> "LogBatch":
        return LogBatch(b"", np.zeros(1, np.uint32), np.zeros(0, np.int64), np.zeros(0, TAG_DTYPE))

    @staticmethod
    def from_lines(lines: list[bytes], ts: list[int] | None = None, tag: int = 0) -> "LogBatch":
        """For tests and small inputs: lines without their newline."""
        data = b"".join(line + b"\n" for line in lines)
        offs = np.zeros(len(lines) + 1, np.uint32)
        np.cumsum([len(x) + 1 for x in lines], out=offs[1:]) if lines else None
        t = np.asarray(ts if ts is not None else [0] * len(lines), np.int64)
        return LogBatch(data, offs, t, np.full(len(lines), tag, TAG_DTYPE))

    def slice(self, a: int, b: int) -> "LogBatch":
        """Lines [a, b) as a new batch (copies the bytes)."""
        if a == 0 and b == len(self):
            return self
        lo, hi = int(self.offs[a]), int(self.offs[b])
        # bytes.join copies a big buffer with the GIL released (slicing holds it): a 32 MiB line
        # cut in a worker thread then does not stall the UI thread.
        data = b"".join((memoryview(self.data)[lo:hi],)) if hi - lo >= 1 << 20 else self.data[lo:hi]
        return LogBatch(data, (self.offs[a:b + 1] - lo).astype(np.uint32), self.ts[a:b].copy(),
                        self.tags[a:b].copy())

    def line(self, i: int) -> bytes:
        return self.data[int(self.offs[i]):int(self.offs[i + 1]) - 1]


def concat_batches(batches: list[LogBatch]) -> LogBatch:
    batches = [b for b in batches if len(b)]
    if not batches:
        return LogBatch.empty()
    if len(batches) == 1:
        return batches[0]
    offs, base = [np.zeros(1, np.uint32)], 0
    for b in batches:
        offs.append((b.offs[1:].astype(np.uint64) + base).astype(np.uint32))
        base += len(b.data)
    return LogBatch(b"".join(b.data for b in batches), np.concatenate(offs),
                    np.concatenate([b.ts for b in batches]), np.concatenate([b.tags for b in batches]))


def merge_by_time(batches: list[LogBatch]) -> LogBatch:
    """Every line of the batches in timestamp order; equal times keep input order.

    One batch is sorted too: a container's own log is not strictly in time order (the engine
    stamps stdout and stderr in two copiers, and writes them to the file in either order, a few
    microseconds apart)."""
    allb = concat_batches(batches)
    if len(allb) == 0:
        return allb
    order = np.argsort(allb.ts, kind="stable")
    if np.array_equal(order, np.arange(len(order))):
        return allb  # already in order (one source at a time): nothing to move
    lens = np.diff(allb.offs.astype(np.int64))[order]
    starts = allb.offs[:-1][order].astype(np.int64)
    buf = np.frombuffer(allb.data, np.uint8)
    offs = np.zeros(len(lens) + 1, np.uint32)
    np.cumsum(lens, out=offs[1:])
    # Gather bytes line by line, vectorised: an index per output byte, built for ~1 MiB of output
    # at a time (for the whole of a big merge, those int64 indexes would take 8x its size).
    out = bytearray(len(allb.data))
    dst = np.frombuffer(out, np.uint8)
    ends = offs[1:].astype(np.int64)
    i = 0
    while i < len(lens):
        j = max(i + 1, int(np.searchsorted(ends, int(offs[i]) + (1 << 20), side="right")))
        ln = lens[i:j]
        base = int(offs[i])
        idx = np.repeat(starts[i:j] - (np.concatenate(([0], np.cumsum(ln)[:-1])) + base), ln) + np.arange(base, base + int(ln.sum()))
        dst[base:base + len(idx)] = buf[idx]
        i = j
    del dst
    return LogBatch(bytes(out), offs, allb.ts[order], allb.tags[order])


def escape_lines(batch: LogBatch) -> np.ndarray:
    """Indexes of the lines holding an escape sequence (memoised on the immutable batch)."""
    cached = batch.__dict__.get("_esc_lines")
    if cached is None:
        data = batch.data
        # bytes.find, not a regex: `re` walks a one-byte pattern at ~60 MB/s, find at ~2 GB/s;
        # one find per coloured line (the rest of a line is skipped)
        found: list[int] = []
        find = data.find
        pos = find(b"\x1b")
        while pos >= 0:
            found.append(pos)
            pos = find(b"\n", pos)
            if pos < 0:
                break
            pos = find(b"\x1b", pos)
        if found:
            cached = np.searchsorted(batch.offs[1:].astype(np.int64) - 1, np.asarray(found, np.int64), side="left")
        else:
            cached = np.zeros(0, np.int64)
        object.__setattr__(batch, "_esc_lines", cached)
    return cached
