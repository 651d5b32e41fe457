"""The log search finds exactly what matching each line on its own finds (as grep does), whatever
shortcut it takes: the literal prefilter, the one-pass scan, matches that run across newlines,
coloured lines searched as displayed. Generated patterns and lines, against a brute force."""

from __future__ import annotations

import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from desktop.engine.log_records import LogBatch
from desktop.state.ansi import CSI_BYTES_RE
from desktop.state.log_buffer import LogBuffer
from desktop.state.log_search import LogSearch, SearchError
from desktop.state.regex_literals import required_literal

WORDS = ["error", "ERROR", "warn", "info", "disk", "status=503", "status=200", "GET", "/api/items/", "t=", "ms",
         "a", "aa", "b", " ", "  ", "x1", "é", "ü"]
COLOURS = ["\x1b[31m", "\x1b[0m", "\x1b[1;33m"]

# Pattern pieces: literals, classes, quantified atoms, groups, alternation, anchors.
ATOMS = st.one_of(
    st.sampled_from(WORDS).map(re.escape),
    st.sampled_from([r"\d", r"\w", r"\s", r"[a-z]", r"[^ ]", r"[0-9]", ".", r"\S", r"[^x]", r"\b"]),
)


def _quantified(a):
    return st.tuples(a, st.sampled_from(["", "", "*", "+", "?", "{1,3}", "*?", "+?"])).map(
        lambda t: (f"(?:{t[0]})" if len(t[0]) > 1 and t[1] else t[0]) + t[1])


PIECES = _quantified(ATOMS)
SEQ = st.lists(PIECES, min_size=1, max_size=5).map("".join)
PLAIN_SEQ = st.lists(ATOMS, min_size=1, max_size=3).map("".join)  # no quantifier: nothing nests
PATTERNS = st.one_of(
    SEQ,
    st.tuples(SEQ, SEQ).map(lambda t: f"{t[0]}|{t[1]}"),
    st.tuples(PLAIN_SEQ, SEQ).map(lambda t: f"({t[0]})+{t[1]}"),
    SEQ.map(lambda s: "^" + s),
    SEQ.map(lambda s: s + "$"),
)
LINES = st.lists(
    st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(COLOURS), st.text("ab 0123456789xé", max_size=6)),
             max_size=8).map("".join),
    min_size=1, max_size=60,
)


def brute(pattern: re.Pattern[bytes], lines: list[bytes], strip: bool) -> list[int]:
    out = []
    for i, line in enumerate(lines):
        text = CSI_BYTES_RE.sub(b"", line) if strip else line
        out += [i] * sum(1 for m in pattern.finditer(text) if m.end() > m.start())
    return out


def searched(buf: LogBuffer, s: LogSearch) -> list[int]:
    s.update(buf)
    return s.matches().tolist()


@settings(max_examples=300, deadline=None)
@given(PATTERNS, LINES, st.booleans(), st.booleans(), st.booleans())
def test_regex_search_equals_matching_each_line_alone(src, texts, case, strip, regex):
    lines = [t.encode() for t in texts]
    try:
        s = LogSearch(src, regex=regex, case_sensitive=case, strip_ansi=strip)
    except SearchError:
        assume(False)
    buf = LogBuffer()
    buf.append(LogBatch.from_lines(lines))
    assert searched(buf, s) == brute(s.pattern, lines, strip)


@settings(max_examples=200, deadline=None)
@given(PATTERNS, LINES, LINES, st.booleans())
def test_full_scan_in_parts_equals_incremental_and_brute_force(src, older, newer, case):
    """The worker's scan of a snapshot (published in parts), then lines backfilled before and
    appended after it, give the same matches as matching every line."""
    try:
        s = LogSearch(src, regex=True, case_sensitive=case)
    except SearchError:
        assume(False)
    old_b, new_b = [t.encode() for t in older], [t.encode() for t in newer]
    buf = LogBuffer()
    buf.append(LogBatch.from_lines(new_b[: len(new_b) // 2]))
    buf.backfill(LogBatch.from_lines(old_b[len(old_b) // 2:]))
    parts = []
    result = s.scan_snapshot(s.snapshot(buf), on_part=parts.append, every=0)
    assert parts and parts[-1][1] == result[1] and parts[-1][3] == result[3]
    s.adopt(parts[0], buf)  # a part first, as the search bar shows it, then the whole
    s.adopt(result, buf)
    buf.backfill(LogBatch.from_lines(old_b[: len(old_b) // 2]))  # older lines come before them
    buf.append(LogBatch.from_lines(new_b[len(new_b) // 2:]))
    # the backfill lands between what was backfilled and the tail, in order
    in_view = old_b[len(old_b) // 2:] + old_b[: len(old_b) // 2] + new_b
    assert searched(buf, s) == brute(s.pattern, in_view, True)


def test_literals_are_only_what_every_match_holds():
    def lit(src, flags=0):
        return required_literal(re.compile(src.encode(), flags | re.MULTILINE))

    assert lit(r"status=5\d\d") == (b"status=5", False)
    assert lit("error") == (b"error", True)
    assert lit("ERROR", re.IGNORECASE) == (b"error", True)
    assert lit("foo|bar") == (None, False)
    assert lit(r"x*yz?w") == (b"y", False)
    assert lit(r"(?:ab)+cd") == (b"ab", False)
    assert lit(r"a{0,3}") == (None, False)
    assert lit(r"(?i:abc)d") == (b"d", False)


def test_a_match_across_lines_does_not_hide_a_line_match():
    buf = LogBuffer()
    buf.append(LogBatch.from_lines([b"error  ", b"  next", b"error x"]))
    s = LogSearch(r"error\s+", regex=True, case_sensitive=True)
    # alone, "error  " matches; in one pass over the text "\s+" would run on into the next line
    assert searched(buf, s) == [0, 2]
