"""Compose files named by container labels are hostile input: a FIFO, a device, a huge file, a
file on a remote engine's machine. Read only off the loop's thread, only regular files under the
cap, only for local engines."""

from __future__ import annotations

import asyncio
import os
import threading

from desktop.engine.records import Container
from desktop.state.compose_files import MAX_BYTES, read_compose_file
from desktop.state.compose_projects import CONFIG_FILES, ComposeProjects
from desktop.state.containers import ContainerStore

COMPOSE = "services:\n  web:\n    image: x\n  db:\n    image: y\n"


def labelled(cid: str, files: str, engine: str = "") -> Container:
    return Container.from_api({"Id": cid, "Names": [f"/{cid}"], "Image": "x", "State": "running", "Created": 1,
                               "Labels": {"com.docker.compose.project": f"p{cid}", CONFIG_FILES: files}}, engine)


def test_only_small_regular_files_are_read(tmp_path):
    good = tmp_path / "compose.yaml"
    good.write_text(COMPOSE)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    big = tmp_path / "big.yaml"
    with open(big, "wb") as f:
        f.truncate(MAX_BYTES + 1)
    link = tmp_path / "link.yaml"
    link.symlink_to("/dev/zero")
    assert read_compose_file(str(good)).services == ("web", "db")
    for p in (fifo, big, link, tmp_path, tmp_path / "missing"):
        info = read_compose_file(str(p))  # a FIFO would block a plain open() for ever
        assert not info.present and info.services == (), p


def test_projects_read_label_files_off_the_loop_thread_and_only_for_local_engines(tmp_path):
    good = tmp_path / "compose.yaml"
    good.write_text(COMPOSE)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    store = ContainerStore()
    store.replace_all([labelled("a", str(good), "local"), labelled("b", str(fifo), "local"),
                       labelled("c", str(good), "remote")])
    threads = []

    def reader(path):
        threads.append(threading.current_thread())
        return read_compose_file(path)

    async def go():
        projects = ComposeProjects(store, is_local=lambda engine: engine == "local")
        projects.files._reader = reader
        reads = asyncio.Queue()
        projects.files._on_read = lambda: reads.put_nowait(1)
        first = {p.name: p for p in projects.all()}
        assert not any(p.files_present or p.declared_services for p in first.values())  # nothing assumed yet
        for _ in range(2):
            await asyncio.wait_for(reads.get(), 10)
        return {p.name: p for p in projects.all()}

    loop = asyncio.new_event_loop()
    try:
        now = loop.run_until_complete(go())
    finally:
        loop.close()
    assert threading.main_thread() not in threads and len(threads) == 2  # a and b; never c (remote)
    assert now["pa"].files_present and now["pa"].declared_services == ("web", "db")
    assert not now["pb"].files_present and not now["pb"].declared_services
    assert not now["pc"].files_present and not now["pc"].declared_services
