"""Confirmations that do not block the event loop: shown with open(), awaited as a future."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QMessageBox, QWidget


async def confirm(parent: QWidget, title: str, text: str, ok_text: str, *,
                  details: str = "", checkbox: str | None = None, destructive: bool = True) -> tuple[bool, bool]:
    """Ask; returns (confirmed, checkbox_checked). The dialog's objectName is `confirmDialog`."""
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
