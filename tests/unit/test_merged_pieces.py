"""A merged backfill released at once is handed on in pieces of about FLUSH_BYTES, whole lines,
in order, nothing lost."""

import numpy as np

from desktop.engine.compose_logs import FLUSH_BYTES, _pieces
from desktop.engine.log_records import LogBatch, concat_batches


def test_a_big_merge_goes_on_in_pieces_of_whole_lines():
    lines = [(b"%07d " % i) + b"x" * (i % 300) for i in range(120_000)]
    b = LogBatch.from_lines(lines, list(range(len(lines))), tag=2)
    pieces = _pieces(b)
    assert len(pieces) > 2 and all(len(p.data) <= FLUSH_BYTES + 400 for p in pieces)
    joined = concat_batches(pieces)
    assert joined.data == b.data and np.array_equal(joined.ts, b.ts) and np.array_equal(joined.tags, b.tags)
    assert all(p.data.endswith(b"\n") for p in pieces)
    small = LogBatch.from_lines([b"one", b"two"])
    assert _pieces(small) == [small] and _pieces(LogBatch.empty()) == []
