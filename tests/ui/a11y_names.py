"""Qt's accessibility interface, walked as a screen reader is given it: the interactive controls
under a widget that have no name to say."""

from __future__ import annotations

from PySide6.QtGui import QAccessible

Role = QAccessible.Role
INTERACTIVE = {
    Role.PushButton: "button", Role.CheckBox: "check box", Role.RadioButton: "radio button",
    Role.ComboBox: "combo box", Role.EditableText: "text field", Role.SpinBox: "spin box",
    Role.Slider: "slider", Role.Dial: "dial", Role.PageTab: "tab", Role.PageTabList: "tab bar",
    Role.ButtonMenu: "menu button", Role.ButtonDropDown: "drop-down button", Role.ButtonDropGrid: "grid button",
    Role.List: "list", Role.Table: "table", Role.Tree: "tree", Role.MenuItem: "menu entry",
}
# Their rows and cells are named by their data; the view itself must have a name.
ITEM_VIEWS = {Role.List, Role.Table, Role.Tree}


def describe(iface) -> str:
    obj = iface.object()
    where = f"{type(obj).__name__}#{obj.objectName()}" if obj is not None else "?"
    parent = obj.parent() if obj is not None else None
    while parent is not None and not parent.objectName():
        parent = parent.parent()
    return f"{where} in {type(parent).__name__}#{parent.objectName()}" if parent is not None else where


def nameless(root_widget) -> list[str]:
    """Interactive controls under `root_widget` (shown or not) that a screen reader could not name."""
    bad: list[str] = []
    seen: set[int] = set()

    def walk(iface, depth: int) -> None:
        if iface is None or not iface.isValid() or depth > 60:
            return
        key = id(iface.object()) if iface.object() is not None else id(iface)
        role = iface.role()
        if role in INTERACTIVE and not iface.text(QAccessible.Text.Name).strip():
            bad.append(f"{INTERACTIVE[role]} {describe(iface)}")
        if role in ITEM_VIEWS or (iface.object() is not None and key in seen):
            return
        seen.add(key)
        for i in range(iface.childCount()):
            walk(iface.child(i), depth + 1)

    walk(QAccessible.queryAccessibleInterface(root_widget), 0)
    return sorted(set(bad))
