import numpy as np

from desktop.engine.log_records import STDERR, LogBatch, merge_by_time
from desktop.state.log_buffer import SEAL_BYTES, LogBuffer, iter_log_bytes


def test_tail_then_backfill_keeps_order_and_bytes():
    buf = LogBuffer()
    seen = []
    buf.changed.connect(lambda o, n: seen.append((o, n)))
    buf.append(LogBatch.from_lines([b"c", b"d"], [3, 4]))
    buf.backfill(LogBatch.from_lines([b"a"], [1]))
    buf.backfill(LogBatch.from_lines([b"b"], [2], tag=STDERR))
    buf.append(LogBatch.from_lines([b"e"], [5]))
    assert len(buf) == 5
    assert [buf.line(i)[0] for i in range(5)] == ["a", "b", "c", "d", "e"]
    assert buf.line(1) == ("b", 2, STDERR)
    assert b"".join(iter_log_bytes(buf.chunks())) == b"a\nb\nc\nd\ne\n"
    assert b"".join(iter_log_bytes(buf.chunks(), np.array([1, 3]))) == b"b\nd\n"
    assert seen == [(0, 2), (1, 0), (1, 0), (0, 1)]


def test_many_small_appends_seal_into_chunks_and_stay_compact():
    buf = LogBuffer()
    line = b"x" * 59
    batch = LogBatch.from_lines([line] * 10_000)
    for _ in range(40):
        buf.append(batch)
    assert len(buf) == 400_000
    assert len(buf.newer.sealed) >= (len(batch.data) * 40) // SEAL_BYTES
    assert buf.line_bytes(399_999) == line and buf.line_bytes(123_456) == line
    raw = 400_000 * 60
    assert buf.nbytes() <= raw * 1.25


def test_merge_by_time_interleaves_stably():
    a = LogBatch.from_lines([b"a1", b"a3"], [1, 3], tag=2)
    b = LogBatch.from_lines([b"b1", b"b2"], [1, 2], tag=4)
    m = merge_by_time([a, b])
    assert [m.line(i) for i in range(4)] == [b"a1", b"b1", b"b2", b"a3"]
    assert m.tags.tolist() == [2, 4, 4, 2]


def test_clear_empties():
    buf = LogBuffer()
    buf.append(LogBatch.from_lines([b"a"]))
    buf.clear()
    assert len(buf) == 0 and buf.chunks() == []
