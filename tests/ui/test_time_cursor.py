"""Activity is the timeline, on one time cursor with the stats graphs and the logs, against the real
engine: events the engine sends appear at once; selecting one shows that moment's figures (from the
stats history) and the container's log lines around it (read from the engine); a click in a
container's recorded Stats graph moves the timeline, its figures and its logs to that moment."""

from __future__ import annotations

import tests.ui._cpython_ast_guard  # noqa: F401

import time

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desktop.engine.logs_window import parse_timestamp
from desktop.state.history import stats_tiers
from desktop.state.history.timeline import Gap
from desktop.ui.history.timeline_model import row_key
from tests.ui.tab_walk import TAB_JUMPS, walk

TICKING = "i=0; while :; do echo line $i; i=$((i+1)); sleep 0.2; done"


def engine_lines(docker_api, cid):
    """(ns, text) of every log line, as the engine has them."""
    out = []
    for raw in docker_api.logs(cid, timestamps=True).splitlines():
        ts, _, text = raw.partition(b" ")
        out.append((parse_timestamp(ts), text.decode()))
    return out


def expected_logs(docker_api, cid, t):
    """What the moment pane must show: the lines 30 s either side of `t` (100 at most each side)."""
    ns = int(t * 1e9)
    lines = engine_lines(docker_api, cid)
    before = [x for x in lines if (t - 30) * 1e9 <= x[0] < ns][-100:]
    after = [x for x in lines if ns <= x[0] <= (t + 30) * 1e9][:100]
    return [x[1] for x in before + after], len(before)


