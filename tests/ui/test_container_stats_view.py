"""The Stats tab widget: live graphs from a real container, hover values, CSV export, stream lifetime."""

from __future__ import annotations

import csv

import tests.ui._cpython_ast_guard  # noqa: F401
from desktop.ui.monitoring.container_stats_view import ContainerStatsView

BURN = ("sh", "-c", "while :; do :; done")


def test_stats_view_graphs_hover_and_export(ph, qtbot, make_container, tmp_path):
    cid = make_container(start=True, command=BURN)
    qtbot.waitUntil(lambda: ph.primary.containers.get(cid) is not None and ph.primary.containers.get(cid).state == "running",
                    timeout=10000)
    hub = ph.monitoring.stats_hub
    ph.window.hide()  # the table would stream its visible rows too; this test is about the view alone
    qtbot.waitUntil(lambda: hub.open_streams == 0, timeout=20000)
    base = 0
    view = ContainerStatsView(hub, cid)
    qtbot.addWidget(view)
    assert not hub.streaming(cid)  # not shown yet: no stream
    view.resize(900, 560)
    view.show()
    assert hub.streaming(cid) and hub.open_streams == base + 1
    qtbot.waitUntil(lambda: hub.history(cid) is not None and len(hub.history(cid)) >= 4, timeout=15000)
    qtbot.waitUntil(lambda: "CPU ·" in view.status.text(), timeout=20000)
    qtbot.waitUntil(lambda: len(view.cpu.curves["CPU"].getData()[0]) >= 4, timeout=20000)  # redraws coalesce
    t, y = view.cpu.curves["CPU"].getData()
    # The graph draws the hub's own figures (how much CPU the busy loop gets depends on the
    # machine's load; the figures themselves are held against the kernel's count elsewhere).
    ring = hub.history(cid)
    drawn = dict(zip((round(float(v), 3) for v in t), (float(v) for v in y)))
    recorded = dict(zip((round(float(v), 3) for v in ring.column("time")), (float(v) for v in ring.column("cpu_percent"))))
    assert len(t) >= 4 and max(y) > 0
    assert all(abs(drawn[k] - recorded[k]) < 1e-6 for k in drawn if k in recorded)
    assert sum(k in recorded for k in drawn) >= 3

    # Hovering shows the exact figure of the nearest second.
    ring = hub.history(cid)
    when, cpu = ring.column("time")[-2], ring.column("cpu_percent")[-2]
    text = view.cpu.hover_at(when + 0.2)
    assert text == f"CPU {cpu:.1f}%" or text == f"CPU {cpu:.0f}%"
    assert "at " in view.cpu.header.text()
    view.cpu.leave_hover()

    view.grab().save(str(tmp_path / "stats.png"))

    out = tmp_path / "h.csv"
    with qtbot.waitSignal(view.exported, timeout=20000) as sig:
        view.export_csv(str(out))
    assert sig.args[0] == str(out) and sig.args[1] >= 3
    rows = list(csv.reader(out.open()))
    assert rows[0][:3] == ["time_utc", "cpu_percent", "mem_used"]
    assert len(rows) - 1 == sig.args[1] and float(rows[-1][1]) >= 0

    with qtbot.waitSignal(view.export_failed, timeout=20000) as bad:
        view.export_csv(str(tmp_path / "missing-dir" / "x.csv"))
    assert "Could not write" in bad.args[0]

    view.hide()  # hidden: the stream stops, the other viewers are untouched
    assert not hub.streaming(cid) and hub.open_streams == base
