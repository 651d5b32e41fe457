"""Helpers for the object pages' UI tests: fill and submit form dialogs like a user would."""

from __future__ import annotations

import hypothesis  # noqa: F401 - loaded now: its plugin's lazy import at session end crashed in 3.11's compiler
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QFileDialog, QLineEdit, QMessageBox, QPlainTextEdit


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def fill(qtbot, dlg, **values) -> None:
    for key, value in values.items():
        w = dlg.inputs[key]
        if isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QComboBox):
            w.setCurrentText(str(value))
        elif isinstance(w, QPlainTextEdit):
            w.setPlainText(str(value))
        elif isinstance(w, QLineEdit):
            w.clear()
            qtbot.keyClicks(w, str(value))


def field_error(dlg, key: str) -> str:
    label = dlg.errors[key] if key != "form" else dlg.form_error
    return label.text() if not label.isHidden() else ""


def open_dialog(qtbot, page, button: str, attr: str):
    click(qtbot, page.buttons[button][0])
    qtbot.waitUntil(lambda: getattr(page, attr, None) is not None and getattr(page, attr).isVisible(), timeout=20000)
    return getattr(page, attr)


def submit_and_wait_closed(qtbot, dlg, timeout: int = 60000) -> None:
    click(qtbot, dlg.ok_button)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=timeout)


def submit_and_wait_error(qtbot, dlg, key: str, timeout: int = 30000) -> str:
    click(qtbot, dlg.ok_button)
    qtbot.waitUntil(lambda: bool(field_error(dlg, key)) and dlg.ok_button.isEnabled(), timeout=timeout)
    return field_error(dlg, key)


def answer_confirm(qtbot, accept: bool, check: bool = False) -> str:
    box: list[QMessageBox] = []

    def found():
        w = QApplication.activeModalWidget()
        if isinstance(w, QMessageBox) and w.objectName() == "confirmDialog" and w.isVisible():
            box.append(w)
            return True
        return False

    qtbot.waitUntil(found, timeout=10000)
    dlg = box[0]
    text = f"{dlg.text()} {dlg.informativeText()}"
    if check and dlg.checkBox():
        dlg.checkBox().setChecked(True)
    click(qtbot, dlg.findChild(object, "confirmButton" if accept else "cancelButton"))
    return text


def select(qtbot, page, key: str) -> None:
    qtbot.waitUntil(lambda: page.select_key(key), timeout=10000)


def row_texts(page, key: str) -> list[str]:
    r = page.model.row_of(key)
    if r < 0:  # not listed yet (the object stores list right after the containers)
        return [""] * page.model.columnCount()
    return [page.model.index(r, c).data() or "" for c in range(page.model.columnCount())]


def choose_in_file_dialog(qtbot, path) -> None:
    """Qt's own file dialog (no native one offscreen): the path typed over the name field, Enter."""
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), QFileDialog), timeout=10000)
    dlg = QApplication.activeModalWidget()
    dlg.activateWindow()  # (the window manager's part: the dialog shown is the active window)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dlg)
    edit = dlg.findChild(QLineEdit, "fileNameEdit")
    edit.setFocus()
    edit.selectAll()  # (the suggested name is typed over)
    qtbot.keyClicks(edit, str(path))
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=10000)
