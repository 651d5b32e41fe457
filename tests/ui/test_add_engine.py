"""Adding an engine from the UI: bad input is explained beside its field; the engine is pinged."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.ui.engines.add_engine_dialog import AddEngineDialog


def open_dialog(ph, qtbot) -> AddEngineDialog:
    qtbot.mouseClick(ph.window.findChild(object, "addEngineButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), AddEngineDialog), timeout=20000)
    return QApplication.activeModalWidget()


def test_add_engine_validates_pings_and_follows_it(ph, qtbot, engine_host, second_engine, tmp_path):
    dlg = open_dialog(ph, qtbot)
    add = dlg.findChild(object, "addEngineButton")
    # Bad input: nothing is dialled, the message sits beside the field.
    qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    assert dlg.errors["name"].isVisible() and "name" in dlg.errors["name"].text().lower()
    qtbot.keyClicks(dlg.edits["name"], "second-view")
    qtbot.keyClicks(dlg.edits["address"], "tcp://build.example:2375")
    qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    assert dlg.errors["tls_cert"].isVisible() and "TLS" in dlg.errors["tls_cert"].text()
    # An address where no engine answers: the ping's reason, beside the address.
    dlg.edits["address"].setText(f"unix://{tmp_path}/missing.sock")
    qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.errors["address"].isVisible(), timeout=10000)
    assert "No engine socket exists" in dlg.errors["address"].text()
    assert ph.engines.get("second-view") is None
    # The engine already shown cannot be added twice.
    dlg.edits["address"].setText(engine_host)
    qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    assert "already followed" in dlg.errors["address"].text()
    # A real second engine: pinged, added, followed.
    dlg.edits["address"].setText(second_engine.host)
    with qtbot.waitSignal(dlg.engine_added, timeout=15000):
        qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    session = ph.engines.get("second-view")
    assert session is not None
    qtbot.waitUntil(lambda: session.status.current.loaded, timeout=15000)
    assert ph.window.engine_switcher.findData("second-view") >= 0
    assert not ph.containers.page.view.isColumnHidden(1)
    # Remembered in Settings, so it is followed at the next start too.
    assert [(e.name, e.address) for e in ph.settings.current.engines] == [("second-view", second_engine.host)]
