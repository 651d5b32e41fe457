"""The crash report view and the app's own message boxes, walked with real Tab presses and through
Qt's accessibility interface: every control reached in reading order, no trap, none nameless.
Against the real engine: a real crash makes the report, real actions ask the confirmations."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QPushButton

from desktop.engine.saved_engines import SavedEngine
from desktop.ui.history.report_view import CrashReportView
from desktop.ui.widgets.dialogs import confirm
from tests.ui.a11y_names import nameless
from tests.ui.objects_helpers import choose_in_file_dialog
from tests.ui.tab_walk import TAB_JUMPS, walk


def _walk_dialog(qtbot, dlg, label: str) -> list[str]:
    qtbot.waitUntil(dlg.isVisible, timeout=20000)
    dlg.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dlg)
    return walk(dlg, label, TAB_JUMPS).problems + [f"{label}: nameless {p}" for p in nameless(dlg)]


def _visible_box(name: str):
    return next((w for w in QApplication.topLevelWidgets()
                 if isinstance(w, QMessageBox) and w.objectName() == name and w.isVisible()), None)


def _close_box(qtbot, box) -> None:
    box.reject()
    qtbot.waitUntil(lambda: not box.isVisible())


def test_crash_report_opened_from_the_timeline_by_keyboard_walks_every_tab(history_app, qtbot, make_container,
                                                                         docker_api):
    ph = history_app()
    cid = make_container(command=("sh", "-c", "echo starting; echo 'fatal: bad config' >&2; exit 3"))
    with qtbot.waitSignal(ph.monitoring.notifier.notified, timeout=30000,
                          check_params_cb=lambda a: a.container_id == cid):
        docker_api.start(cid)
    # The Timeline's Crash reports tab, with the keyboard: the row current, Enter opens it.
    page = ph.history.page
    ph.window.show_page("activity")
    ph.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is ph.window)
    page.refresh()
    row = []
    qtbot.waitUntil(lambda: row.extend(r for r in range(page.reports_model.rowCount())
                                       if page.reports_model.report_at(r).container_id == cid) or bool(row),
                    timeout=15000)
    page.tabs.setCurrentWidget(page.reports)
    page.reports.setFocus(Qt.FocusReason.TabFocusReason)
    page.reports.setCurrentIndex(page.reports_model.index(row[0], 0))
    QTest.keyClick(page.reports, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(ph.history.open_reports), timeout=10000)
    view = ph.history.open_reports[-1]
    assert isinstance(view, CrashReportView) and view.report.container_id == cid

    problems: list[str] = []
    for i in range(view.tabs.count()):
        view.tabs.setCurrentIndex(i)
        QApplication.processEvents()
        problems += _walk_dialog(qtbot, view, f"crash report, {view.tabs.tabText(i)} tab")
    assert not problems, "\n".join(problems)
    # Its facts are labels, not Tab stops: Copy as text hands them to a keyboard user.
    view.copy_button.click()
    copied = QApplication.clipboard().text()
    assert "fatal: bad config" in copied and "Exit code: 3" in copied and view.report.cause in copied
    view.reject()
    qtbot.waitUntil(lambda: not view.isVisible())


def test_confirmations_and_message_boxes_tab_in_order_and_name_their_buttons(ph, qtbot, make_container,
                                                                           docker_api, run_id, aloop):
    """Each kind of the app's message box, asked by a real action: details only (Kill), a saved
    engine's removal (Settings), a long listing (Prune), a question (not destructive), and the
    Help menu's boxes."""
    cid = make_container(f"pht-{run_id}-boxes", start=True)
    volume = f"pht-{run_id}-boxes"
    docker_api.create_volume(volume)  # (unused: Prune lists it)
    page = ph.containers.page
    qtbot.waitUntil(lambda: ph.all_containers.get(cid) is not None
                    and ph.all_containers.get(cid).state == "running", timeout=20000)
    problems: list[str] = []
    try:
        # Kill: a warning with details, Cancel the default.
        done = page.trigger("kill", [ph.all_containers.get(cid)])
        qtbot.waitUntil(lambda: _visible_box("confirmDialog") is not None, timeout=10000)
        box = _visible_box("confirmDialog")
        assert box.defaultButton() is box.findChild(object, "cancelButton")
        problems += _walk_dialog(qtbot, box, "Kill containers")
        _close_box(qtbot, box)
        qtbot.waitUntil(done.done, timeout=10000)
        assert docker_api.inspect_container(cid)["State"]["Running"]  # Cancel kept it running

        # Settings → Engines → Remove…: a saved engine (its files gone, so nothing is dialled).
        ph.settings.update(engines=(SavedEngine("ci", "tcp://127.0.0.1:9", tls_ca="/nonexistent/ca.pem",
                                                tls_cert="/nonexistent/cert.pem", tls_key="/nonexistent/key.pem"),))
        ph.window.show_page("settings")
        table = ph.desk.settings_page.engines_table
        assert table.select("ci")
        table.buttons["remove"].click()
        qtbot.waitUntil(lambda: _visible_box("confirmDialog") is not None, timeout=10000)
        box = _visible_box("confirmDialog")
        problems += _walk_dialog(qtbot, box, "Remove the engine?")
        _close_box(qtbot, box)
        assert [e.name for e in ph.settings.current.engines] == ["ci"]

        # Disk usage → Prune volumes: the listing in the details.
        ph.window.show_page("disk")
        disk = ph.objects.disk_page
        qtbot.waitUntil(lambda: disk.usage is not None and disk.prune_buttons["volume"].isEnabled(), timeout=20000)
        ph.window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is ph.window)
        walked = walk(disk, "disk usage", TAB_JUMPS)  # its Prune buttons sit in the table's cells
        problems += walked.problems
        assert disk.prune_buttons["volume"] in walked.visited
        disk.prune_buttons["volume"].click()
        qtbot.waitUntil(lambda: _visible_box("confirmDialog") is not None, timeout=20000)
        box = _visible_box("confirmDialog")
        assert volume in box.informativeText()
        problems += _walk_dialog(qtbot, box, "Prune volumes")
        _close_box(qtbot, box)
        assert volume in [v["Name"] for v in docker_api.volumes()["Volumes"] or []]

        # A question (not destructive), with a check box.
        asked = asyncio.ensure_future(confirm(ph.window, "Initialise a swarm", "Make host the first manager?",
                                              "Initialise", destructive=False, checkbox="Also do that"), loop=aloop)
        qtbot.waitUntil(lambda: _visible_box("confirmDialog") is not None, timeout=10000)
        box = _visible_box("confirmDialog")
        assert box.icon() == QMessageBox.Icon.Question
        problems += _walk_dialog(qtbot, box, "A question")
        _close_box(qtbot, box)
        qtbot.waitUntil(asked.done)
        assert asked.result() == (False, False)

        # Help → Keyboard shortcuts and About: shown without a nested event loop, one Close button.
        ph.window.show_page("containers")
        for key, name in (("shortcuts", "shortcutsDialog"), ("about", "aboutDialog")):
            ph.menus.actions[key].trigger()
            qtbot.waitUntil(lambda: _visible_box(name) is not None, timeout=10000)
            box = _visible_box(name)
            problems += _walk_dialog(qtbot, box, box.windowTitle())
            QTest.keyClick(box, Qt.Key.Key_Escape)
            qtbot.waitUntil(lambda: _visible_box(name) is None)
    finally:
        docker_api.remove_volume(volume, force=True)
    assert not problems, "\n".join(problems)


