"""Live lines of a merged view reach it in time order whatever order their streams deliver
them in, as long as no line is later than LiveOrder's window behind a newer one; and a single
container's own lines (stdout and stderr stamped apart) are sorted too."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from desktop.engine.compose_logs import LiveOrder
from desktop.engine.log_records import LogBatch, concat_batches, merge_by_time

WINDOW = 0.1


@st.composite
def deliveries(draw):
    """Lines of several sources written over time; each arrives some delay (< WINDOW) after it
    was written, in batches per source, in any interleaving of the sources."""
    sources = draw(st.integers(1, 5))
    lines = []  # (written at, source)
    for src in range(1, sources + 1):
        n = draw(st.integers(0, 30))
        for t in draw(st.lists(st.integers(0, 2_000_000), min_size=n, max_size=n)):
            lines.append((t, src))
    arrivals = []
    for k, (t, src) in enumerate(lines):
        delay = draw(st.floats(0, WINDOW * 0.99))
        arrivals.append((t * 1e-6 + delay, k))
    arrivals.sort()
    # consecutive arrivals of one source may come as one batch
    batches, cur = [], None
    for at, k in arrivals:
        t, src = lines[k]
        # (only while that keeps every line of it within the window of when it was written)
        if cur is not None and cur[1] == src and all(at < lines[j][0] * 1e-6 + WINDOW * 0.99 for j in cur[2]) \
                and draw(st.booleans()):
            cur[0] = at  # a batch arrives with its last line
            cur[2].append(k)
        else:
            cur = [at, src, [k]]
            batches.append(cur)
    takes = draw(st.lists(st.floats(0, 2.5), max_size=20))
    return lines, batches, sorted(takes)


@settings(max_examples=300, deadline=None)
@given(deliveries())
def test_what_is_taken_is_in_time_order_and_complete(d):
    lines, batches, takes = d
    order = LiveOrder(WINDOW)
    out = []
    events = [(at, 0, (src, ks)) for at, src, ks in batches] + [(t, 1, None) for t in takes] + [(1e9, 1, None)]
    for at, kind, what in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == 0:
            src, ks = what
            order.add(LogBatch.from_lines([b"%d" % k for k in ks], [lines[k][0] for k in ks], tag=src << 1), at)
        else:
            got, due = order.take(at)
            out.append(got)
            assert due is None or due > at
    view = concat_batches(out)
    ts = view.ts.tolist()
    assert ts == sorted(ts)
    assert sorted(view.line(i) for i in range(len(view))) == sorted(b"%d" % k for k in range(len(lines)))
    assert len(order) == 0


def test_lines_wait_the_window_then_go_on():
    order = LiveOrder(WINDOW)
    order.add(LogBatch.from_lines([b"new"], [20], tag=2), 0.0)
    got, due = order.take(0.05)
    assert len(got) == 0 and due == WINDOW
    order.add(LogBatch.from_lines([b"old"], [10], tag=4), 0.09)  # late, but within the window
    got, due = order.take(0.1)  # "new" has waited long enough, but "old" goes first and has not
    assert len(got) == 0 and due == 0.09 + WINDOW
    got, due = order.take(0.2)
    assert [got.line(i) for i in range(len(got))] == [b"old", b"new"] and due is None


def test_one_containers_lines_are_sorted():
    # stdout's line stamped before stderr's but written to the file after it
    b = LogBatch.from_lines([b"err", b"out"], [5, 3], tag=3)
    m = merge_by_time([b])
    assert [m.line(i) for i in range(2)] == [b"out", b"err"] and m.tags.tolist() == [3, 3]
