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
