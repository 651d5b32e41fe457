"""A log view with no cap: past its memory limit the oldest chunks go to a private temp file,
and every line stays readable, searchable, filterable by time and savable; memory stays within
1.3x of the log text held in memory however much was loaded."""

from __future__ import annotations

import gc
import os
import stat
import tracemalloc

import numpy as np
import pytest

from desktop.engine.log_records import STDERR, LogBatch
from desktop.state.log_buffer import LogBuffer, iter_log_bytes
from desktop.state.log_levels import LevelIndex, time_rows
from desktop.state.log_search import LogSearch
from desktop.state.log_spill import SpillClosed, SpilledChunk


def lines_from(first: int, n: int, tag: int = 2) -> LogBatch:
    # ~60-byte lines like a web service's; every 97th an error with a 503
    out = []
    for i in range(first, first + n):
        lvl = "ERROR" if i % 97 == 0 else "INFO"
        out.append(f"{i:09d} {lvl} [w{i % 16:02d}] GET /api/items/{i % 100000} status={503 if i % 97 == 0 else 200}".encode())
    return LogBatch.from_lines(out, [1_000_000_000 * i for i in range(first, first + n)], tag=tag)


def expected_line(i: int) -> str:
    lvl = "ERROR" if i % 97 == 0 else "INFO"
    return f"{i:09d} {lvl} [w{i % 16:02d}] GET /api/items/{i % 100000} status={503 if i % 97 == 0 else 200}"


@pytest.fixture
def spilling(tmp_path):
    """A buffer of 300,000 lines (~17 MB) with a 1 MB memory limit: most of it is on disk."""
    buf = LogBuffer(memory_limit=1 << 20, spill_dir=str(tmp_path))
    total, step = 300_000, 20_000
    # the tail first, then the backfill from the start, then followed lines, as a session does
    buf.append(lines_from(200_000, step))
    for first in range(0, 200_000, step):
        buf.backfill(lines_from(first, step))
    for first in range(200_000 + step, total, step):
        buf.append(lines_from(first, step))
    yield buf, total
    buf.close()


def test_lines_past_the_limit_go_to_a_private_file_and_stay_readable(spilling, tmp_path):
    buf, total = spilling
    assert len(buf) == total
    assert buf.disk_bytes() > 8 << 20
    assert buf.older.spilled > 0 and isinstance(buf.older.sealed[0], SpilledChunk)
    # the file has no name on disk and only its owner may read it
    assert os.listdir(tmp_path) == []
    st = os.fstat(buf.spill_file.fd)
    assert st.st_nlink == 0  # unlinked at once: nothing is left behind, however the app ends
    assert stat.S_IMODE(st.st_mode) == 0o600
    for i in (0, 1, 12_345, 199_999, 200_000, 219_999, 299_999):
        assert buf.line(i) == (expected_line(i), 1_000_000_000 * i, 2)
    assert buf.last_ts() == 1_000_000_000 * (total - 1)
    # everything, in order, for Save
    saved = b"".join(iter_log_bytes(buf.chunks()))
    assert saved.count(b"\n") == total
    assert saved.startswith(expected_line(0).encode() + b"\n")
    assert saved.endswith(expected_line(total - 1).encode() + b"\n")
    picked = np.array([3, 200_001, 299_998])
    assert b"".join(iter_log_bytes(buf.chunks(), picked)).decode().splitlines() == [expected_line(i) for i in picked]


def test_search_and_filters_reach_the_lines_on_disk(spilling):
    buf, total = spilling
    want = np.arange(0, total, 97)
    for regex, query in ((True, r"status=5\d\d"), (False, "status=503")):
        s = LogSearch(query, regex=regex, case_sensitive=True)
        s.adopt(s.scan_snapshot(s.snapshot(buf)))  # as a worker does for a big log
        s.update(buf)
        assert np.array_equal(s.lines(), want)
        # the incremental path scans spilled chunks too
        s2 = LogSearch(query, regex=regex, case_sensitive=True)
        s2.update(buf)
        assert np.array_equal(s2.lines(), want)
    levels = LevelIndex()
    assert np.array_equal(levels.rows(buf, ["error"]), want)
    rows = time_rows(buf, 1_000_000_000 * 1000, 1_000_000_000 * 250_000)
    assert np.array_equal(rows, np.arange(1000, 250_001))


