"""Levels detected per line: the first level word counts; time ranges keep their lines."""

import numpy as np

from desktop.engine.log_records import LogBatch
from desktop.state.log_buffer import LogBuffer
from desktop.state.log_levels import LevelIndex, time_rows

LINES = [b"2026-12-01T10:00:00Z ERROR disk full", b"INFO retrying after error", b"level=warn slow",
         b'{"level":"error","msg":"x"}', b"plain line", b"Warning: deprecated", b"terror is not a level",
         b"\x1b[31mFATAL\x1b[0m boom"]


def buffer() -> LogBuffer:
    buf = LogBuffer()
    buf.append(LogBatch.from_lines(LINES, ts=list(range(1, len(LINES) + 1))))
    return buf


def test_first_level_word_decides():
    buf, idx = buffer(), LevelIndex()
    assert idx.rows(buf, ["error"]).tolist() == [0, 3, 7]
    assert idx.rows(buf, ["warn"]).tolist() == [2, 5]
    assert idx.rows(buf, ["info"]).tolist() == [1]
    assert idx.rows(buf, ["other"]).tolist() == [4, 6]
    assert idx.rows(buf, ["error", "warn", "info", "other"]) is None


def test_levels_follow_new_and_older_lines():
    buf, idx = buffer(), LevelIndex()
    assert len(idx.rows(buf, ["error"])) == 3
    buf.append(LogBatch.from_lines([b"ERROR again"], ts=[100]))
    buf.backfill(LogBatch.from_lines([b"ERROR older", b"info older"], ts=[0, 0]))
    rows = idx.rows(buf, ["error"])
    assert [buf.line(int(i))[0] for i in rows] == ["ERROR older", "2026-12-01T10:00:00Z ERROR disk full",
                                                    '{"level":"error","msg":"x"}', "\x1b[31mFATAL\x1b[0m boom",
                                                    "ERROR again"]


def test_time_rows():
    buf = buffer()
    assert time_rows(buf, None, None) is None
    assert time_rows(buf, 2, 4).tolist() == [1, 2, 3]
    assert time_rows(buf, 7, None).tolist() == [6, 7]
    assert np.array_equal(time_rows(buf, None, 1), [0])
