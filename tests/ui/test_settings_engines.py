"""Settings → Engines against real engines: the table shows each engine's live state; Add (the Add
engine dialog) over SSH, Edit to TCP with mutual TLS, Test connection, Make primary, Remove (asked
first); the list is saved as readable JSON and the app follows it as it changes, "Make primary"
at once."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.engine.saved_engines import SavedEngine
from desktop.state.connection import CONNECTED
from desktop.ui.engines.add_engine_dialog import AddEngineDialog
from tests.harness.private_engine import TEST_IMAGE


def cells(table, name):
    for r, row in enumerate(table.rows):
        if row.name == name:
            return [table.table.item(r, c).text() for c in range(table.table.columnCount())]
    return None


def modal(qtbot, kind):
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), kind), timeout=20000)
    return QApplication.activeModalWidget()


def click(qtbot, button):
    assert button.isEnabled(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_engine_table_add_edit_test_primary_remove(ph, qtbot, second_engine, sshd, tmp_path, make_container, api_b):
    ph.window.show_page("settings")
    table = ph.desk.settings_page.engines_table
    b = table.buttons
    # The engine discovery found: listed with its state, primary, not removable from here.
    assert cells(table, "host")[0] == "host (primary)" and cells(table, "host")[3] == "● Connected"
    assert table.select("host") and not b["remove"].isEnabled() and not b["primary"].isEnabled()
    with qtbot.waitSignal(table.tested, timeout=20000) as sig:
        click(qtbot, b["test"])
    name, sentence, ok = sig.args
    assert ok and sentence.startswith("host answered: engine ") and table.message.text() == sentence

    # Add over SSH, through the Add engine dialog: pinged, listed, followed, saved.
    click(qtbot, b["add"])
    dlg = modal(qtbot, AddEngineDialog)
    ssh_url = sshd.url(str(second_engine.socket))
    for key, text in (("name", "build"), ("address", ssh_url), ("ssh_identity", str(sshd.client_key)),
                      ("ssh_known_hosts", str(sshd.known_hosts))):
        qtbot.keyClicks(dlg.edits[key], text)
    with qtbot.waitSignal(dlg.engine_added, timeout=30000):
        click(qtbot, dlg.add_button)
    qtbot.waitUntil(lambda: (cells(table, "build") or [""] * 4)[3] == "● Connected", timeout=30000)
    assert cells(table, "build")[1:3] == [ssh_url, "SSH"]
    assert cells(table, "build")[4] == "identity client_key, known_hosts known_hosts"
    assert ph.engines.get("build").endpoints[0].host == ssh_url
    saved = json.loads(ph.settings.path.read_text())["engines"]
    assert saved == [{"name": "build", "address": ssh_url, "ssh_identity": str(sshd.client_key),
                      "ssh_known_hosts": str(sshd.known_hosts)}]
    assert table.select("build")
    with qtbot.waitSignal(table.tested, timeout=30000) as sig:
        click(qtbot, b["test"])
    assert sig.args[2] and sig.args[1].startswith("build answered: engine ")

    # Edit: the same dialog, filled in; now over TCP with mutual TLS. Followed at the new address.
    click(qtbot, b["edit"])
    dlg = modal(qtbot, AddEngineDialog)
    assert dlg.edits["address"].text() == ssh_url and dlg.edits["name"].text() == "build"
    ca, cert, key = second_engine.tls_files()
    for k, text in (("address", second_engine.tls_host), ("ssh_identity", ""), ("ssh_known_hosts", ""),
                    ("tls_ca", ca), ("tls_cert", cert), ("tls_key", key)):
        dlg.edits[k].setText(text)
    with qtbot.waitSignal(dlg.engine_added, timeout=30000):
        click(qtbot, dlg.add_button)
    qtbot.waitUntil(lambda: ph.engines.get("build") is not None
                    and ph.engines.get("build").endpoints[0].host == second_engine.tls_host
                    and ph.engines.get("build").status.current.state == CONNECTED, timeout=30000)
    qtbot.waitUntil(lambda: cells(table, "build")[3] == "● Connected", timeout=10000)
    assert cells(table, "build")[2:] == ["TCP with TLS", "● Connected", "CA ca.pem, certificate cert.pem, key key.pem"]
    assert [r.name for r in table.rows].count("build") == 1

    # Make primary: now (the window shows that engine, the switcher marks it, it stands for all
    # engines where one must) and at every start; the table marks it.
    mine = make_container(start=False)
    theirs = api_b.create_container(TEST_IMAGE, command=["sleep", "3600"])["Id"]
    sw = ph.window.engine_switcher
    assert sw.currentData() is None and "(primary)" in sw.itemText(sw.findData("host"))
    assert table.select("build")
    click(qtbot, b["primary"])
    assert ph.settings.current.primary_engine == "build"
    assert json.loads(ph.settings.path.read_text())["primary_engine"] == "build"
    assert cells(table, "build")[0] == "build (primary)" and cells(table, "host")[0] == "host"
    assert "primary engine now" in table.message.text() and not b["primary"].isEnabled()
    assert ph.engines.primary.key == "build" and sw.currentData() == "build"
    assert "build (primary) —" in sw.currentText() and "(primary)" not in sw.itemText(sw.findData("host"))
    page = ph.containers.page
    qtbot.waitUntil(lambda: page.proxy_index_of(theirs).isValid(), timeout=20000)
    assert not page.proxy_index_of(mine).isValid()  # the containers of the engine shown
    assert ph.monitoring.dashboard_page.source_label.text() == "Engine build"
    ph.window.select_engine(None)  # all engines: the dashboard shows the primary, now build
    assert ph.monitoring.dashboard_page.source_label.text().startswith("Engine build (the primary engine")
    assert page.proxy_index_of(theirs).isValid()
    # `mine` was only ever hidden by the engine shown; its creation event may still be on its way
    # from the other engine's stream on a busy machine.
    qtbot.waitUntil(lambda: page.proxy_index_of(mine).isValid(), timeout=20000)
    ph.window.select_engine("build")

    # Remove: asked first, saying what goes; then not followed, not saved, no longer primary.
    assert table.select("build")
    click(qtbot, b["remove"])
    box = modal(qtbot, QMessageBox)
    assert "build" in box.text() and second_engine.tls_host in box.text()
    assert "files stay on disk" in box.informativeText() and "stay on the engine" in box.informativeText()
    click(qtbot, box.findChild(object, "confirmButton"))
    qtbot.waitUntil(lambda: ph.engines.get("build") is None, timeout=20000)
    assert cells(table, "build") is None and ph.settings.current.engines == ()
    assert ph.settings.current.primary_engine == ""
    assert ph.window.engine_switcher.findData("build") < 0
    # The engine shown is gone: all engines are shown, and the first one followed is primary again.
    assert ph.engines.primary.key == "host" and sw.currentData() is None
    qtbot.waitUntil(lambda: page.proxy_index_of(mine).isValid(), timeout=20000)


def test_a_saved_engine_whose_files_are_gone_says_why(ph, qtbot, tmp_path):
    ph.window.show_page("settings")
    table = ph.desk.settings_page.engines_table
    gone = str(tmp_path / "gone" / "ca.pem")
    ph.settings.update(engines=(SavedEngine("ci", "tcp://ci.example:2376", tls_ca=gone,
                                            tls_cert=str(tmp_path / "cert.pem"), tls_key=str(tmp_path / "key.pem")),))
    assert cells(table, "ci")[2:4] == ["TCP with TLS", "✕ Not followed"]
    assert ph.engines.get("ci") is None  # nothing is dialled with files that are not there
    assert table.select("ci")
    with qtbot.waitSignal(table.tested, timeout=10000) as sig:
        click(qtbot, table.buttons["test"])
    assert sig.args[1] == f"ci cannot be reached as saved: No CA certificate file at {gone}." and not sig.args[2]
    assert table.message.is_error


def test_a_hidden_engines_table_catches_up_when_shown(two, qtbot, second_engine, await_):
    """An engine that goes away while Settings is hidden: the table is not rebuilt for nobody,
    and shows the engine's state the moment it is shown; shown, it follows the engine live."""
    import asyncio

    from desktop.ui.desk.engines_table import STATE_TEXT

    ph = two
    ph.window.show_page("settings")
    table = ph.desk.settings_page.engines_table
    assert cells(table, "second")[3] == "● Connected"
    ph.window.show_page("containers")
    assert not table.isVisible()
    session = ph.engines.get("second")
    try:
        await_(asyncio.to_thread(second_engine.stop), timeout=60)
        qtbot.waitUntil(lambda: session.status.current.state != CONNECTED, timeout=30000)
        assert cells(table, "second")[3] == "● Connected"  # as last shown
        ph.window.show_page("settings")
        assert cells(table, "second")[3] == STATE_TEXT[session.status.current.state]
    finally:
        await_(asyncio.to_thread(second_engine.start), timeout=60)
    qtbot.waitUntil(lambda: cells(table, "second")[3] == "● Connected", timeout=30000)
