"""Names for the sub-controls Qt makes inside a widget and leaves nameless: a line edit's clear and
icon buttons, a combo box's drop-down list and its editor. A screen reader announces them; without
a name it says only "button" or "list". Each takes its owner's name."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLineEdit, QToolButton, QWidget

CLEAR_ACTION = "_q_qlineeditclearaction"  # the object name Qt gives a line edit's clear action


def spoken_name(widget: QWidget) -> str:
    """What a screen reader calls `widget`: its accessible name, or the label Qt finds for it."""
    if widget.accessibleName():
        return widget.accessibleName()
    from PySide6.QtGui import QAccessible  # its eight enums (~6 ms) only when a name is looked up

    iface = QAccessible.queryAccessibleInterface(widget)
    return iface.text(QAccessible.Text.Name) if iface is not None and iface.isValid() else ""


def name_inner_controls(root: QWidget) -> None:
    """Name Qt's own sub-controls under `root` after their owners (idempotent; cheap)."""
    for combo in root.findChildren(QComboBox):
        owner = spoken_name(combo)
        if not owner:
            continue
        view = combo.view()
        if view is not None and not view.accessibleName():
            view.setAccessibleName(f"{owner}: choices")
        edit = combo.lineEdit()
        if edit is not None and not edit.accessibleName():
            edit.setAccessibleName(owner)
    for edit in root.findChildren(QLineEdit):
        owner = spoken_name(edit)
        for button in edit.findChildren(QToolButton):
            if button.accessibleName():
                continue
            action = button.defaultAction()
            if action is not None and action.objectName() == CLEAR_ACTION:
                button.setAccessibleName(f"Clear {owner}".strip() if owner else "Clear")
            elif action is not None and (action.text() or action.toolTip()):
                button.setAccessibleName(action.text() or action.toolTip())
            elif owner:
                button.setAccessibleName(f"{owner} icon")
