"""The dashboard on the real engine: streams every running container only while it is shown."""

from __future__ import annotations

import tests.ui._cpython_ast_guard  # noqa: F401

BURN = ("sh", "-c", "while :; do :; done")
HOLD = ("sh", "-c", "dd if=/dev/zero of=/dev/shm/hold bs=1M count=40 2>/dev/null; exec sleep 3600")


def test_dashboard_streams_while_visible_and_ranks_containers(ph, qtbot, make_container, run_id, docker_api, tmp_path):
    burner = make_container(f"pht-{run_id}-burn", start=True, command=BURN)
    holder = make_container(f"pht-{run_id}-hold", start=True, command=HOLD)
    make_container(f"pht-{run_id}-idle")  # stopped: never streamed
    qtbot.waitUntil(lambda: all(ph.primary.containers.get(c) and ph.primary.containers.get(c).state == "running"
                                for c in (burner, holder)), timeout=10000)
    hub, page = ph.monitoring.stats_hub, ph.monitoring.dashboard_page
    running = sum(1 for c in ph.primary.containers.all() if c.state == "running")

    # Its graphs are built when the page is first shown, not with the window.
    assert ph.window.pages.currentWidget() is not page and not any(g.built for g in page.graphs)
    assert ph.window.show_page("dashboard")
    assert all(g.built for g in page.graphs if g.isVisible())
    qtbot.waitUntil(lambda: hub.open_streams == running, timeout=20000)
    assert ph.monitoring.host_monitor.running
    qtbot.waitUntil(lambda: len(ph.monitoring.overview.totals) >= 3, timeout=20000)
    qtbot.waitUntil(lambda: page.top_cpu.rows() and page.top_cpu.rows()[0][0] == f"pht-{run_id}-burn",
                    timeout=10000)
    assert f"pht-{run_id}-hold" == page.top_mem.rows()[0][0]
    assert f"{running} running containers" in page.totals_label.text()
    engine = docker_api.info()
    counts = page.counts_label.text()
    qtbot.waitUntil(lambda: f"<td>{len(docker_api.images(quiet=True))}</td>" in page.counts_label.text(),
                    timeout=20000)
    assert f"Running</td><td>{engine['ContainersRunning']}<" in counts
    assert engine["Driver"] in page.engine_label.text()
    qtbot.waitUntil(lambda: len(ph.monitoring.host_monitor.history) >= 2, timeout=20000)
    assert "CPUs at" in page.host_label.text()
    assert "CPU" in ph.monitoring.engine_footer.text() and "RAM" in ph.monitoring.engine_footer.text()
    qtbot.waitUntil(lambda: page.host_cpu.curves["total"].getData()[0] is not None
                    and len(page.host_cpu.curves["total"].getData()[0]) >= 2, timeout=20000)
    ph.window.grab().save(str(tmp_path / "dashboard.png"))

    # Another page shown: the dashboard's streams and 1 s host sampling stop.
    assert ph.window.show_page("containers")
    qtbot.waitUntil(lambda: hub.open_streams == len(ph.monitoring.stats_columns.watched & {
        c.id for c in ph.primary.containers.all() if c.state == "running"}), timeout=20000)
    assert hub.open_streams < running or running <= len(ph.monitoring.stats_columns.watched)
    ph.window.hide()
    qtbot.waitUntil(lambda: hub.open_streams == 0, timeout=20000)