def test_qt_file_dialog_tabs_in_order_and_names_its_lists(ph, qtbot):
    """File > Open Compose file…: where the platform has no native dialog (here: offscreen) it is
    Qt's own widget dialog, walked like the app's."""
    ph.menus.actions["open_compose"].trigger()
    qtbot.waitUntil(lambda: any(isinstance(w, QFileDialog) and w.isVisible() for w in QApplication.topLevelWidgets()),
                    timeout=10000)
    dlg = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QFileDialog) and w.isVisible())
    try:
        problems = _walk_dialog(qtbot, dlg, "Open compose file")
        assert not problems, "\n".join(problems)
    finally:
        dlg.reject()


def test_a_form_browse_button_fills_its_field_through_the_file_dialog(ph, qtbot, tmp_path):
    """Images → Load…: Browse opens the file dialog (opened, not run in a nested loop); the file
    chosen there, with the keyboard, is the form's."""
    tar = tmp_path / "images.tar"
    tar.write_bytes(b"")
    ph.window.show_page("images")
    images = ph.objects.images_page
    images.load()
    qtbot.waitUntil(lambda: images.load_dialog_opened is not None and images.load_dialog_opened.isVisible(),
                    timeout=20000)
    dlg = images.load_dialog_opened
    try:
        browse = dlg.findChild(QPushButton, "pathBrowse")
        browse.click()
        choose_in_file_dialog(qtbot, tar)
        assert dlg.inputs["path"].text() == str(tar) and dlg.isVisible()
    finally:
        dlg.reject()
