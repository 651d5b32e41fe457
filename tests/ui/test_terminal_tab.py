"""The Terminal tab against a real engine: type, resize, Ctrl-C, exit, container stop."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.test_logs_tab import open_detail


def screen_lines(tab):
    return [line.rstrip() for line in tab.screen.text().split("\n")]


def type_line(qtbot, tab, text):
    qtbot.keyClicks(tab.view, text)
    qtbot.keyClick(tab.view, Qt.Key.Key_Return)


def test_shell_echo_resize_ctrl_c_and_exit(make_container, docker_api, ph, qtbot):
    cid = make_container(start=True)
    page = open_detail(ph, qtbot, cid)
    tab = page.show_tab("Terminal")
    qtbot.waitUntil(lambda: tab.session is not None and tab.session.running, timeout=20000)
    assert tab.session.command == ["/bin/sh"]  # busybox has no bash: the default falls back
    type_line(qtbot, tab, "echo hello")
    qtbot.waitUntil(lambda: "hello" in screen_lines(tab), timeout=10000)
    # A new window size reaches the container's TTY.
    ph.window.resize(1000, 640)
    qtbot.waitUntil(lambda: tab.screen.size == tab.view.grid_for(tab.view.width(), tab.view.height()), timeout=5000)
    cols, rows = tab.screen.size

    # the resize is sent once typing-speed debounce ends; then the shell sees it
    qtbot.waitUntil(lambda: not tab._resize_timer.isActive() and not tab.tasks.busy, timeout=5000)
    type_line(qtbot, tab, "stty size")
    qtbot.waitUntil(lambda: f"{rows} {cols}" in screen_lines(tab), timeout=10000)
    # Ctrl-C interrupts the foreground program; Tab reaches the shell instead of moving focus.
    type_line(qtbot, tab, "sleep 100")

    def sleeping():
        return any("sleep 100" in " ".join(p) for p in docker_api.top(cid)["Processes"])

    qtbot.waitUntil(sleeping, timeout=10000)
    qtbot.keyClick(tab.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not sleeping(), timeout=10000)
    type_line(qtbot, tab, "echo after-int")
    qtbot.waitUntil(lambda: "after-int" in screen_lines(tab), timeout=10000)
    qtbot.keyClick(tab.view, Qt.Key.Key_Tab)
    assert tab.view.hasFocus()
    qtbot.keyClick(tab.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)  # a fresh prompt
    # exit ends the session with a sentence.
    with qtbot.waitSignal(tab.session_ended, timeout=10000) as sig:
        type_line(qtbot, tab, "exit 3")
    assert sig.args[0] == "The shell exited with code 3."
    assert "Reconnect" in tab.status.text()
    # Esc goes to the program (vi needs it), not to the page's shortcuts
    sent = []
    tab.view.typed.connect(sent.append)
    qtbot.keyClick(tab.view, Qt.Key.Key_Escape)
    assert sent == [b"\x1b"] and ph.window.pages.currentWidget() is page


def test_session_ends_when_container_stops(make_container, docker_api, ph, qtbot):
    cid = make_container(start=True)
    page = open_detail(ph, qtbot, cid)
    tab = page.show_tab("Terminal")
    qtbot.waitUntil(lambda: tab.session is not None and tab.session.running, timeout=20000)
    with qtbot.waitSignal(tab.session_ended, timeout=20000) as sig:
        docker_api.kill(cid)
    assert "container stopped" in sig.args[0]


def test_not_running_container_says_so(make_container, ph, qtbot):
    cid = make_container()
    page = open_detail(ph, qtbot, cid)
    tab = page.show_tab("Terminal")
    assert "not running" in tab.status.text() and tab.session is None


def test_scrollback_and_copy(make_container, ph, qtbot):
    from PySide6.QtGui import QGuiApplication

    from desktop.state.terminal_screen import runs_text

    cid = make_container(start=True)
    page = open_detail(ph, qtbot, cid)
    tab = page.show_tab("Terminal")
    qtbot.waitUntil(lambda: tab.session is not None and tab.session.running, timeout=20000)
    type_line(qtbot, tab, "seq 1 300")

    def output_done() -> bool:
        # "300" followed by the next prompt: the shell is idle, so nothing scrolls the history on
        # between reading the top row and copying it.
        lines = [line for line in screen_lines(tab) if line]
        return "300" in lines[:-1] and lines[-1].endswith("#") and tab.screen.history_size() > 200

    qtbot.waitUntil(output_done, timeout=20000)
    rows_on_screen = tab.screen.size[1]
    tab.view.scroll_by(200)

    def top_row() -> str:
        rows, *_, cols = tab.view._rows()
        return runs_text(rows[0], cols).strip()

    # The top row now comes from the scrollback (the emulator's snapshot reaches the view async).
    qtbot.waitUntil(lambda: top_row().isdigit() and int(top_row()) < 300 - rows_on_screen, timeout=10000)
    first = top_row()
    rows, *_, cols = tab.view._rows()
    # select the first two rows and copy them
    tab.view._sel = ((0, 0), (1, cols))
    tab.view.copy_selection()
    assert QGuiApplication.clipboard().text().split("\n")[0] == first
    qtbot.keyClick(tab.view, Qt.Key.Key_Space)  # typing returns to the live screen
    assert tab.view.scroll_offset == 0