def test_closing_removes_the_file_and_a_late_reader_is_told(tmp_path):
    buf = LogBuffer(memory_limit=1 << 20, spill_dir=str(tmp_path))
    for first in range(0, 200_000, 20_000):
        buf.append(lines_from(first, 20_000))
    # Chunks go to disk in the file's writer thread; one not written yet when the view closes
    # still answers from memory, so the late reader is told only of chunks already on disk.
    buf.settle()
    snap = buf.chunks()
    spill = buf.spill_file
    assert spill is not None and buf.disk_bytes() > 0
    buf.close()
    assert spill.closed and buf.spill_file is None
    with pytest.raises(SpillClosed):
        LogSearch("status=503").scan_snapshot((snap, []))
    buf.clear()
    assert len(buf) == 0


def test_memory_stays_within_1_3x_of_the_text_held_in_memory(tmp_path):
    """tracemalloc counts numpy's arrays and Python's bytes: all a buffer allocates."""
    step = 25_000
    template = lines_from(0, step)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        buf = LogBuffer(memory_limit=16 << 20, spill_dir=str(tmp_path))
        peak_ratio = 0.0
        for k in range(80):  # ~110 MB of lines in all
            tag = (k % 3 + 1) << 1 | (STDERR if k % 5 == 0 else 0)
            b = LogBatch(template.data, template.offs, template.ts + k * step * 1_000_000_000,
                         np.full(step, tag, template.tags.dtype))
            buf.append(b)
            del b
            if k % 10 == 9:
                buf.settle()  # chunks go to disk in a writer thread: measured once they are there
                gc.collect()
                used = tracemalloc.get_traced_memory()[0] - base
                peak_ratio = max(peak_ratio, used / buf.memory_raw_bytes())
        assert buf.disk_bytes() > 80 << 20
        assert buf.memory_raw_bytes() <= (16 << 20) + (8 << 20) + (2 << 20)  # the limit and the open chunk
        assert peak_ratio <= 1.3, peak_ratio
        buf.close()
    finally:
        tracemalloc.stop()


def test_a_spilled_chunk_answers_for_its_fields(tmp_path):
    """Code that reads a field of a `chunks()` snapshot (the time cursor finds a moment by `ts`)
    works on a spilled chunk as on one in memory."""
    buf = LogBuffer(memory_limit=1 << 20, spill_dir=str(tmp_path))
    for first in range(0, 200_000, 20_000):
        buf.append(lines_from(first, 20_000))
    (start, spilled), = [(s, c) for s, c in buf.chunks() if isinstance(c, SpilledChunk)][:1]
    whole = spilled.load()
    assert np.array_equal(spilled.ts, whole.ts) and np.array_equal(spilled.tags, whole.tags)
    assert np.array_equal(spilled.offs, whole.offs) and spilled.data == whole.data
    assert spilled.data.split(b"\n")[0].decode() == expected_line(start)
    buf.close()


def test_coloured_lines_on_disk_are_found_as_displayed_and_the_ui_thread_does_not_write(tmp_path):
    """Chunks go to disk in the spill file's writer thread, with the index of their coloured
    lines beside them: a search of lines on disk finds text an escape sequence splits."""
    import threading

    buf = LogBuffer(memory_limit=1 << 20, spill_dir=str(tmp_path))
    writers = set()
    real = os.pwrite

    def watched(fd, data, pos):
        writers.add(threading.current_thread().name)
        return real(fd, data, pos)

    os.pwrite, saved = watched, os.pwrite
    try:
        for first in range(0, 200_000, 20_000):
            lines = [(f"{i:09d} \x1b[31mERR\x1b[0mOR disk full" if i % 50 == 0 else
                      f"{i:09d} INFO GET /api/items/{i % 1000} status=200 took a while").encode()
                     for i in range(first, first + 20_000)]
            buf.append(LogBatch.from_lines(lines, list(range(first, first + 20_000))))
        buf.settle()
    finally:
        os.pwrite = saved
    assert buf.disk_bytes() > 0 and writers and all(n.startswith("log-spill") for n in writers)
    spilled = [c for _, c in buf.chunks() if isinstance(c, SpilledChunk)]
    assert spilled and not any(c.pending for c in spilled)
    s = LogSearch("ERROR disk", case_sensitive=True)
    s.adopt(s.scan_snapshot(s.snapshot(buf)))
    assert np.array_equal(s.lines(), np.arange(0, 200_000, 50))
    buf.close()
