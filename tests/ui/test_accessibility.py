"""Every page, walked through Qt's accessibility interface (what a screen reader is given): each
interactive control has a role and a name. Against the real engine, with real rows on the pages."""

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


def test_every_page_names_its_controls(ph, qtbot, make_container, run_id):
    cid = make_container(f"pht-{run_id}-a11y", start=True)
    page = ph.containers.page
    qtbot.waitUntil(lambda: page.proxy_index_of(cid).isValid(), timeout=20000)
    problems: dict[str, list[str]] = {}
    for key, _title in ph.window.page_entries():
        ph.window.show_page(key)
        found = nameless(ph.window.page(key))
        if found:
            problems[key] = found
    # A container's page and its tabs (Logs, Terminal, Inspect, Files, Stats, Changes, Debug…).
    ph.window.show_page("containers")
    detail = ph.details.open_container(ph.all_containers.get(cid))
    for i in range(detail.tabs.count()):
        detail.tabs.setCurrentIndex(i)
    found = nameless(detail)
    if found:
        problems["container page"] = found
    found = nameless(ph.window.menuBar())
    for m in ph.window.menus.values():
        found += nameless(m)
    if found:
        problems["menus"] = found
    found = [p for p in nameless(ph.window) if "in MainWindow" in p or "sidePanel" in p]
    if found:
        problems["window"] = found
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())


def test_dialogs_name_their_controls(ph, qtbot):
    ph.menus.actions["new_container"].trigger()  # File > New container from image…
    run = ph.objects.images_page.run_dialog_opened
    qtbot.waitUntil(run.isVisible)
    found = nameless(run)
    run.reject()
    add = ph.connections.open_add_engine_dialog()  # Engine > Add engine…
    qtbot.waitUntil(add.isVisible)
    found += nameless(add)
    add.reject()
    assert not found, found
