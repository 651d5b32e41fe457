"""The Changes tab against the real engine: the diff as a tree with counts and sizes, the filter,
download of a changed file and Commit to image from there."""

from __future__ import annotations

from tests.ui.objects_helpers import fill, submit_and_wait_closed, submit_and_wait_error
from tests.ui.test_logs_tab import open_detail

SCRIPT = ("echo hi > /tmp/new.txt; mkdir -p /var/www/sub; dd if=/dev/zero of=/var/www/sub/big bs=1024 count=100 "
          "2>/dev/null; rm /etc/group; echo extra >> /etc/passwd")


def test_changes_tree_filter_download_and_commit(make_container, docker_api, ph, qtbot, await_, tmp_path, run_id):
    cid = make_container(command=("sh", "-c", SCRIPT))
    docker_api.start(cid)
    docker_api.wait(cid, timeout=30)
    page = open_detail(ph, qtbot, cid)
    tab = page.tab("Changes")
    with qtbot.waitSignal(tab.sizes_done, timeout=20000):
        with qtbot.waitSignal(tab.loaded, timeout=20000):
            page.show_tab("Changes")
    t = tab.tree_data
    assert t.nodes["/tmp/new.txt"].kind == "added" and t.nodes["/etc/group"].kind == "deleted"
    assert t.nodes["/etc/passwd"].kind == "changed"
    assert tab.items["/var/www/sub/big"].text(2) == "100.0 KiB"
    assert t.nodes["/var/www/sub/big"].size == 102400 and t.nodes["/tmp/new.txt"].size == 3
    assert "100" in tab.items["/var"].text(3) and "2 added" in tab.items["/var"].text(3)
    assert tab.summary.text().startswith("3 added · ")  # /tmp/new.txt, /var/www/sub, its big file
    assert "1 deleted" in tab.summary.text()

    # The filter keeps matching paths and the folders above them.
    qtbot.keyClicks(tab.filter, "big")
    assert set(tab.visible_paths()) == {"/var", "/var/www", "/var/www/sub", "/var/www/sub/big"}
    tab.filter.clear()
    tab.kind_boxes["added"].setChecked(False)
    tab.kind_boxes["changed"].setChecked(False)
    assert set(tab.visible_paths()) == {"/etc", "/etc/group"}
    tab.select("/etc/group")
    assert not tab.download_button.isEnabled()  # a deleted file has nothing to download
    for box in tab.kind_boxes.values():
        box.setChecked(True)

    # Download of a changed file, through the safe archive code.
    tab.select("/etc/passwd")
    assert tab.download_button.isEnabled()
    dest = tmp_path / "passwd"
    assert await_(tab.download("/etc/passwd", str(dest)))
    assert dest.read_text().endswith("extra\n")

    # Commit to image, with the image name validated where it is typed.
    dlg = tab.open_commit_dialog()
    qtbot.waitUntil(dlg.isVisible, timeout=5000)
    fill(qtbot, dlg, reference="Bad Name")
    assert submit_and_wait_error(qtbot, dlg, "reference")
    fill(qtbot, dlg, reference=f"pht-{run_id}/changed:1")
    submit_and_wait_closed(qtbot, dlg)
    info = docker_api.inspect_image(f"pht-{run_id}/changed:1")
    probe = docker_api.create_container(info["Id"], command=["cat", "/tmp/new.txt"])
    try:
        docker_api.start(probe["Id"])
        docker_api.wait(probe["Id"], timeout=30)
        assert docker_api.logs(probe["Id"]) == b"hi\n"
    finally:
        docker_api.remove_container(probe["Id"], force=True)
        docker_api.remove_image(info["Id"], force=True)


def test_no_changes_says_so(make_container, ph, qtbot):
    cid = make_container()
    page = open_detail(ph, qtbot, cid)
    tab = page.tab("Changes")
    with qtbot.waitSignal(tab.loaded, timeout=20000):
        page.show_tab("Changes")
    assert tab.summary.text().startswith("No changes")
