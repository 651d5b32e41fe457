"""The menu bar in the real app against the real engine: conventional menus and keys, entries that
follow the selection and its state, and each entry doing what it says on the engine."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication

from desktop.presentation.container_columns import COL_STATE


def titles(menu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def select(ph, qtbot, cid) -> None:
    page = ph.containers.page
    qtbot.waitUntil(lambda: page.proxy_index_of(cid).isValid(), timeout=20000)
    page.view.setCurrentIndex(page.proxy_index_of(cid))
    page.view.setFocus()


def test_menus_follow_the_platform_conventions(ph):
    bar = ph.window.menuBar()
    assert [a.text() for a in bar.actions()] == ["&File", "&Edit", "&View", "E&ngine", "&Container", "&Help"]
    acts = ph.menus.actions
    assert titles(ph.window.menus["file"]) == ["&New container from image…", "&Open Compose file…", "Se&ttings…",
                                               "&Quit Pilothouse"]
    # macOS moves these three into the application menu by their roles; the rest stay where they are.
    roles = {n: a.menuRole() for n, a in acts.items()}
    assert roles.pop("settings") == QAction.MenuRole.PreferencesRole
    assert roles.pop("quit") == QAction.MenuRole.QuitRole
    assert roles.pop("about") == QAction.MenuRole.AboutRole
    assert all(r == QAction.MenuRole.NoRole for n, r in roles.items() if not n.startswith("container_")), roles
    # Standard keys where the platform has them.
    for name, std in (("new_container", QKeySequence.StandardKey.New), ("open_compose", QKeySequence.StandardKey.Open),
                      ("copy", QKeySequence.StandardKey.Copy), ("find", QKeySequence.StandardKey.Find),
                      ("quit", QKeySequence.StandardKey.Quit), ("settings", QKeySequence.StandardKey.Preferences)):
        assert all(k in acts[name].shortcuts() for k in QKeySequence.keyBindings(std)), name
    # ... and the usual ones where it has none (Quit and Preferences on some desktops).
    assert QKeySequence("Ctrl+,") in acts["settings"].shortcuts()
    assert QKeySequence("Ctrl+Q") in acts["quit"].shortcuts()
    # View: every page, the first nine with Ctrl+1…9, in sidebar order.
    pages = ph.window.page_entries()
    view = [a for a in ph.window.menus["view"].actions() if a.objectName().startswith("menu_page_")]
    assert [a.text() for a in view] == [t for _k, t in pages]
    assert [a.shortcut().toString() for a in view[:9]] == [f"Ctrl+{n}" for n in range(1, 10)]
    assert all(a.shortcut().isEmpty() for a in view[9:])
    assert [a.text() for a in ph.window.menus["help"].actions() if not a.isSeparator()] == [
        "&Keyboard shortcuts", "Open the &log folder", "&About Pilothouse"]


def test_page_keys_switch_pages_and_focus_them(ph, qtbot):
    view = ph.containers.page.view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert ph.window.current_page_key() == "images"
    assert ph.menus.actions["page_images"].isChecked()
    assert ph.objects.images_page.isAncestorOf(QApplication.focusWidget())  # the keyboard came along
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    assert ph.window.current_page_key() == "settings"
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert ph.window.current_page_key() == "containers"
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert ph.window.side_panel.isHidden() and not ph.menus.actions["sidebar"].isChecked()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert ph.window.side_panel.isVisible()


def test_container_menu_follows_selection_and_state(ph, qtbot, make_container, docker_api):
    acts = ph.menus.actions
    page = ph.containers.page
    page.view.clearSelection()
    assert not any(acts[f"container_{n}"].isEnabled() for n in ("open", "logs", "copy_id", "start", "stop", "delete"))
    cid = make_container()
    select(ph, qtbot, cid)
    assert acts["container_start"].isEnabled() and acts["container_delete"].isEnabled()
    assert not acts["container_stop"].isEnabled() and not acts["container_kill"].isEnabled()
    assert acts["container_open"].isEnabled() and acts["container_copy_id"].isEnabled()

    docker_api.start(cid)  # from outside: the menu follows the engine's state
    qtbot.waitUntil(lambda: acts["container_stop"].isEnabled(), timeout=20000)
    assert acts["container_kill"].isEnabled() and not acts["container_start"].isEnabled()

    acts["container_copy_id"].trigger()
    assert QGuiApplication.clipboard().text() == cid
    acts["container_stop"].trigger()
    qtbot.waitUntil(lambda: not docker_api.inspect_container(cid)["State"]["Running"], timeout=20000)
    qtbot.waitUntil(lambda: acts["container_start"].isEnabled(), timeout=20000)
    # The row says so once the action is done (it shows "Stopping…" until the engine answered).
    qtbot.waitUntil(lambda: page.proxy_index_of(cid, COL_STATE).data().startswith("Exited"), timeout=20000)


def test_edit_copy_and_find_act_on_the_focused_place(ph, qtbot, make_container, run_id):
    cid = make_container(f"pht-{run_id}-copyme")
    select(ph, qtbot, cid)
    ph.menus.actions["copy"].trigger()
    assert QGuiApplication.clipboard().text() == f"pht-{run_id}-copyme"
    qtbot.keyClick(ph.containers.page.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is ph.containers.page.search
    ph.window.show_page("volumes")
    ph.menus.actions["find"].trigger()
    assert QApplication.focusWidget() is ph.objects.volumes_page.search


def test_theme_entries_follow_settings(ph, qtbot):
    acts = ph.menus.actions
    assert acts["theme_system"].isChecked()
    acts["theme_dark"].trigger()
    assert ph.settings.current.theme == "dark" and acts["theme_dark"].isChecked()
    ph.settings.update(theme="light")  # changed elsewhere (the Settings page): the menu follows
    assert acts["theme_light"].isChecked()


class _Opened(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def handle(self, url: QUrl) -> None:
        self.urls.append(url)


def test_help_opens_the_log_folder(ph, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    opened = _Opened()
    # Qt's own hook for "open this URL": what the desktop would be asked to open.
    QDesktopServices.setUrlHandler("file", opened, "handle")
    try:
        ph.menus.actions["log_folder"].trigger()
        qtbot.waitUntil(lambda: bool(opened.urls), timeout=10000)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    folder = Path(opened.urls[0].toLocalFile())
    assert folder == tmp_path / "state" / "pilothouse" / "log"
    assert folder.is_dir() and (folder.stat().st_mode & 0o777) == 0o700
