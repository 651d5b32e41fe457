"""The Files tab against a real engine: list, download byte-identical, upload and read back, errors."""

from __future__ import annotations

import io
import tarfile

from tests.ui.test_logs_tab import open_detail


def container_file(docker_api, cid, path) -> bytes:
    stream, _ = docker_api.get_archive(cid, path)
    tar = tarfile.open(fileobj=io.BytesIO(b"".join(stream)))
    return tar.extractfile(tar.getmembers()[0]).read()


def test_list_download_upload(make_container, docker_api, ph, qtbot, await_, tmp_path):
    cid = make_container(start=True)
    page = open_detail(ph, qtbot, cid)
    with qtbot.waitSignal(page.files.listed, timeout=20000):
        page.show_tab("Files")
    tab = page.files
    assert {"bin/", "etc/", "tmp/"} <= {tab.tree.topLevelItem(i).text(0) for i in range(tab.tree.topLevelItemCount())}
    with qtbot.waitSignal(tab.listed, timeout=20000):
        tab.path_edit.setText("/bin")
        tab.path_edit.returnPressed.emit()
    by_name = {e.name: e for e in tab.entries()}
    busybox = by_name["busybox"]
    assert busybox.kind == "file" and busybox.size > 100_000 and busybox.mode & 0o111
    assert by_name["sh"].link_target.endswith("busybox")
    row = next(i for i in range(tab.tree.topLevelItemCount()) if tab.tree.topLevelItem(i).text(0) == "busybox")
    assert tab.tree.topLevelItem(row).text(2) == "-rwxr-xr-x"
    # download: byte-identical to the container's file
    dest = tmp_path / "busybox"
    assert await_(tab.download("/bin/busybox", str(dest)), timeout=60)
    assert dest.read_bytes() == container_file(docker_api, cid, "/bin/busybox")
    # upload into /tmp and read it back inside the container
    src = tmp_path / "hello.txt"
    src.write_bytes(b"uploaded from the host\n")
    with qtbot.waitSignal(tab.listed, timeout=20000):
        tab.path_edit.setText("/tmp")
        tab.path_edit.returnPressed.emit()
    with qtbot.waitSignal(tab.listed, timeout=20000):
        assert await_(tab.upload([str(src)]), timeout=60)
    assert "hello.txt" in {e.name for e in tab.entries()}
    ex = docker_api.exec_create(cid, ["cat", "/tmp/hello.txt"])
    assert docker_api.exec_start(ex["Id"]) == b"uploaded from the host\n"
    # a missing path is a sentence, and the view stays where it was
    tab.open("/no/such/dir")
    qtbot.waitUntil(lambda: tab.message.is_error and tab.message.isVisibleTo(tab), timeout=10000)
    assert tab.message.text() == "There is no /no/such/dir in the container."
    assert tab.path == "/tmp"


def test_browse_stopped_container(make_container, ph, qtbot):
    cid = make_container()  # created, never started
    page = open_detail(ph, qtbot, cid)
    with qtbot.waitSignal(page.files.listed, timeout=20000):
        page.show_tab("Files")
    with qtbot.waitSignal(page.files.listed, timeout=20000):
        page.files.open("/etc")
    assert page.files.entries()


def test_hostile_names_and_a_partial_listing_are_shown_honestly(make_container, docker_api, ph, qtbot, await_,
                                                                tmp_path):
    import os

    cid = make_container()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in ((os.fsdecode(b"caf\xe9<b>.txt"), b"latin"), ("big.bin", os.urandom(400_000)),
                           ("zz.txt", b"z")):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data))
    assert docker_api.put_archive(cid, "/tmp", buf.getvalue())
    page = open_detail(ph, qtbot, cid)
    with qtbot.waitSignal(page.files.listed, timeout=20000):
        page.show_tab("Files")
    tab = page.files
    with qtbot.waitSignal(tab.listed, timeout=20000):
        tab.open("/tmp")
    shown = {tab.tree.topLevelItem(i).text(0): tab.tree.topLevelItem(i) for i in range(tab.tree.topLevelItemCount())}
    assert "caf\\xe9<b>.txt" in shown
    entry = next(e for e in tab.entries() if e.name.startswith("caf"))
    assert await_(tab.download(entry.path, str(tmp_path / "latin.txt")), timeout=60)
    assert (tmp_path / "latin.txt").read_bytes() == b"latin"
    assert "\\xe9" in tab.message.text()
    # a folder bigger than the cap: what was read is shown, and the status says it is partial
    tab.byte_limit = 200_000
    with qtbot.waitSignal(tab.listed, timeout=20000):
        tab.open("/tmp")
    assert "reading stopped there" in tab.status.text()
    assert "zz.txt" not in {e.name for e in tab.entries()}