def test_activity_is_the_timeline_with_live_events_and_a_shared_time_cursor(history_app, qtbot, await_,
                                                                             make_container, docker_api):
    ph = history_app()
    page = ph.monitoring.activity_page
    assert ph.history.page is page  # one page: the history's timeline is Activity
    titles = [ph.window.sidebar.item(i).text() for i in range(ph.window.sidebar.count())]
    assert titles.count("Activity") == 1 and "Timeline" not in titles
    cursor = ph.monitoring.time_cursor

    cid = make_container(command=("sh", "-c", TICKING))
    name = docker_api.inspect_container(cid)["Name"].lstrip("/")
    ph.window.show_page("activity")
    page.container.setEditText(name)
    qtbot.waitUntil(lambda: [r.action for r in page.model.rows] == ["create"], timeout=15000)
    # (the engine's buffer read back at start, and the page's read after it)
    qtbot.waitUntil(lambda: not ph.history.recorder.busy and not page.busy, timeout=15000)

    # Live: what the engine sends next is on the page without reading the history again.
    reads = []
    page.refreshed.connect(reads.append)
    docker_api.start(cid)
    qtbot.waitUntil(lambda: any(getattr(r, "action", "") == "start" for r in page.model.rows), timeout=15000)
    assert reads == []
    start = next(r for r in page.model.rows if r.action == "start")
    assert start.id < 0  # from the engine's event stream, not from the file
    qtbot.waitUntil(lambda: sum(1 for _ in engine_lines(docker_api, cid)) >= 15, timeout=20000)
    for _ in range(2):  # two samples: the second has a CPU figure (the counters' delta)
        await_(ph.history.sampler.tick())

    # Selecting the event points the cursor at it: the pane shows its figures and its logs.
    row = page.model.row_of_key(row_key(start))
    with qtbot.waitSignal(page.moment.loaded, timeout=20000):
        page.view.selectRow(row)
    m = cursor.moment
    assert (m.t, m.container, m.engine, m.name, m.source) == (start.time_nano / 1e9, cid, "host", name, page)
    pane = page.moment
    assert pane.cpu.mark_time == m.t and pane.memory.mark_time == m.t
    pts = ph.history_store.read_blocking(stats_tiers.points, "host", cid, m.t - 900, m.t + 900)
    nearest = min(pts, key=lambda p: abs(p.t - m.t))
    assert pane.figures["memory"] == nearest.mem > 0 and pane.figures["t"] == nearest.t
    assert "At that moment: CPU" in pane.figures_note.text()
    want, at = expected_logs(docker_api, cid, m.t)
    assert len(pane.log_lines) >= 10 and pane.log_lines == want[:len(pane.log_lines)]
    assert pane.log_at == at and pane.log_lines[pane.log_at] == want[at]
    # The Dashboard's history card marks the same moment.
    assert ph.history.engine_history.cpu.mark_time == m.t

    # The other way: a click in the container's recorded Stats graph moves the cursor there.
    lines = engine_lines(docker_api, cid)
    target = (lines[10][0] + lines[11][0]) / 2e9
    ph.window.show_page("containers")  # where a container's page opens
    detail = ph.details.open_container(ph.primary.containers.get(cid))
    stats = detail.show_tab("Stats")
    view = stats.history
    assert stats.stack.currentWidget() is stats.live  # live first, streamed
    with qtbot.waitSignal(view.loaded, timeout=10000):
        stats.range.setCurrentIndex(stats.range.findData(3600))  # the last hour, recorded
    vb = view.cpu.plot.getPlotItem().vb
    y = sum(vb.viewRange()[1]) / 2
    pos = view.cpu.plot.mapFromScene(vb.mapViewToScene(QPointF(target, y)))
    with qtbot.waitSignal(view.at.described, timeout=10000):
        QTest.mouseClick(view.cpu.plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    m2 = cursor.moment
    assert m2.source is view.at and m2.container == cid and abs(m2.t - target) < 30
    assert view.cpu.mark_time == m2.t and view.at.text.startswith("At ")
    # "Show in Activity", with the keyboard (Tab reaches the line and then its link, Enter follows
    # it): the timeline at that moment, the nearest event selected, the logs there.
    ph.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is ph.window)
    walked = walk(detail, "container page, Stats tab with a moment", TAB_JUMPS)
    assert not walked.problems and view.at.label in walked.visited, walked.problems
    view.at.label.setFocus(Qt.FocusReason.TabFocusReason)
    QTest.keyClick(view.at.label, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is view.at.label and view.at.label.selectedText() == "Show in Activity"
    with qtbot.waitSignal(page.moment.loaded, timeout=20000):
        QTest.keyClick(view.at.label, Qt.Key.Key_Return)
    assert ph.window.page("activity").isVisible()
    qtbot.waitUntil(lambda: page.view.selectionModel().currentIndex().isValid(), timeout=10000)
    chosen = page.model.rows[page.view.selectionModel().currentIndex().row()]
    events = [r for r in page.model.rows if not isinstance(r, Gap)]
    assert abs(chosen.time_nano / 1e9 - m2.t) == min(abs(r.time_nano / 1e9 - m2.t) for r in events)
    assert cursor.moment is m2  # the row chosen for it does not move the moment
    want, at = expected_logs(docker_api, cid, m2.t)
    assert pane.log_lines == want[:len(pane.log_lines)] and pane.log_at == at
    assert pane.log_lines[pane.log_at] == want[at]
    assert time.time() - m2.t < 120

    # And the container's own Logs tab, scrolled to the moment: its first line at or after it selected.
    page.moment.open_logs.click()
    logs = ph.details.page.logs
    assert ph.details.page.tabs.currentWidget() is logs
    qtbot.waitUntil(lambda: logs.is_loaded and logs.view.selected_text().endswith(want[at]), timeout=20000)
    assert logs.view.selected_text().count("\n") == 0  # that one line


def test_without_a_history_activity_shows_the_session_and_the_logs_of_a_moment(ph, qtbot, make_container,
                                                                               docker_api):
    page = ph.monitoring.activity_page
    assert ph.history_store is None and not page.tabs.isTabVisible(1)  # no crash reports tab either
    cid = make_container(command=("sh", "-c", TICKING))
    name = docker_api.inspect_container(cid)["Name"].lstrip("/")
    ph.window.show_page("activity")
    page.container.setEditText(name)
    docker_api.start(cid)
    qtbot.waitUntil(lambda: {r.name for r in page.model.rows} == {name}
                    and any(r.action == "start" for r in page.model.rows), timeout=15000)
    assert "events this session (no history is kept)" in page.status.text()
    qtbot.waitUntil(lambda: len(engine_lines(docker_api, cid)) >= 5, timeout=20000)
    row = next(i for i, r in enumerate(page.model.rows) if r.action == "start")
    with qtbot.waitSignal(page.moment.loaded, timeout=20000):
        page.view.selectRow(row)
    m = ph.monitoring.time_cursor.moment
    want, at = expected_logs(docker_api, cid, m.t)
    assert len(page.moment.log_lines) >= 5 and page.moment.log_lines == want[:len(page.moment.log_lines)]
    assert page.moment.log_at == at
    assert page.moment.figures_note.text() == "No stats history is kept."
