"""The Logs page while it follows, against the real engine: containers that appear in the open
view's scope join it, stopped ones continue when they start again, and a view of more than 127
containers (the old limit of an 8-bit line tag) follows all of them."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import RUN_LABEL
from tests.ui.test_logs_page import open_logs, wait_listed


def test_new_containers_of_the_project_join_the_open_view(make_container, docker_api, ph, qtbot, run_id):
    proj = f"live{run_id}"
    labels = lambda svc: {"com.docker.compose.project": proj, "com.docker.compose.service": svc}  # noqa: E731
    web = make_container(f"pht-{run_id}-web", command=("sh", "-c", "echo web up; sleep 3600"), start=True,
                         labels=labels("web"))
    page = open_logs(ph, qtbot)
    wait_listed(ph, qtbot, [web])
    engine = ph.all_containers.get(web).engine_id
    page.choose_scope((engine, proj))
    with qtbot.waitSignal(page.shown, timeout=10000):
        page.show_checked()
    tab = page.tab
    qtbot.waitUntil(lambda: len(tab.buffer) == 1, timeout=20000)

    # a container of another project (or none) stays out; a new service of this one comes in
    make_container(f"pht-{run_id}-stranger", command=("sh", "-c", "echo stranger; sleep 3600"), start=True)
    with qtbot.waitSignal(page.source_added, timeout=20000) as sig:
        db = make_container(f"pht-{run_id}-db", command=("sh", "-c", "echo db up; sleep 1; echo db ready; sleep 3600"),
                            start=True, labels=labels("db"))
    assert sig.args == [db]
    qtbot.waitUntil(lambda: {"db up", "db ready"} <= {ln.split("| ", 1)[1] for ln in page.shown_lines()}, timeout=20000)
    lines = page.shown_lines()
    assert f"pht-{run_id}-db".ljust(len(f"pht-{run_id}-web")) + " | db ready" in lines  # its own name and colour
    assert not any("stranger" in ln for ln in lines)

    # a container of the view that stops and starts again goes on being followed
    docker_api.kill(web)
    qtbot.waitUntil(lambda: ph.all_containers.get(web).state == "exited", timeout=20000)
    docker_api.start(web)
    qtbot.waitUntil(lambda: sum(ln.endswith("| web up") for ln in page.shown_lines()) == 2, timeout=20000)


@pytest.fixture
def many_containers(docker_api, test_image, run_id):
    """Makes n running containers in parallel (one by one, 130 take minutes on a busy machine)."""
    made: list[str] = []

    def one(i: int) -> str:
        c = docker_api.create_container(test_image, command=["sh", "-c", f"echo hello from {i:03d}; sleep 3600"],
                                        name=f"pht-{run_id}-m{i:03d}", labels={RUN_LABEL: run_id},
                                        stop_signal="SIGKILL",  # no network: most of a start's cost here
                                        host_config=docker_api.create_host_config(network_mode="none"))
        made.append(c["Id"])
        docker_api.start(c["Id"])
        return c["Id"]

    def make(n: int) -> list[str]:
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(one, range(n)))

    yield make
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda cid: docker_api.remove_container(cid, force=True), made))


@pytest.mark.timeout(900)  # starting 130 containers takes minutes on a loaded 2-core machine
def test_a_view_of_more_than_127_containers(many_containers, docker_api, ph, qtbot, run_id):
    n = 130
    ids = many_containers(n)
    page = open_logs(ph, qtbot)
    wait_listed(ph, qtbot, ids)
    page.set_checked(ids)
    threads_before = threading.active_count()
    with qtbot.waitSignal(page.shown, timeout=10000) as sig:
        page.show_checked()
    assert sig.args == [n] and not page.message.isVisible()
    tab = page.tab
    qtbot.waitUntil(lambda: len(tab.buffer) == n and tab.is_loaded, timeout=60000)
    shown = page.shown_lines()
    width = len(f"pht-{run_id}-m000")
    # the last ones (source index above 127) carry their own names
    for i in (0, 126, 127, 128, 129):
        assert f"pht-{run_id}-m{i:03d}".ljust(width) + f" | hello from {i:03d}" in shown
    assert len({ln.split(" | ")[0] for ln in shown}) == n
    # one follow stream (a thread and a socket) per container, and no more than that
    qtbot.waitUntil(lambda: all(s.following and not s.backfilling for s in tab.session.sessions), timeout=30000)
    assert threading.active_count() - threads_before <= n + 16
    fds = len(os.listdir("/proc/self/fd"))
    assert fds < 2 * n + 200, fds
    # still live: a line from the 130th container arrives
    docker_api.exec_start(docker_api.exec_create(ids[-1], ["sh", "-c", "echo late line > /proc/1/fd/1"]))
    qtbot.waitUntil(lambda: any(ln.endswith("| late line") for ln in page.shown_lines()), timeout=20000)
