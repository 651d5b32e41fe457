"""Settings page, command palette, theme and tray, in the real app against the real engine."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QLabel

from desktop.state.settings import HostLimits, SettingsStore


def test_settings_page_errors_beside_fields_and_persistence(ph, qtbot, tmp_path):
    page = ph.desk.settings_page
    store = ph.settings
    ph.window.show_page("settings")
    lim = store.limits()
    page.set_value("vm_cpus", lim.cpus + 1)
    page.set_value("vm_memory_mib", "lots")
    page.set_value("notifications", False)
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    for name, fragment in (("vm_cpus", f"at most {lim.cpus}"), ("vm_memory_mib", "whole number")):
        err = page.findChild(type(page.errors[name]), f"error_{name}")
        assert err.isVisible() and fragment in err.text(), (name, err.text())
    assert page.message.is_error and "2 settings" in page.message.text()
    assert not store.path.exists()  # nothing saved while anything is wrong
    assert page.errors["theme"].isHidden()

    page.set_value("vm_cpus", 1)
    page.set_value("vm_memory_mib", 1024)
    page.editors["vm_cpus"].setFocus()
    qtbot.keyClick(page.editors["vm_cpus"], Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # keyboard save
    assert all(e.isHidden() for e in page.errors.values())
    assert page.message.text() == "Settings saved."
    reread = SettingsStore(store.path.parent)
    assert (reread.current.vm_cpus, reread.current.vm_memory_mib,
            reread.current.notifications) == (1, 1024, False)


def _grab(widget) -> QImage:
    QApplication.processEvents()
    return widget.grab().toImage()


def test_theme_switch_repaints(ph, qtbot, tmp_path):
    ph.window.show_page("settings")
    assert ph.desk.theme.effective == "light"  # offscreen reports no scheme: system → light
    before = _grab(ph.window)
    with qtbot.waitSignal(ph.desk.theme.applied, timeout=20000) as sig:
        ph.desk.settings_page.set_value("theme", "dark")
        qtbot.mouseClick(ph.desk.settings_page.save_button, Qt.MouseButton.LeftButton)
    assert sig.args == ["dark"]
    after = _grab(ph.window)
    after.save(str(tmp_path / "dark.png"))  # to look at when it fails
    assert before != after
    # the window background really is dark now
    bg = after.pixelColor(after.width() - 5, after.height() // 2)
    assert bg.lightness() < 80, bg.name()
    # and text whose sheet sets only its font (the page title) is light on it, not still black
    title = ph.desk.settings_page.findChild(QLabel, "pageTitle").grab().toImage()
    lightest = max(title.pixelColor(x, y).lightness() for x in range(0, title.width(), 2)
                   for y in range(0, title.height(), 2))
    print("LIGHTEST", lightest, title.width(), title.height()); assert lightest > 170, lightest
    ph.settings.update(theme="system")
    assert ph.desk.theme.effective == "light"


def test_palette_finds_container_by_fuzzy_name_and_starts_it(ph, qtbot, make_container, run_id, docker_api):
    name = f"pht-palette-{run_id}-backend"
    cid = make_container(name=name)
    qtbot.waitUntil(lambda: cid in ph.primary.containers, timeout=30000)
    ph.window.activateWindow()
    ph.desk.palette.open_palette()
    assert ph.desk.palette.isVisible()
    query = f"start pal{run_id}bk"  # fuzzy: pieces of the name, in order
    qtbot.keyClicks(ph.desk.palette.query, query)
    assert ph.desk.palette.shown_labels()[0] == f"Start {name}", ph.desk.palette.shown_labels()[:5]
    with qtbot.waitSignal(ph.desk.palette.item_triggered, timeout=20000):
        qtbot.keyClick(ph.desk.palette.query, Qt.Key.Key_Return)
    assert not ph.desk.palette.isVisible()
    qtbot.waitUntil(lambda: docker_api.inspect_container(cid)["State"]["Running"], timeout=30000)
    qtbot.waitUntil(lambda: ph.primary.containers.get(cid).state == "running", timeout=30000)

    # jump: the container's row becomes current on the Containers page, pages by name
    ph.desk.palette.open_palette()
    qtbot.keyClicks(ph.desk.palette.query, "go sett")
    qtbot.keyClick(ph.desk.palette.query, Qt.Key.Key_Return)
    assert ph.window.pages.currentWidget() is ph.desk.settings_page
    ph.desk.palette.open_palette()
    qtbot.keyClicks(ph.desk.palette.query, f"palette{run_id}back")
    assert ph.desk.palette.shown_labels()[0] == name
    qtbot.keyClick(ph.desk.palette.query, Qt.Key.Key_Return)
    assert ph.window.pages.currentWidget() is ph.containers.page
    assert ph.containers.page.selected_containers()[0].id == cid


def test_tray_lists_running_containers_and_stops_one(ph, qtbot, make_container, run_id, docker_api):
    up = make_container(name=f"pht-tray-{run_id}-up", start=True)
    down = make_container(name=f"pht-tray-{run_id}-down")
    qtbot.waitUntil(lambda: up in ph.primary.containers and down in ph.primary.containers
                    and ph.primary.containers.get(up).state == "running", timeout=30000)
    tray = ph.desk.tray
    tray.rebuild()
    names = tray.container_names()
    assert f"pht-tray-{run_id}-up" in names and f"pht-tray-{run_id}-down" not in names
    assert tray.action_in(tray.menu, "trayVmStart") is None  # no VM backend given: no VM entries
    sub = tray.container_menu(f"pht-tray-{run_id}-up")
    with qtbot.waitSignal(tray.container_action_done, timeout=30000) as done:
        tray.action_in(sub, "trayStop").trigger()
    assert done.args == ["stop", f"pht-tray-{run_id}-up"]
    assert not docker_api.inspect_container(up)["State"]["Running"]
    qtbot.waitUntil(lambda: ph.primary.containers.get(up).state == "exited", timeout=30000)
    tray.rebuild()
    assert f"pht-tray-{run_id}-up" not in tray.container_names()


def test_tray_vm_entries_drive_the_real_vm_manager(engine_host, test_image, qtbot, await_, tmp_path):
    """The tray's VM entries reach the real VMManager: here with no image built, so starting
    fails with the manager's own sentence (booting is tested in tests/vm)."""
    from desktop.app import Pilothouse
    from desktop.engine.endpoints import Endpoint
    from desktop.vm.config import VMConfig
    from desktop.vm.machine import VMManager
    from desktop.vm.paths import VMPaths

    manager = VMManager(VMConfig(), VMPaths(state_dir=tmp_path / "state", image_dir=tmp_path / "no-image",
                                            docker_config_dir=tmp_path / "docker"))
    ph = Pilothouse([Endpoint(engine_host, "--host")], vm=manager)
    try:
        ph.desk.tray.rebuild()
        texts = [a.text() for a in ph.desk.tray.menu.actions()]
        assert "VM: stopped" in texts
        with qtbot.waitSignal(ph.desk.tray.action_failed, timeout=10000) as failed:
            ph.desk.tray.action_in(ph.desk.tray.menu, "trayVmStart").trigger()
        assert "no VM image" in failed.args[0] and "pilothouse vm build" in failed.args[0]
        assert ph.engines.get("pilothouse") is None
    finally:
        await_(ph.aclose())
        ph.window.deleteLater()


