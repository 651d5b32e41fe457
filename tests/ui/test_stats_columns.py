"""CPU % and Memory columns: streams only for the rows on screen, following scrolling and hiding."""

from __future__ import annotations

from PySide6.QtCore import Qt

import tests.ui._cpython_ast_guard  # noqa: F401
from desktop.presentation.container_columns import COL_CPU, COL_MEM

N = 24


def visible_running(page, feeder):
    return {cid for cid in feeder.visible_ids() if page.store.get(cid) and page.store.get(cid).state == "running"}


def test_streams_follow_the_rows_on_screen(ph, qtbot, make_container, run_id):
    ids = [make_container(f"pht-{run_id}-{i:02d}", start=True) for i in range(N)]
    stopped = make_container(f"pht-{run_id}-zz-stopped")
    page, hub, feeder = ph.containers.page, ph.monitoring.stats_hub, ph.monitoring.stats_columns
    ph.window.resize(1000, 420)  # room for a handful of rows only
    page.search.setText(run_id)
    qtbot.waitUntil(lambda: all(page.proxy_index_of(c).isValid() for c in ids + [stopped]), timeout=15000)

    # Only what is on screen streams: fewer rows than containers, and exactly those rows.
    qtbot.waitUntil(lambda: bool(feeder.watched) and feeder.watched == set(feeder.visible_ids()), timeout=5000)
    on_screen = visible_running(page, feeder)
    assert 0 < len(on_screen) < N
    assert hub.open_streams == len(on_screen)
    first = sorted(on_screen)[0]
    qtbot.waitUntil(lambda: page.proxy_index_of(first, COL_CPU).data().endswith("%"), timeout=10000)
    assert "iB" in page.proxy_index_of(first, COL_MEM).data()
    assert "of" in page.proxy_index_of(first, COL_MEM).data(Qt.ItemDataRole.ToolTipRole)  # tooltip: "x MiB of y GiB"

    # Scrolling to the bottom moves the streams to the rows now shown (the stopped one has none).
    page.view.scrollToBottom()
    qtbot.waitUntil(lambda: stopped in feeder.watched, timeout=5000)
    now = visible_running(page, feeder)
    assert now != on_screen
    qtbot.waitUntil(lambda: hub.open_streams == len(now), timeout=5000)
    assert all(not hub.streaming(c) for c in on_screen - now)
    assert page.proxy_index_of(stopped, COL_CPU).data() == ""
    gone = sorted(on_screen - now)[0]
    assert page.proxy_index_of(gone, COL_CPU).data() == ""  # no stale figures off screen

    # A page that is not shown streams nothing.
    page.hide()
    qtbot.waitUntil(lambda: hub.open_streams == 0, timeout=5000)
    page.show()
    qtbot.waitUntil(lambda: hub.open_streams == len(now), timeout=5000)
    page.search.clear()
