"""Commit a container to an image and export its filesystem, from the Containers page's menu."""

from __future__ import annotations

import tarfile

from PySide6.QtWidgets import QApplication, QMenu

from tests.ui.objects_helpers import fill, submit_and_wait_closed


def menu_action(qtbot, ph, cid: str, text: str):
    page = ph.containers.page
    qtbot.waitUntil(lambda: page.proxy_index_of(cid).isValid(), timeout=10000)
    idx = page.proxy_index_of(cid)
    page.view.setCurrentIndex(idx)
    pos = page.view.visualRect(idx).center()
    page.view.customContextMenuRequested.emit(pos)
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu), timeout=5000)
    menu = QApplication.activePopupWidget()
    action = next(a for a in menu.actions() if a.text() == text)
    action.trigger()
    menu.close()


def test_commit_and_export_from_container_menu(ph, qtbot, docker_api, make_container, run_id, tmp_path):
    cid = make_container(f"pht-{run_id}-src")
    menu_action(qtbot, ph, cid, "Commit to image…")
    qtbot.waitUntil(lambda: getattr(ph.objects.images_page, "commit_dialog_opened", None) is not None, timeout=5000)
    dlg = ph.objects.images_page.commit_dialog_opened
    qtbot.waitUntil(dlg.isVisible, timeout=5000)
    fill(qtbot, dlg, reference=f"pht-{run_id}/snap:1", message="snapshot")
    submit_and_wait_closed(qtbot, dlg)
    info = docker_api.inspect_image(f"pht-{run_id}/snap:1")
    assert info["Comment"] == "snapshot"
    qtbot.waitUntil(lambda: ph.objects.images_page.model.row_of(info["Id"]) >= 0, timeout=10000)

    menu_action(qtbot, ph, cid, "Export filesystem…")
    qtbot.waitUntil(lambda: getattr(ph.objects.images_page, "export_dialog_opened", None) is not None, timeout=5000)
    dlg = ph.objects.images_page.export_dialog_opened
    qtbot.waitUntil(dlg.isVisible, timeout=5000)
    fill(qtbot, dlg, path=str(tmp_path / "fs.tar"))
    submit_and_wait_closed(qtbot, dlg)
    with tarfile.open(tmp_path / "fs.tar") as tf:
        assert "bin/busybox" in tf.getnames()
    docker_api.remove_image(info["Id"])
