"""Sorting the Activity timeline by a column, on the real engine's events: a header click sorts
every event the filter selects in the history (read off the UI thread) in the order the column
shows, gaps set aside with a note; a click again reverses it; a live event goes where the order
puts it; Time, or a moment pointed at elsewhere, brings the timeline's own order back. And for
random rows and live events, the model's placing of live events equals sorting them all."""

from __future__ import annotations

import tests.ui._cpython_ast_guard  # noqa: F401

from types import MappingProxyType

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from desktop.state.history.timeline import Gap, TimelineEvent, TimelineFilter, event_key, query_events
from desktop.state.history.timeline_sort import SORTABLE, SortKey, sort_value
from desktop.ui.history.timeline_model import COL_OBJECT, COL_TEXT, COL_TIME


def _click_header(page, col: int) -> None:
    hh = page.view.horizontalHeader()
    x = hh.sectionViewportPosition(col) + hh.sectionSize(col) // 2
    QTest.mouseClick(hh.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(x, hh.height() // 2))


def _in_order(rows, column: str, descending: bool) -> bool:
    keys = [SortKey(r, column, descending) for r in rows]
    return all(not (b < a) for a, b in zip(keys, keys[1:]))


def test_a_header_click_sorts_the_timeline_and_time_brings_it_back(history_app, qtbot, make_container, docker_api,
                                                                   run_id):
    ph = history_app()
    page = ph.history.page
    ph.window.show_page("activity")
    ids = [make_container(name=f"sort-{letter}-{run_id}", start=True) for letter in "bca"]
    qtbot.waitUntil(lambda: all(any(getattr(r, "actor", "") == cid and r.action == "start" for r in page.model.rows)
                                for cid in ids), timeout=20000)
    qtbot.waitUntil(lambda: not ph.history.recorder.busy and not page.busy, timeout=15000)

    _click_header(page, COL_OBJECT)
    qtbot.waitUntil(lambda: page.model.sort == ("object", False) and not page.busy, timeout=15000)
    rows = page.model.rows
    assert rows and not any(isinstance(r, Gap) for r in rows)
    assert _in_order(rows, "object", False)
    assert "not-watching gaps are not shown while sorted" in page.status.text()
    # Every event the filter selects, in the history, in the column's order: the page shows those.
    every = page.store.read_blocking(query_events, TimelineFilter(engine=page.engine_filter, since=page.current_filter()
                                                                  .since, limit=0))
    assert [event_key(r) for r in rows] == [event_key(e) for e in sorted(every, key=lambda e: SortKey(e, "object",
                                                                                                        False))]
    mine = [sort_value(r, "object") for r in rows if getattr(r, "actor", "") in ids]
    assert mine == sorted(mine) and mine[0].startswith("sort-a-")
    assert page.view.horizontalHeader().sortIndicatorSection() == COL_OBJECT

    # A live event goes where the order puts it.
    late = make_container(name=f"sort-aa-{run_id}", start=True)
    qtbot.waitUntil(lambda: any(getattr(r, "actor", "") == late and r.action == "start" for r in page.model.rows),
                    timeout=20000)
    assert _in_order(page.model.rows, "object", False)

    _click_header(page, COL_OBJECT)  # again: Z to A
    qtbot.waitUntil(lambda: page.model.sort == ("object", True) and not page.busy, timeout=15000)
    assert _in_order(page.model.rows, "object", True) and "Z to A" in page.status.text()

    page.set_sort(("what", False))  # what the rows say, as they say it ("exited with code 1")
    qtbot.waitUntil(lambda: page.model.sort == ("what", False) and not page.busy, timeout=15000)
    texts = [page.model.index(i, COL_TEXT).data().removesuffix(" (read back from the engine)")
             for i in range(page.model.rowCount())]
    assert texts == sorted(texts)

    _click_header(page, COL_TIME)
    qtbot.waitUntil(lambda: page.model.sort is None and not page.busy, timeout=15000)
    times = [r.time_nano if not isinstance(r, Gap) else r.end for r in page.model.rows]
    assert times == sorted(times, reverse=True)
    assert "sorted" not in page.status.text()

    # A moment pointed at elsewhere (a graph) has no place in a column's order: time order again.
    page.set_sort(("object", False))
    qtbot.waitUntil(lambda: page.model.sort == ("object", False) and not page.busy, timeout=15000)
    start = next(r for r in page.model.rows if getattr(r, "actor", "") == ids[0] and r.action == "start")
    ph.monitoring.time_cursor.point(start.time_nano / 1e9, engine=start.engine, source=object())
    qtbot.waitUntil(lambda: page.model.sort is None and not page.busy
                    and page.view.horizontalHeader().sortIndicatorSection() == COL_TIME, timeout=15000)
    assert any(getattr(r, "actor", "") == ids[0] for r in page.model.rows)


_EVENTS = st.builds(
    lambda i, name, action, t, engine: TimelineEvent(i, engine, t, "container", action, f"{i:016x}" * 4, name, "", "",
                                                     MappingProxyType({"exitCode": "1"} if action == "die" else {})),
    st.integers(1, 10**6), st.sampled_from(("web", "db", "api", "Web", "ä-svc", "")),
    st.sampled_from(("start", "die", "destroy", "create")), st.integers(0, 50), st.sampled_from(("a", "b")))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_EVENTS, max_size=15, unique_by=lambda e: e.id), st.lists(_EVENTS, max_size=8, unique_by=lambda e: e.id),
       st.sampled_from(SORTABLE), st.booleans())
def test_live_events_go_where_the_sort_puts_them(qapp, shown, live, column, descending):
    from desktop.ui.history.timeline_model import TimelineModel

    live = [e for e in live if e.id not in {s.id for s in shown}]
    model = TimelineModel()
    model.set_rows(sorted(shown, key=lambda e: SortKey(e, column, descending)), (column, descending))
    model.insert_sorted(live, complete=True)
    every = sorted([*shown, *live], key=lambda e: SortKey(e, column, descending))
    assert [r.id for r in model.rows] == [e.id for e in every]
    model.insert_sorted(live, complete=True)  # seen again (live and read back): shown once
    assert [r.id for r in model.rows] == [e.id for e in every]
