"""Confirmations that do not block the event loop: shown with open(), awaited as a future."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:  # made when first shown: their classes' enums cost ~5 ms on the way to the first paint
    from PySide6.QtWidgets import QFileDialog, QMessageBox

from desktop.ui.widgets.accessible_names import name_inner_controls


async def confirm(parent: QWidget, title: str, text: str, ok_text: str, *,
                  details: str = "", checkbox: str | None = None, destructive: bool = True) -> tuple[bool, bool]:
    """Ask; returns (confirmed, checkbox_checked). The dialog's objectName is `confirmDialog`."""
    from PySide6.QtWidgets import QCheckBox, QMessageBox
    box = QMessageBox(QMessageBox.Icon.Warning if destructive else QMessageBox.Icon.Question, title, text,
                      QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("confirmDialog")
    box.setTextFormat(Qt.TextFormat.PlainText)  # names and engine text, never markup
    if details:
        box.setInformativeText(details)
    # A mnemonic: the letter alone answers (QMessageBox), Cancel stays the default and Esc.
    ok = box.addButton(ok_text if "&" in ok_text else f"&{ok_text}", QMessageBox.ButtonRole.DestructiveRole if destructive else QMessageBox.ButtonRole.AcceptRole)
    ok.setObjectName("confirmButton")
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    cancel.setObjectName("cancelButton")
    box.setDefaultButton(cancel)
    cb = None
    if checkbox:
        cb = QCheckBox(checkbox)
        cb.setObjectName("confirmCheckBox")
        box.setCheckBox(cb)
    fut: asyncio.Future = asyncio.get_running_loop().create_future()

    def finished(_result: int) -> None:
        if not fut.done():
            fut.set_result((box.clickedButton() is ok, bool(cb and cb.isChecked())))
        box.deleteLater()

    box.finished.connect(finished)
    box.open()
    return await fut


def inform(parent: QWidget, name: str, title: str, text: str, *, rich: bool = False) -> QMessageBox:
    """Show a message with one Close button, without a nested event loop (a static
    QMessageBox.information would run one inside the asyncio loop's callback). `name` is its
    objectName; it is deleted once closed."""
    from PySide6.QtWidgets import QMessageBox
    box = QMessageBox(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Close, parent)
    box.setObjectName(name)
    box.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def open_file_dialog(dlg: QFileDialog) -> None:
    """Open a file dialog without a nested event loop. Where the platform has no native dialog it
    is Qt's own, whose combo boxes' lists have no names: they take their combo's."""
    dlg.open()
    name_inner_controls(dlg)


def choose_path(parent: QWidget, title: str, mode: str, on_chosen, *, suggested: str = "") -> QFileDialog:
    """Ask for a path with a file dialog opened as `open_file_dialog` does (not the static
    QFileDialog functions, which run a nested event loop). `mode`: "open" (an existing file),
    "save" or "folder"; `on_chosen(path)` once one is accepted."""
    from PySide6.QtWidgets import QFileDialog
    dlg = QFileDialog(parent, title)
    if mode == "folder":
        dlg.setFileMode(QFileDialog.FileMode.Directory)
        dlg.setOption(QFileDialog.Option.ShowDirsOnly)
    elif mode == "open":
        dlg.setFileMode(QFileDialog.FileMode.ExistingFile)
    else:
        dlg.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    if suggested:
        dlg.selectFile(suggested)
    dlg.fileSelected.connect(lambda path: path and on_chosen(path))
    dlg.finished.connect(lambda _r: dlg.deleteLater())
    open_file_dialog(dlg)
    return dlg
