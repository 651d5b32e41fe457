"""Walk a page or a dialog with the Tab key, as a keyboard user would: real key presses sent to
the focused widget, and the widgets focus visits recorded.

A walk finds three kinds of problem:
- a control a mouse can use that Tab never reaches (it is shown, enabled and takes focus by click
  or Tab, yet is not in the chain), a label's link and a control in a table's cell included;
- a trap: Tab pressed and the focus stays where it was (a table that walks its cells, a text box
  that types a tab), or the chain goes round inside the page and never leaves it;
- an order that jumps against reading order: back up the page without moving to a column to the
  right, or left along the same line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QAbstractSlider, QAbstractSpinBox, QApplication,
                               QComboBox, QLabel, QLineEdit, QPlainTextEdit, QScrollBar, QTabBar, QTextEdit, QWidget)
from PySide6.QtTest import QTest

# Controls a keyboard user must reach: things to press, type in, choose from or read through.
CONTROLS = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QAbstractItemView, QTabBar, QPlainTextEdit,
            QTextEdit, QAbstractSlider)


def keeps_tab(w: QWidget) -> bool:
    """A control whose Tab key is its content's (a terminal: shell completion), left with Ctrl+Tab
    as its description says."""
    return "Ctrl+Tab moves on" in w.accessibleDescription()


def _target(w: QWidget) -> QWidget:
    while w.focusProxy() is not None:
        w = w.focusProxy()
    return w


def is_link_label(w: QWidget) -> bool:
    """A label showing a link a mouse can follow: a control, which Tab must reach too."""
    return (isinstance(w, QLabel) and "<a " in w.text() and w.textFormat() != Qt.TextFormat.PlainText
            and bool(w.textInteractionFlags() & Qt.TextInteractionFlag.LinksAccessibleByMouse))


def _index_widget(w: QWidget, view: QAbstractItemView) -> bool:
    """A control put in a cell (setIndexWidget, setCellWidget): the page's own, not the view's."""
    if w.parentWidget() is not view.viewport() or view.model() is None:
        return False
    index = view.indexAt(w.geometry().center())
    return index.isValid() and view.indexWidget(index) is w


def _inside_other_control(w: QWidget, root: QWidget) -> bool:
    """Part of another control (a combo's line edit, a spin box's editor, an item view's editor or
    scroll bar, a tab bar's scroll button): reached through that control."""
    p = w.parentWidget()
    while p is not None and p is not root:
        if isinstance(p, QAbstractItemView) and _index_widget(w, p):
            pass
        elif isinstance(p, (QComboBox, QAbstractSpinBox, QAbstractItemView, QTabBar)):
            return True
        p = p.parentWidget()
    return False


def _unchecked_in_group(w: QWidget) -> bool:
    """An exclusive group (radio buttons, Tree / Raw JSON) is one Tab stop, its checked button:
    the arrow keys move within it, as on every platform."""
    if not isinstance(w, QAbstractButton) or w.isChecked():
        return False
    group = w.group()
    return (group is not None and group.exclusive()) or w.autoExclusive() and w.isCheckable()


def controls(root: QWidget) -> list[QWidget]:
    """The shown, enabled controls under `root` that take keyboard focus."""
    out: list[QWidget] = []
    seen: set[int] = set()
    for w in [root, *root.findChildren(QWidget)]:
        if not (isinstance(w, CONTROLS) or is_link_label(w)) or isinstance(w, QScrollBar) \
                or _inside_other_control(w, root):
            continue
        if _unchecked_in_group(w):
            continue
        w = _target(w)
        if id(w) in seen or not w.isVisible() or not w.isEnabled() or w.window() is not root.window():
            continue
        if w.width() <= 1 or w.height() <= 1:
            continue
        if not (w.focusPolicy() & Qt.FocusPolicy.TabFocus) and not is_link_label(w):
            continue  # (a link a mouse follows stays in: Tab must reach it, see `walk`)
        if w is not root and not root.isAncestorOf(w):
            continue
        seen.add(id(w))
        out.append(w)
    return out


def name_of(w: QWidget | None) -> str:
    if w is None:
        return "nothing"
    text = w.accessibleName() or w.objectName() or (w.text() if hasattr(w, "text") and callable(w.text) else "")
    return f"{type(w).__name__}({text!r})"


def rect_in(w: QWidget, root: QWidget) -> QRect:
    return QRect(w.mapTo(root, QPoint(0, 0)), w.size())


def against_reading_order(a: QRect, b: QRect) -> str | None:
    """Why going from a control at `a` to one at `b` jumps against reading order (None: it does
    not). Going up is fine when `b` starts a column to the right of `a`."""
    if b.bottom() < a.top() and b.left() < a.right():
        return "back up the page"
    overlap = min(a.bottom(), b.bottom()) - max(a.top(), b.top())
    if overlap > min(a.height(), b.height()) // 2 and b.right() < a.left():
        return "left along the same line"
    return None


def TAB_JUMPS(visited, a, b) -> str | None:  # noqa: N802 - a table of reasons, read as a constant
    """Jumps against reading order made on purpose, and why (for `walk`'s `allowed`)."""
    if isinstance(a, QAbstractItemView) and len(visited) >= 2 and isinstance(visited[-2], QLineEdit) \
            and rect_in(b, a.window()).bottom() < rect_in(a, a.window()).top():
        # A list page: Tab goes from the filter box straight to the rows it filtered (type, Tab,
        # act), then back up to the controls beside and under the filter.
        return "filter, then its rows"
    return None


@dataclass
class Walk:
    visited: list[QWidget] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def first_in_chain(root: QWidget) -> QWidget | None:
    """Where Tab enters `root`: the first of its controls along the window's focus chain."""
    wanted = {id(w) for w in controls(root)}
    w = root.nextInFocusChain()
    for _ in range(5000):
        if id(w) in wanted:
            return w
        w = w.nextInFocusChain()
        if w is root:
            break
    return None


def walk(root: QWidget, label: str, allowed=None, start: QWidget | None = None) -> Walk:
    """Press Tab from the first control of `root` until the focus leaves it (a page) or comes back
    to where it started (a dialog, whose chain is a ring). `allowed(visited, a, b)`: why a jump
    from `a` to `b` against reading order is made on purpose (None: it is not)."""
    allowed = allowed or (lambda visited, a, b: None)
    result = Walk()
    wanted = controls(root)
    if start is None and root.isWindow() and wanted:
        # A dialog's chain is a ring: walk it from the control that reads first, so the one jump
        # back up (the last control to the first) is the ring closing, not a step out of order.
        start = min(wanted, key=lambda w: (rect_in(w, root).top(), rect_in(w, root).left()))
    first = start or first_in_chain(root)
    if first is None:
        if wanted:
            result.problems.append(f"{label}: Tab enters none of {', '.join(map(name_of, wanted))}")
        return result
    for _ in range(20):  # a tab just shown may still hand the focus on in its queued events
        first.setFocus(Qt.FocusReason.TabFocusReason)
        QApplication.processEvents()
        if QApplication.focusWidget() is first:
            break
    else:
        result.problems.append(f"{label}: {name_of(first)} does not take the focus")
        return result
    current = first
    for _ in range(len(wanted) * 2 + 10):
        result.visited.append(current)
        QTest.keyClick(current, Qt.Key.Key_Tab)
        QApplication.processEvents()
        nxt = QApplication.focusWidget()
        for _ in range(current.text().count("<a ") if is_link_label(current) else 0):
            if nxt is not current:
                break
            QTest.keyClick(current, Qt.Key.Key_Tab)  # a label's Tab goes from link to link, then on
            QApplication.processEvents()
            nxt = QApplication.focusWidget()
        if nxt is current and keeps_tab(current):  # its own way out
            QTest.keyClick(current, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
            QApplication.processEvents()
            nxt = QApplication.focusWidget()
        if nxt is current and wanted == [current]:
            break  # the only control of a dialog: the ring is this one stop (Esc leaves)
        if nxt is current:
            result.problems.append(f"{label}: Tab stays on {name_of(current)} (a trap)")
            break
        if nxt is None or nxt is first or not (nxt is root or root.isAncestorOf(nxt)) or nxt in result.visited:
            if nxt is not None and nxt is not first and nxt in result.visited:
                result.problems.append(f"{label}: Tab goes round from {name_of(current)} back to {name_of(nxt)}"
                                       " without leaving")
            break
        why = against_reading_order(rect_in(current, root), rect_in(nxt, root))
        if why and not allowed(result.visited, current, nxt):
            result.problems.append(f"{label}: Tab goes {why}, from {name_of(current)} to {name_of(nxt)}")
        current = nxt
    else:
        result.problems.append(f"{label}: Tab never leaves (after {name_of(current)})")
    missed = [w for w in wanted if w not in result.visited and w.isVisible() and w.isEnabled()]
    if missed:
        result.problems.append(f"{label}: Tab never reaches {', '.join(map(name_of, missed))}"
                               f" (it went {' → '.join(map(name_of, result.visited))})")
    return result
