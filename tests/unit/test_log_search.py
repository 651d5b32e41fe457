import pytest

from desktop.engine.log_records import LogBatch
from desktop.state.log_buffer import LogBuffer
from desktop.state.log_search import LogSearch, SearchError, compile_query


def make_buffer():
    buf = LogBuffer()
    buf.append(LogBatch.from_lines([b"\x1b[31mERROR\x1b[0m: disk", b"info ok", b"error again error"]))
    return buf


def test_plain_search_counts_matches_and_lines_through_ansi():
    buf = make_buffer()
    s = LogSearch("error", case_sensitive=False)
    s.update(buf)
    assert s.match_count() == 3
    assert s.lines().tolist() == [0, 2]
    assert s.match_at(2) == (2, 1)
    s2 = LogSearch("ERROR: disk", case_sensitive=True)
    s2.update(buf)
    assert s2.lines().tolist() == [0]


def test_incremental_and_backfill_shift():
    buf = make_buffer()
    s = LogSearch("error", regex=True)
    s.update(buf)
    buf.backfill(LogBatch.from_lines([b"old error"]))
    buf.append(LogBatch.from_lines([b"new error"]))
    s.update(buf)
    assert s.lines().tolist() == [0, 1, 3, 4]


def test_full_scan_snapshot_then_catch_up():
    buf = make_buffer()
    s = LogSearch("^info", regex=True)
    result = s.scan_snapshot(s.snapshot(buf))
    buf.append(LogBatch.from_lines([b"info late"]))
    s.adopt(result)
    s.update(buf)
    assert s.lines().tolist() == [1, 3]
    assert s.first_match_from(2) == 1 and s.first_match_from(2, backwards=True) == 0


def test_bad_regex_is_a_sentence():
    with pytest.raises(SearchError) as e:
        compile_query("(oops", regex=True, case_sensitive=False)
    assert "Not a valid regular expression" in str(e.value)
    with pytest.raises(SearchError):
        compile_query("", regex=False, case_sensitive=False)
    # plain mode escapes
    p, _ = compile_query("(oops", regex=False, case_sensitive=False)
    assert p.search(b"x (oops")


def test_raw_mode_searches_escapes():
    buf = make_buffer()
    s = LogSearch("31m", strip_ansi=False)
    s.update(buf)
    assert s.lines().tolist() == [0]
    s = LogSearch("31m", strip_ansi=True)
    s.update(buf)
    assert s.match_count() == 0


def test_tail_and_since_boxes_parse_typed_values():
    from desktop.engine.logs import parse_since, parse_tail

    TAIL_CHOICES = (("All lines", None), ("Last 1,000", 1000))
    SINCE_CHOICES = (("Any time", None), ("Last hour", 3600))

    assert parse_tail("All lines", TAIL_CHOICES) is None
    assert parse_tail("Last 1,000", TAIL_CHOICES) == 1000
    assert parse_tail("25,000", TAIL_CHOICES) == 25000
    with pytest.raises(ValueError):
        parse_tail("-3", TAIL_CHOICES)
    assert parse_since("Last hour", SINCE_CHOICES) == 3600
    assert parse_since("15m", SINCE_CHOICES) == 900 and parse_since("2 d", SINCE_CHOICES) == 172800
    assert parse_since("2026-11-28 10:00", SINCE_CHOICES) > 1.7e9
    with pytest.raises(ValueError) as e:
        parse_since("yesterday-ish", SINCE_CHOICES)
    assert "15m" in str(e.value)