def test_closing_the_window_keeps_the_tray_when_chosen(ph, qtbot):
    # offscreen has no system tray: pretend the icon is in one, the window logic is what is tested
    ph.desk.tray.shown = True
    assert ph.settings.current.close_to_tray
    assert ph.window.close() is False  # the close was refused: the app keeps running in the tray
    assert not ph.window.isVisible() and ph.desk.hidden_to_tray == 1
    ph.desk.tray.open_requested.emit()
    assert ph.window.isVisible()
    ph.settings.update(close_to_tray=False)
    assert ph.window.close() is True
    assert ph.desk.hidden_to_tray == 1
    ph.desk.tray.shown = False


def test_system_theme_follows_the_os_scheme_live(ph, qtbot):
    from PySide6.QtGui import QGuiApplication

    hints = QGuiApplication.styleHints()
    assert ph.settings.current.theme == "system"
    # offscreen cannot switch its scheme: emit the hint's own signal as the desktop would
    with qtbot.waitSignal(ph.desk.theme.applied, timeout=20000) as sig:
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert sig.args == ["dark"]
    assert QApplication.instance().palette().window().color().lightness() < 80
    ph.settings.update(theme="light")  # an explicit choice ignores the desktop
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert ph.desk.theme.effective == "light"
    ph.settings.update(theme="system")
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert ph.desk.theme.effective == "light"
