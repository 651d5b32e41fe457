"""Qt's own model checker watches the tree model (it filters and sorts itself) while the real engine
changes underneath (create, start, compose membership, destroy, resort), three levels deep."""

from PySide6.QtCore import Qt
from PySide6.QtTest import QAbstractItemModelTester

from desktop.presentation.container_columns import COL_CREATED, COL_NAME, COL_STATE


def test_model_stays_consistent_through_engine_changes(ph, qtbot, make_container, docker_cli, run_id):
    page = ph.containers.page
    mode = QAbstractItemModelTester.FailureReportingMode.Warning  # a Qt warning fails the test
    testers = [QAbstractItemModelTester(page.model, mode)]
    proj = f"m{run_id}"
    ids = [make_container(f"{proj}-{i}", labels={"com.docker.compose.project": proj,
                                                 "com.docker.compose.service": f"s{i}"}) for i in range(3)]
    loose = make_container()
    qtbot.waitUntil(lambda: page.model.rowCount(page.model.project_index(proj)) == 3, timeout=20000)
    page.model.sort(COL_CREATED, Qt.SortOrder.DescendingOrder)
    assert docker_cli("start", ids[0], loose).returncode == 0
    qtbot.waitUntil(lambda: page.proxy_index_of(loose, COL_STATE).data() == "Running", timeout=20000)
    page.search.setText(proj)
    assert not page.proxy_index_of(loose).isValid()
    page.search.clear()
    page.model.sort(COL_NAME, Qt.SortOrder.AscendingOrder)
    # Sorted by name: the project's services appear in order, each holding its container.
    pidx = page.model.project_index(proj)
    names = [page.model.index(r, COL_NAME, pidx).data() for r in range(3)]
    assert names == sorted(names) == ["s0", "s1", "s2"]
    assert [page.model.rowCount(page.model.index(r, 0, pidx)) for r in range(3)] == [1, 1, 1]
    page.model.sort(COL_NAME, Qt.SortOrder.DescendingOrder)
    pidx = page.model.project_index(proj)  # (the project's row moved)
    assert [page.model.index(r, COL_NAME, pidx).data() for r in range(3)] == ["s2", "s1", "s0"]
    page.model.sort(COL_NAME, Qt.SortOrder.AscendingOrder)
    assert docker_cli("rm", "-f", *ids).returncode == 0
    qtbot.waitUntil(lambda: not page.model.project_index(proj).isValid(), timeout=20000)
    assert page.proxy_index_of(loose).isValid()
    del testers
