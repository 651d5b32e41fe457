"""A file-like view of a chunk iterator (an engine's archive stream), for tarfile's streaming mode."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable


class ChunkReader(io.RawIOBase):
    """Reads the chunks in order; past `limit` bytes (if given) raises what `too_big()` returns,
    so a hostile or huge archive cannot make the reader hold or walk more than the caller allows."""

    def __init__(self, chunks: Iterable[bytes], limit: int | None = None,
                 too_big: Callable[[], Exception] = lambda: ValueError("archive too large")) -> None:
        self._it = iter(chunks)
        self._buf = b""
        self._left = limit
        self._too_big = too_big

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not self._buf:
            chunk = next(self._it, None)
            if chunk is None:
                return 0
            if self._left is not None:
                self._left -= len(chunk)
                if self._left < 0:
                    raise self._too_big()
            self._buf = chunk
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n
