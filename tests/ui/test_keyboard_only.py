"""The whole app without a mouse, against two real engines: every step is key presses sent where a
real keyboard's would go (the open menu, the modal dialog, else the focused widget), and every
outcome is checked on the engine or on screen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QTabBar

from tests.harness.private_engine import TEST_IMAGE

Key, Mod = Qt.Key, Qt.KeyboardModifier


def target():
    """Where the keyboard goes: an open menu first, then the focused widget (a dialog's included)."""
    return QApplication.activePopupWidget() or QApplication.focusWidget()


def back_from_popup(qtbot) -> None:
    """After a menu or a dialog closed, the window under it is active again. Window managers do
    this; the offscreen platform leaves no active window, or the closed popup, so the test does the
    window manager's part (the app's part, where the keyboard lands in the window, is checked)."""
    active = QApplication.activeWindow()
    if QApplication.activePopupWidget() is not None or (active is not None and active.isVisible()):
        return
    window = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "mainWindow")
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def press(qtbot, key, mods=Mod.NoModifier) -> None:
    back_from_popup(qtbot)
    w = target()
    assert w is not None, "nothing has the keyboard"
    qtbot.keyClick(w, key, mods)


def type_text(qtbot, text: str) -> None:
    back_from_popup(qtbot)
    qtbot.keyClicks(target(), text)


def open_menu(qtbot, key, menu) -> None:
    press(qtbot, key, Mod.AltModifier)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is menu)


def tab_until(qtbot, found, limit: int = 25) -> None:
    for _ in range(limit):
        if found(QApplication.focusWidget()):
            return
        press(qtbot, Key.Key_Tab)
    assert found(QApplication.focusWidget()), f"Tab never reached it (stuck on {QApplication.focusWidget()!r})"


def test_keyboard_only(two, qtbot, make_container, docker_api, api_b, run_id):
    ph = two
    name = f"pht-{run_id}-kbd"
    cid = make_container(name, start=True, command=("sh", "-c", f"echo hello-from-{run_id}; exec sleep 3600"))
    theirs = api_b.create_container(TEST_IMAGE, command=["sleep", "3600"], name=f"pht-{run_id}-kbd-b")["Id"]
    page = ph.containers.page
    qtbot.waitUntil(lambda: page.proxy_index_of(cid).isValid() and page.proxy_index_of(theirs).isValid(),
                    timeout=20000)
    ph.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is ph.window)
    ph.window.sidebar.setFocus()  # where a keyboard user starts: nothing chosen yet

    # Find the container: Ctrl+1 puts the keyboard on the Containers page (its search box).
    press(qtbot, Key.Key_1, Mod.ControlModifier)
    assert QApplication.focusWidget() is page.search
    type_text(qtbot, name)
    press(qtbot, Key.Key_Tab)  # straight from the search box to the rows it filtered
    assert QApplication.focusWidget() is page.view
    assert [c.id for c in page.selected_containers()] == [cid]

    # Open it (Enter): its page opens on the Logs tab, with the keyboard in it.
    press(qtbot, Key.Key_Return)
    detail = ph.details.page
    qtbot.waitUntil(lambda: detail is not None and detail.isVisible())
    assert isinstance(QApplication.focusWidget(), QTabBar) and detail.isAncestorOf(QApplication.focusWidget())
    assert detail.tabs.tabText(detail.tabs.currentIndex()) == "Logs"
    # Read its logs: Tab into the log view, select all, copy.
    logs = detail.logs.view
    tab_until(qtbot, lambda w: w is logs)
    qtbot.waitUntil(lambda: logs.row_count() > 0, timeout=20000)
    press(qtbot, Key.Key_A, Mod.ControlModifier)
    press(qtbot, Key.Key_C, Mod.ControlModifier)
    assert f"hello-from-{run_id}" in QGuiApplication.clipboard().text()

    # Stop it: Container menu (Alt+C), S_top.
    open_menu(qtbot, Key.Key_C, ph.window.menus["container"])
    press(qtbot, Key.Key_T)
    qtbot.waitUntil(lambda: not docker_api.inspect_container(cid)["State"]["Running"], timeout=20000)
    qtbot.waitUntil(lambda: ph.menus.actions["container_start"].isEnabled(), timeout=20000)

    # Remove it: Container menu, Remo_ve; the confirmation answered by the keyboard too.
    open_menu(qtbot, Key.Key_C, ph.window.menus["container"])
    press(qtbot, Key.Key_V)
    qtbot.waitUntil(lambda: getattr(QApplication.activeModalWidget(), "objectName", lambda: "")() == "confirmDialog")
    box = QApplication.activeModalWidget()
    assert QApplication.focusWidget() is box.defaultButton()  # Cancel has the keyboard: Enter is safe
    press(qtbot, Key.Key_R)  # the &Remove button's letter
    qtbot.waitUntil(lambda: not docker_api.containers(all=True, filters={"id": cid}), timeout=20000)
    qtbot.waitUntil(lambda: not page.proxy_index_of(cid).isValid(), timeout=20000)

    # Back to the list (Alt+Left), then switch engine: Engine menu (Alt+N), Show engine, 2 (the second).
    press(qtbot, Key.Key_Left, Mod.AltModifier)
    qtbot.waitUntil(lambda: ph.window.pages.currentWidget() is page)
    open_menu(qtbot, Key.Key_N, ph.window.menus["engine"])
    press(qtbot, Key.Key_S)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is ph.menus.engine_menu)
    press(qtbot, Key.Key_2)
    qtbot.waitUntil(lambda: ph.window.engine_switcher.currentData() == "second")
    press(qtbot, Key.Key_F, Mod.ControlModifier)  # Edit > Find: the search box, to clear it
    assert QApplication.focusWidget() is page.search
    press(qtbot, Key.Key_A, Mod.ControlModifier)
    press(qtbot, Key.Key_Backspace)
    qtbot.waitUntil(lambda: page.proxy_index_of(theirs).isValid())  # the second engine's rows only
    shown = [c.id for c in page.store.all() if page.proxy_index_of(c.id).isValid()]
    assert shown and all(ph.all_containers.owner(i) == "second" for i in shown)

    # Open Settings (Ctrl+,): the page shows with the keyboard in it.
    press(qtbot, Key.Key_Comma, Mod.ControlModifier)
    assert ph.window.current_page_key() == "settings"
    assert ph.desk.settings_page.isAncestorOf(QApplication.focusWidget())
