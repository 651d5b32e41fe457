"""The Containers table with many rows: a big list shows its first screen at once and the rest
follows in chunks (rows in place, Qt's model checker content throughout); filtering and sorting
thousands of rows give what a plain pass over the records gives."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QAbstractItemModelTester

from desktop.engine.records import COMPOSE_PROJECT, COMPOSE_SERVICE, Container
from desktop.presentation.container_columns import (COL_CREATED, COL_IMAGE, COL_NAME, COL_STATE, COLUMNS,
                                                    container_sort_key)
from desktop.presentation.containers import matches_filter
from desktop.state.containers import ContainerStore
from desktop.ui.containers.container_model import ContainerRole, KindRole
from desktop.ui.containers.containers_page import ContainersPage
from tests.ui.tree_rows import container_indexes
from desktop.engine.client import EngineClient
from desktop.engine.endpoints import Endpoint


def _top_level_order(model) -> list:
    out = []
    for r in range(model.rowCount()):
        idx = model.index(r, 0)
        out.append(("p", idx.data()) if idx.data(KindRole) == "project" else ("c", idx.data(ContainerRole).id))
    return out


def _page(qtbot, store: ContainerStore, host: str = "unix:///nonexistent.sock") -> ContainersPage:
    page = ContainersPage(EngineClient([Endpoint(host, "--host")]), store)
    qtbot.addWidget(page)
    page.resize(1100, 600)
    page.show()
    return page


def test_a_big_list_paints_its_first_rows_then_adds_the_rest(qtbot, aloop, docker_api, make_container, run_id):
    """Real containers from the engine's own list; the model shows a screenful (lowered here so a
    test engine's few dozen containers make a "big" list) before the others are added."""
    for i in range(30):
        make_container(f"pht-{run_id}-big-{i:02d}")
    for i in range(4):
        make_container(f"pht-{run_id}-proj-{i}", labels={COMPOSE_PROJECT: f"big{run_id}", COMPOSE_SERVICE: f"s{i}"})
    raw = docker_api.containers(all=True)
    rows = [Container.from_api(r, "e") for r in raw]
    store = ContainerStore()
    page = _page(qtbot, store)
    model = page.model
    model.first_rows = 10
    mode = QAbstractItemModelTester.FailureReportingMode.Warning  # a Qt warning fails the test
    testers = [QAbstractItemModelTester(model, mode)]
    store.replace_all(rows)
    # Right after the reset: the first screen only, already the rows that will head the table.
    assert model.loading and model.rowCount() == 10
    first = _top_level_order(model)
    page.view.viewport().repaint()
    assert page.view.indexAt(page.view.viewport().rect().topLeft()).isValid()  # painted rows
    with qtbot.waitSignal(model.all_rows_added, timeout=10000):
        pass
    assert not model.loading
    everything = _top_level_order(model)
    assert everything[:10] == first
    shown = {cid for kind, cid in everything if kind == "c"}
    pidx = model.project_index(f"big{run_id}")
    assert pidx.isValid() and model.rowCount(pidx) == 4
    assert page.view.isExpanded(pidx)  # a project added later opens too
    assert all(page.view.isExpanded(model.index(r, 0, pidx)) for r in range(4))  # its services
    loose = {c.id for c in rows if not c.compose_project}
    assert shown == loose
    # A fresh build of the same list gives the same order.
    store.replace_all(rows)
    qtbot.waitUntil(lambda: not model.loading, timeout=10000)
    assert _top_level_order(model) == everything
    del testers


def test_engine_changes_while_the_rest_is_being_added(qtbot, aloop, docker_api, make_container, run_id, test_image):
    """Containers created and removed while the rows are still being added end up as the engine
    lists them: no row twice, none missing, none left behind."""
    ids = [make_container(f"pht-{run_id}-mid-{i:02d}") for i in range(24)]
    store = ContainerStore()
    page = _page(qtbot, store)
    model = page.model
    model.first_rows = 4
    model._chunk = 3
    store.replace_all([Container.from_api(r, "e") for r in docker_api.containers(all=True)])
    assert model.loading
    extra = make_container(f"pht-{run_id}-mid-new")
    docker_api.remove_container(ids[-1], force=True)
    docker_api.remove_container(ids[0], force=True)
    # What the event stream would deliver: the new container, then the removals.
    store.upsert([Container.from_api(r, "e") for r in docker_api.containers(all=True, filters={"id": extra})])
    store.remove([ids[-1], ids[0]])
    qtbot.waitUntil(lambda: not model.loading, timeout=10000)
    want = {r["Id"] for r in docker_api.containers(all=True) if not (r.get("Labels") or {}).get(COMPOSE_PROJECT)}
    got = [cid for kind, cid in _top_level_order(model) if kind == "c"]
    assert len(got) == len(set(got)) and set(got) == want


