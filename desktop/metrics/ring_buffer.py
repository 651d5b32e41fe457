"""Fixed-size numpy history: 15 minutes at 1 s costs the same memory on minute 1 and hour 10."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

HISTORY_SECONDS = 15 * 60


class RingBuffer:
    """Rows of (time, *fields) in a preallocated float64 array; the oldest row is overwritten."""

    def __init__(self, fields: Sequence[str], capacity: int = HISTORY_SECONDS) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.fields = ("time", *fields)
        self.capacity = capacity
        self._data = np.zeros((capacity, len(self.fields)), dtype=np.float64)
        self._next = 0  # where the next row goes
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def append(self, t: float, values: Sequence[float]) -> None:
        row = self._data[self._next]
        row[0] = t
        row[1:] = values
        self._next = (self._next + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)

    def clear(self) -> None:
        self._next = self._size = 0

    def rows(self) -> np.ndarray:
        """A chronological copy, shape (len, 1 + fields)."""
        if self._size < self.capacity:
            return self._data[:self._size].copy()
        return np.concatenate((self._data[self._next:], self._data[:self._next]))

    def column(self, name: str) -> np.ndarray:
        """One field in time order (a copy)."""
        i = self.fields.index(name)
        if self._size < self.capacity:
            return self._data[:self._size, i].copy()
        return np.concatenate((self._data[self._next:, i], self._data[:self._next, i]))

    def last(self) -> np.ndarray | None:
        if not self._size:
            return None
        return self._data[(self._next - 1) % self.capacity].copy()

    def to_csv(self, path: str) -> int:
        """Write the history with a header row (time as UTC ISO 8601); returns the data rows."""
        return write_csv(path, self.fields, self.rows())


def write_csv(path: str, fields, rows: np.ndarray) -> int:
    """Rows of (epoch time, *values) as CSV with a header; returns the number of data rows."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("time_utc," + ",".join(fields[1:]) + "\n")
        for r in rows:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(r[0])) + f".{int(r[0] % 1 * 1000):03d}Z"
            fh.write(stamp + "," + ",".join(_fmt(v) for v in r[1:]) + "\n")
    return len(rows)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.4f}"
