"""The Activity timeline's page on the real engine: a new history file shows what the engine
buffered before the app started, at once and in `--screenshot`; the table gets the room (columns
fitted, "What happened" whole, a cut cell's full text in its tooltip); the engine filter, a typed
from/to range (checked where typed) and a search in the rows' own wording; a line clicked in a
container's Logs tab moves the time cursor there, and its live Stats graphs mark it."""

from __future__ import annotations

import tests.ui._cpython_ast_guard  # noqa: F401

import time

from PySide6.QtCore import QDateTime, QPoint, Qt
from PySide6.QtTest import QTest

from desktop.engine.logs_window import parse_timestamp
from desktop.state.history.timeline import Gap
from desktop.ui.history.timeline_model import COL_OBJECT, COL_TEXT
from desktop.ui.history.timeline_page import CUSTOM, WIDEST
from desktop.ui.page_current import page_is_current
from desktop.ui.screenshot import save_screenshot

LONG = "a-container-whose-name-is-much-longer-than-its-column-can-show"


def _events(page):
    return [r for r in page.model.rows if not isinstance(r, Gap)]


def test_a_new_history_shows_what_the_engine_buffered_and_the_table_gets_the_room(
        history_app, qtbot, await_, make_container, docker_api, tmp_path):
    cid = make_container(name=f"{LONG}-{time.time_ns() % 100000}", command=("sh", "-c", "exit 3"))
    docker_api.start(cid)
    docker_api.wait(cid)
    name = docker_api.inspect_container(cid)["Name"].lstrip("/")

    ph = history_app()  # a new history file: these events are only in the engine's buffer
    ph.window.resize(1200, 720)
    page = ph.history.page
    assert await_(save_screenshot(ph, str(tmp_path / "activity.png"), "activity")) == 0
    assert page_is_current(ph, "activity")
    mine = [r for r in _events(page) if r.actor == cid]
    assert {r.action for r in mine} >= {"create", "start", "die"} and all(r.filled for r in mine)
    assert (tmp_path / "activity.png").stat().st_size > 0

    # The table is most of the page until an event is selected; the moment pane is its caption.
    table, pane = page.split.sizes()
    assert table > 3 * pane and not page.moment.body.isVisible()
    row = next(i for i, r in enumerate(page.model.rows) if getattr(r, "actor", "") == cid)
    obj = page.model.index(row, COL_OBJECT)
    assert page.view.columnWidth(COL_OBJECT) <= WIDEST[COL_OBJECT]
    assert page.view.fontMetrics().horizontalAdvance(obj.data()) > page.view.columnWidth(COL_OBJECT)  # cut...
    assert obj.data(Qt.ItemDataRole.ToolTipRole).splitlines()[0] == name  # ...and whole in its tooltip
    what = page.model.index(row, COL_TEXT)
    assert page.view.columnWidth(COL_TEXT) >= page.view.fontMetrics().horizontalAdvance(what.data())
    with qtbot.waitSignal(page.moment.loaded, timeout=20000):
        page.view.selectRow(row)
    table2, pane2 = page.split.sizes()
    assert page.moment.body.isVisible() and pane2 > pane and table2 > pane2