def _records(n: int) -> list[Container]:
    states = ("running", "exited", "paused", "created")
    out = []
    for i in range(n):
        labels = {COMPOSE_PROJECT: f"proj{i % 40:02d}", COMPOSE_SERVICE: f"svc{i // 40}"} if i < 800 else {}
        out.append(Container(id=f"{i:064x}", name=f"app-{(i * 7919) % n:05d}", image=f"img{i % 13}:1", image_id="sha256:x",
                             command="sleep", created=1.7e9 + (i * 31) % 997, state=states[i % 4],
                             status="Exited (0) 1 hour ago" if i % 4 == 1 else "Up 1 hour",
                             labels=labels, engine_id="e"))
    return out


def test_filter_and_sort_at_a_few_thousand_rows(qtbot, aloop):
    rows = _records(3000)
    store = ContainerStore()
    page = _page(qtbot, store)
    store.replace_all(rows)
    qtbot.waitUntil(lambda: not page.model.loading, timeout=20000)
    table = page.model  # what the view shows

    def shown_ids() -> set[str]:
        return {idx.data(ContainerRole).id for idx, _project in container_indexes(table)}

    for text in ("app-01", "img7", "proj3", "app-0299"):
        page.search.setText(text)
        assert shown_ids() == {c.id for c in rows if matches_filter(c, text)}, text
    page.search.clear()
    assert len(shown_ids()) == 3000

    standalone = [c for c in rows if not c.compose_project]
    for col in (COL_NAME, COL_IMAGE, COL_STATE, COL_CREATED):
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            page.view.header().setSortIndicator(col, order)  # a click on the header
            keys = [container_sort_key(c, col, lambda e: "") for c in standalone]
            got = [container_sort_key(table.index(r, 0).data(ContainerRole), col, lambda e: "")
                   for r in range(table.rowCount()) if table.index(r, 0).data(KindRole) == "container"]
            assert got == sorted(keys, reverse=order == Qt.SortOrder.DescendingOrder), (COLUMNS[col], order)


def test_a_list_longer_than_the_window_is_painted_once_with_its_scroll_bar(qtbot, aloop, docker_api, make_container,
                                                                            run_id):
    """A reset of a list that needs a scroll bar: the table is painted once, already narrowed by
    the bar, not once without it, again when the bar narrows it and a third time when the
    stretched column shrinks; the viewport's updates are on again afterwards."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    for i in range(40):
        make_container(f"pht-{run_id}-tall-{i:02d}")
    rows = [Container.from_api(r, "e") for r in docker_api.containers(all=True)]
    store = ContainerStore()
    page = _page(qtbot, store)
    qtbot.waitExposed(page)
    viewport = page.view.viewport()
    painted: list[int] = []

    class PaintCounter(QObject):
        def eventFilter(self, obj, ev):  # noqa: N802 - Qt's name
            if ev.type() == QEvent.Type.Paint:
                painted.append(obj.width())
            return False

    counter = PaintCounter()
    viewport.installEventFilter(counter)
    for _ in range(3):  # the empty table's own paints first
        QApplication.processEvents()
    painted.clear()
    store.replace_all(rows)
    qtbot.waitUntil(lambda: viewport.updatesEnabled() and bool(painted), timeout=5000)
    for _ in range(5):  # the view's zero-delay timers (layout, column repaint) all run here
        QApplication.processEvents()
    viewport.removeEventFilter(counter)
    assert page.view.verticalScrollBar().isVisible()
    assert painted == [viewport.width()], painted
    assert page.view.indexAt(viewport.rect().topLeft()).isValid()
