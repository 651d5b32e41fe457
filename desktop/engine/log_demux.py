"""Turn the bytes of a `/containers/{id}/logs?timestamps=1` response into LogBatch records.

The response is read straight from the socket (bypassing per-frame SDK calls, which cost more
than the engine's own ~6 µs per line): HTTP chunked encoding is undone here, then the
engine's 8-byte frame headers (stream, size) for non-TTY containers, or plain lines for TTY
ones. Every message starts with a fixed-width RFC3339Nano timestamp; the timestamps of a block
are parsed in one numpy step and the bytes are gathered with one mask.
"""

from __future__ import annotations

import numpy as np

from desktop.engine.log_records import STDERR, TAG_DTYPE, LogBatch, concat_batches

TS_LEN = 30  # "2026-11-28T03:54:32.806399883Z"
_COLS = np.arange(TS_LEN + 1)
_POW = 10 ** np.arange(8, -1, -1, dtype=np.int64)
_HEX_LIMITS = np.array([16, 256, 4096, 65536, 1 << 20, 1 << 24, 1 << 28], np.int64)  # digits in a chunk size


def parse_timestamps(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ns since epoch, valid mask) for rows of 31 bytes "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ "."""
    valid = (m[:, 29] == 90) & (m[:, 30] == 32) & (m[:, 4] == 45) & (m[:, 10] == 84) & (m[:, 19] == 46)
    d = m[:, :29].astype(np.int64) - 48
    y = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    mo = d[:, 5] * 10 + d[:, 6]
    dd = d[:, 8] * 10 + d[:, 9]
    secs = (d[:, 11] * 10 + d[:, 12]) * 3600 + (d[:, 14] * 10 + d[:, 15]) * 60 + d[:, 17] * 10 + d[:, 18]
    frac = d[:, 20:29] @ _POW
    # days from civil (H. Hinnant), vectorised
    y = y - (mo <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (mo + np.where(mo > 2, -3, 9)) + 2) // 5 + dd - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    return (days * 86400 + secs) * 1_000_000_000 + frac, valid


class LogDemuxer:
    """Incremental decoder: `feed(raw)` → LogBatch of complete lines; `finish()` flushes the rest.

    `multiplexed=None`: told by the first byte of the body (so no inspect of the container has to
    come before its log): every message starts with its timestamp, a digit, when the container
    has a TTY; a frame header starts with its stream number, 0, 1 or 2.
    """

    def __init__(self, *, chunked: bool, multiplexed: bool | None, tag: int = 0) -> None:
        self.chunked = chunked
        self.multiplexed = multiplexed
        self._sniffed = b""  # the response so far, while multiplexed is still unknown
        self.tag = tag
        self.ended = False
        self._cbuf = b""  # incomplete chunk-size line
        self._left = 0  # bytes left in the current HTTP chunk
        self._skip = 0  # CRLF bytes after a chunk still to skip
        self._fbuf = b""  # incomplete frame / line
        self._tty_pieces: list[bytes] = []  # TTY bytes since the last newline, after _fbuf
        # Messages seen: the engine's `tail` counts these, and a line over 16 KiB is several.
        self.messages = 0
        # stream -> (ts, pieces) of a line the engine split into 16 KiB messages; joined once
        # complete (adding piece by piece copied the line so far each time: 16 s for 32 MiB)
        self._partial: dict[int, tuple[int, list[bytes]]] = {}
        # The engine flushes each frame as its own HTTP chunk: while that holds, frames are found
        # in one pass over the raw bytes with no copy; anything else switches to the general path.
        self._fast = bool(chunked and multiplexed)
        self._carry = b""

    def _sniff(self, raw: bytes) -> bytes | None:
        """Decide `multiplexed` from the first body byte; the bytes to go on with, None: not yet."""
        buf = self._sniffed + raw
        first = None
        if not self.chunked:
            first = buf[0] if buf else None
        else:
            e = buf.find(b"\r\n")
            if e >= 0:
                if int(buf[:e].split(b";", 1)[0] or b"0", 16) == 0:
                    first = 1  # no body at all: either way
                elif len(buf) > e + 2:
                    first = buf[e + 2]
        if first is None:
            self._sniffed = buf
            return None
        self._sniffed = b""
        self.multiplexed = first < 48  # a header's stream byte, not a timestamp's digit
        self._fast = self.chunked and self.multiplexed
        return buf

    # -- HTTP chunked ---------------------------------------------------------------------------
    def _dechunk(self, raw: bytes) -> bytes:
        buf = self._cbuf + raw if self._cbuf else raw
        self._cbuf = b""
        out, pos, n = [], 0, len(buf)
        left, skip = self._left, self._skip
        find = buf.find
        while pos < n:
            if not left and not skip:
                e = find(b"\r\n", pos)
                if e < 0:
                    self._cbuf = buf[pos:]
                    break
                try:
                    size = int(buf[pos:e], 16)
                except ValueError:  # a chunk extension: "size;name=value"
                    size = int(buf[pos:e].split(b";", 1)[0], 16)
                if size == 0:
                    self.ended = True
                    break
                start = e + 2
                if start + size + 2 <= n:  # the common case: the whole chunk is here
                    out.append(buf[start:start + size])
                    pos = start + size + 2
                    continue
                pos, left = start, size
            elif skip:
                k = skip if skip <= n - pos else n - pos
                pos += k
                skip -= k
            else:
                k = left if left <= n - pos else n - pos
                out.append(buf[pos:pos + k])
                pos += k
                left -= k
                if not left:
                    skip = 2
        self._left, self._skip = left, skip
        return b"".join(out)

    def _vector_frames(self, buf: bytes) -> tuple[LogBatch, int]:
        """Frames found with numpy: (batch, bytes consumed); (empty, 0) when the block is irregular.

        A frame header is stream 1|2, three zero bytes and a size, followed by a timestamp; the
        candidates are checked to chain exactly chunk by chunk (size line, frame, CRLF), so a
        payload that merely looks like a header makes the whole block take the loop below.
        """
        n = len(buf)
        e0 = buf.find(b"\r\n", 0, 16)
        if n < 4096 or e0 <= 0:
            return LogBatch.empty(), 0
        a = np.frombuffer(buf, np.uint8)
        m = n - 40
        cand = (((a[:m] == 1) | (a[:m] == 2)) & (a[1:m + 1] == 0) & (a[2:m + 2] == 0) & (a[3:m + 3] == 0)
                & (a[12:m + 12] == 45) & (a[18:m + 18] == 84) & (a[37:m + 37] == 90) & (a[38:m + 38] == 32))
        c = np.flatnonzero(cand)
        if not len(c) or c[0] != e0 + 2:
            return LogBatch.empty(), 0
        sizes = (a[c + 4].astype(np.int64) << 24) | (a[c + 5].astype(np.int64) << 16) | \
                (a[c + 6].astype(np.int64) << 8) | a[c + 7].astype(np.int64)
        ends = c + 8 + sizes
        complete = np.flatnonzero(ends + 2 <= n)
        k = int(complete[-1]) + 1 if len(complete) else 0
        # frames must be contiguous from the first one: keep the run that ends inside the block
        if k == 0 or (len(complete) and complete[-1] != len(complete) - 1):
            return LogBatch.empty(), 0
        c, sizes, ends = c[:k], sizes[:k], ends[:k]
        hexlen = np.searchsorted(_HEX_LIMITS, sizes + 8, side="right") + 1
        ok = (a[ends] == 13).all() and (a[ends + 1] == 10).all() and \
            (c[1:] == ends[:-1] + 2 + hexlen[1:] + 2).all() and (a[c - 2] == 13).all() and (a[c - 1] == 10).all()
        if not ok:
            return LogBatch.empty(), 0
        return self._gather(buf, c + 8, ends, a[c]), int(ends[-1]) + 2

    def _feed_fast(self, raw: bytes) -> LogBatch:
        buf = self._carry + raw if self._carry else raw
        vec, pos0 = self._vector_frames(buf)
        starts, ends, streams = [], [], []
        pos, n, find, frombytes = pos0, len(buf), buf.find, int.from_bytes
        irregular = False
        while True:
            e = find(b"\r\n", pos)
            if e < 0:
                break
            try:
                size = int(buf[pos:e], 16)
            except ValueError:
                irregular = True
                break
            if size == 0:
                self.ended = True
                pos = n
                break
            a = e + 2
            if a + size + 2 > n:
                break
            if size < 8 or frombytes(buf[a + 4:a + 8], "big") != size - 8:
                irregular = True
                break
            streams.append(buf[a])
            starts.append(a + 8)
            ends.append(a + size)
            pos = a + size + 2
        batch = self._gather(buf, np.asarray(starts, np.int64), np.asarray(ends, np.int64),
                             np.asarray(streams, np.uint8)) if starts else LogBatch.empty()
        rest = buf[pos:]
        batch = concat_batches([vec, batch]) if pos0 else batch
        if not irregular:
            self._carry = rest
            return batch
        self._fast, self._carry = False, b""
        return concat_batches([batch, self.feed(rest)])

    # -- lines -----------------------------------------------------------------------------------
    def feed(self, raw: bytes) -> LogBatch:
        if self.ended and self.chunked:
            return LogBatch.empty()  # the trailer after the last chunk
        if self.multiplexed is None:
            raw = self._sniff(raw)
            if raw is None:
                return LogBatch.empty()
        if self._fast:
            return self._feed_fast(raw)
        body = self._dechunk(raw) if self.chunked else raw
        if not body:
            return LogBatch.empty()
        if not self.multiplexed:
            if body.find(b"\n") < 0:
                self._tty_pieces.append(body)  # a long TTY line: kept in pieces, joined once
                return LogBatch.empty()
            if self._tty_pieces:
                self._tty_pieces.append(body)
                body = b"".join(self._tty_pieces)
                self._tty_pieces = []
        buf = self._fbuf + body if self._fbuf else body
        if self.multiplexed:
            return self._frames(buf)
        return self._tty_lines(buf)

    def _frames(self, buf: bytes) -> LogBatch:
        starts, ends, streams = [], [], []
        pos, n = 0, len(buf)
        while pos + 8 <= n:
            end = pos + 8 + int.from_bytes(buf[pos + 4:pos + 8], "big")
            if end > n:
                break
            streams.append(buf[pos])
            starts.append(pos + 8)
            ends.append(end)
            pos = end
        self._fbuf = buf[pos:]
        if not starts:
            return LogBatch.empty()
        s = np.asarray(starts, np.int64)
        e = np.asarray(ends, np.int64)
        st = np.asarray(streams, np.uint8)
        return self._gather(buf, s, e, st)

    def _tty_lines(self, buf: bytes) -> LogBatch:
        arr = np.frombuffer(buf, np.uint8)
        nl = np.flatnonzero(arr == 10)
        if not len(nl):
            self._fbuf = buf
            return LogBatch.empty()
        self._fbuf = buf[int(nl[-1]) + 1:]
        e = nl.astype(np.int64) + 1
        s = np.concatenate(([0], e[:-1]))
        return self._gather(buf, s, e, np.ones(len(s), np.uint8))

    def _gather(self, buf: bytes, s: np.ndarray, e: np.ndarray, streams: np.ndarray) -> LogBatch:
        """Lines from message spans [s, e) each "TS content": strip the timestamp, keep the bytes."""
        self.messages += len(s)
        arr = np.frombuffer(buf, np.uint8)
        ok_len = (e - s) > TS_LEN
        complete = arr[e - 1] == 10
        if self._partial or not (ok_len.all() and complete.all()):
            return self._gather_slow(buf, s, e, streams)
        ts, valid = parse_timestamps(arr[s[:, None] + _COLS])
        if not valid.all():
            return self._gather_slow(buf, s, e, streams)
        # keep every byte of the messages except their timestamp prefix (and frame headers):
        # +1 where a line's content starts, -1 where it ends, a running sum marks what to keep
        cs = s + TS_LEN + 1
        lens = e - cs
        edge = np.zeros(len(arr) + 1, np.int8)
        edge[cs] = 1
        edge[e] -= 1
        keep = np.cumsum(edge[:-1], dtype=np.int8).view(np.bool_)
        offs = np.zeros(len(s) + 1, np.uint32)
        np.cumsum(lens, out=offs[1:])
        tags = np.where(streams == 2, self.tag | STDERR, self.tag).astype(TAG_DTYPE)
        return LogBatch(arr[keep].tobytes(), offs, ts, tags)

    def _gather_slow(self, buf: bytes, s: np.ndarray, e: np.ndarray, streams: np.ndarray) -> LogBatch:
        """Messages split by the engine (lines over 16 KiB), or without a timestamp.

        The timestamps of the whole block are parsed in one step, and pieces are views into the
        block until a line is complete: a 32 MiB line is 2,048 messages, copied once when joined.
        """
        lines, tss, tags = [], [], []
        n = len(s)
        ts_all, ok_all = [0] * n, [False] * n
        long = np.flatnonzero((e - s) > TS_LEN)
        if len(long):
            arr = np.frombuffer(buf, np.uint8)
            t, ok = parse_timestamps(arr[s[long][:, None] + _COLS])
            for i, tv, okv in zip(long.tolist(), t.tolist(), ok.tolist()):
                ts_all[i], ok_all[i] = tv, okv
        mv = memoryview(buf)
        for i, (a, b, stream) in enumerate(zip(s.tolist(), e.tolist(), streams.tolist())):
            ts = 0
            if ok_all[i]:
                ts, a = ts_all[i], a + TS_LEN + 1
            if b <= a or buf[b - 1] != 10:  # no newline: the engine split this line
                if stream in self._partial:
                    self._partial[stream][1].append(mv[a:b])
                else:
                    self._partial[stream] = (ts, [mv[a:b]])
                continue
            if stream in self._partial:
                ts, pieces = self._partial.pop(stream)
                pieces.append(mv[a:b])
                lines.append(b"".join(pieces))
            else:
                lines.append(bytes(mv[a:b]))
            tss.append(ts)
            tags.append(self.tag | STDERR if stream == 2 else self.tag)
        return _batch(lines, tss, tags)

    def finish(self) -> LogBatch:
        """Lines still open when the stream ended (no final newline)."""
        parts = []
        if self.multiplexed is None:  # the response ended inside the first chunk's size line
            self.multiplexed, self._sniffed = True, b""
        if self._carry:
            self._fast, carry, self._carry = False, self._carry, b""
            parts.append(self.feed(carry))
        if self._tty_pieces:
            self._fbuf += b"".join(self._tty_pieces)
            self._tty_pieces = []
        if self._fbuf and not self.multiplexed:
            parts.append(self._gather_slow(self._fbuf + b"\n", np.array([0]), np.array([len(self._fbuf) + 1]),
                                           np.ones(1, np.uint8)))
            self._fbuf = b""
        if self._partial:
            items = sorted(self._partial.items(), key=lambda kv: kv[1][0])
            self._partial = {}
            parts.append(_batch([b"".join([*m, b"\n"]) for _, (_, m) in items], [t for _, (t, _) in items],
                                [self.tag | STDERR if st == 2 else self.tag for st, _ in items]))
        return concat_batches(parts)


def _batch(lines: list[bytes], ts: list[int], tags: list[int]) -> LogBatch:
    """A batch of lines that each end with their newline (one line: its bytes are not copied)."""
    offs = np.zeros(len(lines) + 1, np.uint32)
    if lines:
        np.cumsum([len(x) for x in lines], out=offs[1:])
    return LogBatch(b"".join(lines), offs, np.asarray(ts, np.int64), np.asarray(tags, TAG_DTYPE))
