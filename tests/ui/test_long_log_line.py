"""One 32 MiB log line: reassembled whole, drawn cut with a note of the rest, copied whole."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication

from desktop.ui.containers.detail.log_view import DISPLAY_LIMIT
from tests.ui.test_logs_tab import open_detail

SIZE = 32 << 20


def test_a_32_mib_line_is_shown_elided_and_copied_whole(make_container, docker_api, ph, qtbot):
    cid = make_container(command=("sh", "-c", f"echo before; head -c {SIZE} /dev/zero | tr '\\0' a; echo; echo after"))
    docker_api.start(cid)
    docker_api.wait(cid, timeout=120)
    page = open_detail(ph, qtbot, cid)
    tab = page.logs
    qtbot.waitUntil(lambda: len(tab.buffer) == 3 and tab.is_loaded, timeout=60000)
    assert [len(tab.buffer.line_bytes(i)) for i in range(3)] == [6, SIZE, 5]
    qtbot.waitUntil(lambda: bool(tab.view._painted), timeout=10000)
    text = tab.view.display_text(1)[0]
    cut = tab.view.elided_at(1)
    assert cut is not None and len(text) < DISPLAY_LIMIT + 100
    assert text[:cut] == "a" * DISPLAY_LIMIT and f"{SIZE - DISPLAY_LIMIT:,} more bytes" in text[cut:]
    assert tab.view.elided_at(0) is None and tab.view.display_text(0)[0] == "before"
    tab.view.select_lines(0, 2)
    tab.view.copy_selection()
    copied = QGuiApplication.clipboard().text()
    assert copied == "before\n" + "a" * SIZE + "\nafter"