def test_engine_filter_custom_range_and_search_in_the_wording(history_app, qtbot, make_container, docker_api):
    ph = history_app()
    page = ph.history.page
    ph.window.show_page("activity")
    cid = make_container(command=("sh", "-c", "exit 2"))
    docker_api.start(cid)
    docker_api.wait(cid)
    qtbot.waitUntil(lambda: any(getattr(r, "actor", "") == cid and r.action == "die" for r in page.model.rows),
                    timeout=15000)
    qtbot.waitUntil(lambda: not ph.history.recorder.busy and not page.busy, timeout=15000)

    # "exited" is what the row says; the engine's action is "die".
    page.search.setText("exited")
    qtbot.waitUntil(lambda: not page.busy and bool(_events(page))
                    and all(r.action == "die" for r in _events(page)), timeout=10000)
    assert any(r.actor == cid for r in _events(page))
    assert any(page.model.index(i, COL_TEXT).data() == "exited with code 2" for i in range(page.model.rowCount()))
    page.search.setText("exited with code")
    qtbot.waitUntil(lambda: not page.busy and any(r.actor == cid for r in _events(page)), timeout=10000)
    page.search.setText("")

    # The engine filter, shown once several engines are followed.
    assert not page.engine_choice.isVisibleTo(page)
    page.set_multi_engine(True, ["host", "elsewhere"])
    assert page.engine_choice.isVisibleTo(page)
    page.engine_choice.setCurrentIndex(page.engine_choice.findData("elsewhere"))
    qtbot.waitUntil(lambda: not page.busy and not _events(page), timeout=10000)
    page.engine_choice.setCurrentIndex(page.engine_choice.findData("host"))
    qtbot.waitUntil(lambda: not page.busy and any(r.actor == cid for r in _events(page)), timeout=10000)
    assert {r.engine for r in _events(page)} == {"host"}
    page.set_multi_engine(False, ["host"])

    # A typed range: from after to is refused where typed, the rows stay; a valid one applies.
    create = next(r for r in _events(page) if r.actor == cid and r.action == "create")
    page.range.setCurrentIndex(page.range.findData(CUSTOM))  # (the last hour up to now, at first)
    assert page.custom.isVisibleTo(page) and not page.custom.error.isVisibleTo(page)
    qtbot.waitUntil(lambda: not page.busy and any(r.actor == cid for r in _events(page)), timeout=10000)
    shown = list(page.model.rows)
    t = create.time_nano // 1_000_000_000
    page.custom.end.setDateTime(QDateTime.fromSecsSinceEpoch(t - 3600))
    page.custom.start.setDateTime(QDateTime.fromSecsSinceEpoch(t))
    assert page.custom.error.isVisibleTo(page) and "before its end" in page.custom.error.text()
    assert page.custom.span_ns() is None and not page.busy and page.model.rows == shown
    page.custom.end.setDateTime(QDateTime.fromSecsSinceEpoch(t + 1))
    assert not page.custom.error.isVisibleTo(page)
    since, until = page.custom.span_ns()
    qtbot.waitUntil(lambda: not page.busy and any(r.actor == cid and r.action == "create" for r in _events(page))
                    and all(since <= r.time_nano <= until for r in _events(page)), timeout=10000)


def test_a_line_clicked_in_the_logs_tab_moves_the_cursor_and_the_live_graphs_mark_it(
        history_app, qtbot, make_container, docker_api):
    ph = history_app()
    cursor = ph.monitoring.time_cursor
    cid = make_container(command=("sh", "-c", "echo first; echo second; echo third; sleep 600"))
    docker_api.start(cid)
    qtbot.waitUntil(lambda: len(docker_api.logs(cid).splitlines()) == 3, timeout=15000)
    first_ns = parse_timestamp(docker_api.logs(cid, timestamps=True).splitlines()[0].partition(b" ")[0])
    ph.window.show_page("containers")
    qtbot.waitUntil(lambda: ph.primary.containers.get(cid) is not None, timeout=15000)
    detail = ph.details.open_container(ph.primary.containers.get(cid))
    stats = detail.show_tab("Stats")
    logs = detail.show_tab("Logs")
    qtbot.waitUntil(lambda: logs.is_loaded and len(logs.buffer) == 3, timeout=15000)
    view = logs.view
    qtbot.waitUntil(lambda: view.line_at(QPoint(4, 4)) == 0, timeout=10000)  # painted
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(4, 4))
    m = cursor.moment
    assert m is not None and m.container == cid and m.t == first_ns / 1e9
    assert all(g.mark_time == m.t for g in stats.live_graphs) and len(stats.live_graphs) == 4
    assert stats.history.cpu.mark_time == m.t
