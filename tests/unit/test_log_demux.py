import numpy as np

from desktop.engine.log_demux import LogDemuxer, parse_timestamps
from desktop.engine.log_records import concat_batches


def frame(stream: int, payload: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


TS = b"2026-11-28T03:54:32.806399883Z "
TS_NS = 1795838072806399883


def test_timestamp_parse():
    ns, ok = parse_timestamps(np.frombuffer(TS, np.uint8)[None, :])
    assert ok[0] and int(ns[0]) == TS_NS


def test_chunked_frames_any_split():
    body = chunk(frame(1, TS + b"out1\n")) + chunk(frame(2, TS + b"err1\n")) + \
        chunk(frame(1, TS + b"part-") + frame(1, TS + b"two\n")) + chunk(frame(1, TS + b"end")) + b"0\r\n\r\n"
    for step in (1, 3, 7, len(body)):
        dm = LogDemuxer(chunked=True, multiplexed=True, tag=4)
        parts = [dm.feed(body[i:i + step]) for i in range(0, len(body), step)] + [dm.finish()]
        b = concat_batches(parts)
        assert [b.line(i) for i in range(len(b))] == [b"out1", b"err1", b"part-two", b"end"], step
        assert b.tags.tolist() == [4, 5, 4, 4]
        assert b.ts.tolist() == [TS_NS] * 4
        assert dm.ended


def test_tty_lines():
    dm = LogDemuxer(chunked=False, multiplexed=False)
    b = concat_batches([dm.feed(TS + b"a\r\n" + TS[:10]), dm.feed(TS[10:] + b"b\n"), dm.finish()])
    assert [b.line(i) for i in range(len(b))] == [b"a\r", b"b"]


def _frames_of(line: bytes, piece: int = 16 * 1024) -> bytes:
    """A json-file log line as the engine sends it: 16 KiB messages, each with its timestamp."""
    out = []
    for i in range(0, len(line), piece):
        msg = b"2026-11-28T03:54:32.806399883Z " + line[i:i + piece]
        out.append(b"\x01\x00\x00\x00" + len(msg).to_bytes(4, "big") + msg)
    return b"".join(out)


def test_a_32_mib_line_is_reassembled_whole():
    import os as _os

    from desktop.engine.log_demux import LogDemuxer

    body = _os.urandom(24 << 20).hex().encode()[: 32 << 20]
    raw = _frames_of(body + b"\n")
    dm = LogDemuxer(chunked=False, multiplexed=True)
    got = [dm.feed(raw[i:i + (1 << 20)]) for i in range(0, len(raw), 1 << 20)]
    got.append(dm.finish())
    lines = [b.line(j) for b in got for j in range(len(b))]
    assert lines == [body]


def test_a_long_tty_line_is_reassembled_whole():
    from desktop.engine.log_demux import LogDemuxer

    body = b"x" * (3 << 20)
    raw = b"2026-11-28T03:54:32.806399883Z " + body + b"\nnext\n"
    dm = LogDemuxer(chunked=False, multiplexed=False)
    got = [dm.feed(raw[i:i + 4096]) for i in range(0, len(raw), 4096)] + [dm.finish()]
    lines = [b.line(j) for b in got for j in range(len(b))]
    assert lines[0] == body and len(lines) == 2
