"""Does every page fit the window? Shows each sidebar page at a size, in a theme, and lists what
does not fit: a page wider than the window (or a window forced wider than asked), a page that
scrolls sideways, a label cut short with no tooltip to read it whole.

Run as a module (`python -m tests.ui.page_fit HOST`) it does the same in a process of its own,
so a test can try another scale (QT_SCALE_FACTOR) than the test process was started with, and
prints one JSON object: {"problems": [...], "warnings": [...], "pages": [...]}.
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QAbstractScrollArea, QApplication, QComboBox, QLabel,
                               QPlainTextEdit,
                               QTextEdit)


def page_keys(window) -> list[str]:
    sb = window.sidebar
    return [sb.item(i).data(Qt.ItemDataRole.UserRole) for i in range(sb.count())]


def _settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def _is_page_scroller(w) -> bool:
    """A scroll area that scrolls a page (not a table, list or text view: those may scroll)."""
    return isinstance(w, QAbstractScrollArea) and not isinstance(w, (QAbstractItemView, QPlainTextEdit, QTextEdit))


def label_clipped(lab: QLabel) -> bool:
    if not lab.isVisibleTo(lab.window()) or not lab.text() or lab.wordWrap() or lab.pixmap() is not None \
            and not lab.pixmap().isNull():
        return False
    return lab.sizeHint().width() > lab.width() + 1


def page_problems(window, key: str, width: int, height: int) -> list[str]:
    """What does not fit on one page, shown at width × height."""
    window.resize(width, height)
    window.show_page(key)
    _settle()
    page = window.page(key)
    out = []
    if window.width() > width:
        out.append(f"{key}: the window cannot be {width} px wide (it needs {window.width()})")
    need = page.minimumSizeHint().width()
    if need > page.width():
        out.append(f"{key}: the page needs {need} px but has {page.width()}")
    for area in page.findChildren(QAbstractScrollArea):
        if _is_page_scroller(area) and area.isVisibleTo(window) and area.horizontalScrollBar().isVisible():
            out.append(f"{key}: {area.objectName() or type(area).__name__} scrolls sideways")
    for box in page.findChildren(QComboBox):
        # a box sized to its longest entry widens the page when an engine hands it a long name
        grows = box.sizeAdjustPolicy() in (QComboBox.SizeAdjustPolicy.AdjustToContents,
                                           QComboBox.SizeAdjustPolicy.AdjustToContentsOnFirstShow)
        longest = max((len(box.itemText(i)) for i in range(box.count())), default=0)
        if grows and longest > 40 and box.isVisibleTo(window):
            out.append(f"{key}: the box {box.objectName() or box.accessibleName()} widens with its longest "
                       f"entry ({longest} characters)")
    for lab in page.findChildren(QLabel):
        if label_clipped(lab) and not lab.toolTip():
            out.append(f"{key}: the label {lab.objectName() or repr(lab.text()[:40])} is cut short "
                       f"({lab.sizeHint().width()} px in {lab.width()}) with no tooltip")
    return out


def all_problems(ph, themes=("light", "dark"), width: int = 1024, height: int = 640) -> list[str]:
    problems = []
    for scheme in themes:
        ph.desk.theme.apply(scheme)
        for key in page_keys(ph.window):
            problems += [f"[{scheme}] {p}" for p in page_problems(ph.window, key, width, height)]
    ph.desk.theme.apply("light")
    return problems


def main(argv: list[str]) -> int:
    """In a process of its own: the app against HOST, every page at 1024×640, light and dark."""
    import asyncio
    import shutil
    import tempfile
    import time
    from pathlib import Path

    import qasync
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    from desktop.app import Pilothouse
    from desktop.engine.endpoints import Endpoint
    from desktop.state.history.store import HistoryStore
    from desktop.vm.config import VMConfig
    from desktop.vm.machine import VMManager
    from desktop.vm.paths import VMPaths, default_image_dir

    warnings: list[str] = []
    ignore = ("propagateSizeHints", "does not support raise", "grabbing the keyboard")

    def on_message(kind, _context, text):
        if kind in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg) \
                and not any(i in text for i in ignore):
            warnings.append(text)

    qInstallMessageHandler(on_message)
    host = argv[0]
    app = QApplication([])
    # As under pytest-qt: a loop marked running, driven by Qt's own waiting (QTest.qWait).
    loop = qasync.QEventLoop(app, already_running=True)
    asyncio.set_event_loop(loop)

    def run(coro, timeout: float = 60.0):
        from PySide6.QtTest import QTest

        task = asyncio.ensure_future(coro, loop=loop)
        deadline = time.monotonic() + timeout
        while not task.done():
            if time.monotonic() > deadline:
                raise TimeoutError("the app did not finish in time")
            QTest.qWait(20)
        return task.result()

    root = Path(tempfile.mkdtemp(prefix="pilothouse-fit-"))
    vm = VMManager(VMConfig(cpus=1, memory_mib=1024, disk_gib=4, shares=()),
                   VMPaths(root / "state", default_image_dir(), root / "docker-config"))
    history = HistoryStore(root / "history.sqlite")
    history.start()
    ph = Pilothouse([Endpoint(host, "--host")], vm=vm, history=history)
    ph.window.show()
    ph.start()
    result = {}
    try:
        run(ph.first_load(timeout=30))
        result["pages"] = page_keys(ph.window)
        result["dpr"] = ph.window.devicePixelRatioF()
        result["problems"] = all_problems(ph)
    finally:
        run(ph.aclose())
        run(history.aclose())
        ph.window.close()
        executor = getattr(loop, "_QEventLoop__default_executor", None)
        if executor is not None:
            executor.shutdown(wait=True)
        shutil.rmtree(root, ignore_errors=True)
    result["warnings"] = warnings
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
