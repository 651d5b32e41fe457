"""Every page and every container tab, filled with engine text that looks like markup (labels,
command, environment, logs, health check output, a network's and a volume's labels): wherever that
text is shown (labels, tooltips, item views, text views) it reads as the characters it is."""

from __future__ import annotations

import docker
import pytest
from PySide6 import QtGui
from PySide6.QtCore import QAbstractItemModel, QAbstractListModel, QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QAbstractItemView, QLabel, QPlainTextEdit, QTextEdit, QWidget

from tests.conftest import RUN_LABEL

TAG = "MARKUP-7f3"
MARKUP = f"<b>{TAG}</b> <img src=file:///etc/passwd> &amp;"


def shown_as(text: str, fmt: Qt.TextFormat = Qt.TextFormat.AutoText) -> str:
    """What Qt displays for text in a label or tooltip of this format."""
    rich = fmt == Qt.TextFormat.RichText or (fmt == Qt.TextFormat.AutoText and QtGui.Qt.mightBeRichText(text))
    if not rich:
        return text
    doc = QTextDocument()
    doc.setHtml(text)
    return doc.toPlainText()


def _model_strings(model: QAbstractItemModel, parent: QModelIndex = QModelIndex(), depth: int = 0):
    rows = min(model.rowCount(parent), 200)
    # List and table models have no children and keep columnCount/hasChildren private.
    flat = isinstance(model, (QAbstractListModel, QAbstractTableModel))
    cols = 1 if isinstance(model, QAbstractListModel) else model.columnCount(parent)
    for r in range(rows):
        for c in range(cols):
            idx = model.index(r, c, parent)
            yield "item", model.data(idx, Qt.ItemDataRole.DisplayRole), Qt.TextFormat.PlainText
            yield "item tooltip", model.data(idx, Qt.ItemDataRole.ToolTipRole), Qt.TextFormat.AutoText
        if not flat and depth < 6:
            first = model.index(r, 0, parent)
            if model.hasChildren(first):
                yield from _model_strings(model, first, depth + 1)


def offenders(root: QWidget) -> tuple[list[str], int]:
    """Places under root where the hostile text is interpreted as markup, and how many places
    showed it at all (so a test can tell that it looked at something)."""
    bad, seen = [], 0
    for w in [root, *root.findChildren(QWidget)]:
        places = [("tooltip", w.toolTip(), Qt.TextFormat.AutoText)]
        if isinstance(w, QLabel):
            places.append(("label", w.text(), w.textFormat()))
        if isinstance(w, (QTextEdit, QPlainTextEdit)):
            places.append(("text view", w.toPlainText(), Qt.TextFormat.PlainText))
        if isinstance(w, QAbstractItemView) and w.model() is not None:
            places.extend(_model_strings(w.model()))
        for what, text, fmt in places:
            if not isinstance(text, str) or TAG not in text:
                continue
            seen += 1
            if f"<b>{TAG}</b>" not in shown_as(text, fmt):
                bad.append(f"{what} of {type(w).__name__} {w.objectName()!r}: {text[:120]!r}")
    return bad, seen


@pytest.mark.timeout(240)
def test_markup_from_the_engine_is_shown_literally_on_every_page(ph, qtbot, docker_api, test_image, run_id):
    name = f"pht-{run_id}-markup"
    hc = {"test": ["CMD-SHELL", f"echo '{MARKUP}'; exit 1"], "interval": 1_000_000_000,
          "timeout": 1_000_000_000, "retries": 1, "start_period": 0}
    c = docker_api.create_container(
        test_image, name=name, command=["sh", "-c", f"echo '{MARKUP}'; exec sleep 3600"],
        environment={"HOSTILE": MARKUP}, labels={RUN_LABEL: run_id, "hostile.label": MARKUP},
        healthcheck=hc, stop_signal="SIGKILL")
    cid = c["Id"]
    net = docker_api.create_network(f"pht-{run_id}-markupnet", labels={RUN_LABEL: run_id, "hostile": MARKUP})
    vol = docker_api.create_volume(f"pht-{run_id}-markupvol", labels={RUN_LABEL: run_id, "hostile": MARKUP})
    try:
        docker_api.start(cid)
        qtbot.waitUntil(lambda: docker_api.inspect_container(cid)["State"].get("Health", {})
                        .get("Status") == "unhealthy", timeout=30000)
        window = ph.window
        for key in list(window._page_keys):
            window.show_page(key)
            qtbot.waitUntil(lambda k=key: window.page(k).isVisible(), timeout=5000)
        window.show_page("containers")
        qtbot.waitUntil(lambda: ph.containers.page.proxy_index_of(cid).isValid(), timeout=20000)
        page = ph.details.open_container(ph.all_containers.get(cid))
        for i in range(page.tabs.count()):
            page.tabs.setCurrentIndex(i)
            qtbot.waitUntil(lambda i=i: page.tabs.widget(i).isVisible(), timeout=5000)
        page.show_tab("Logs")
        qtbot.waitUntil(lambda: any(TAG in page.logs.buffer.line_bytes(n).decode(errors='replace') for n in range(len(page.logs.buffer))),
                        timeout=20000)
        page.show_tab("Inspect")
        qtbot.waitUntil(lambda: offenders(page.inspect)[1] > 0, timeout=20000)
        bad, seen = offenders(window)
        assert not bad, "engine text shown as markup:\n" + "\n".join(bad)
        assert seen >= 3  # the row's command tooltip, the log line and the inspect values at least
        ph.details.close()
        for key in ("networks", "volumes"):
            window.show_page(key)
            obj = window.page(key)
            qtbot.waitUntil(lambda o=obj: o.model.rowCount() > 0, timeout=20000)
            bad, _ = offenders(obj)
            assert not bad, f"engine text shown as markup on {key}:\n" + "\n".join(bad)
    finally:
        docker_api.remove_container(cid, force=True)
        docker_api.remove_network(net["Id"])
        try:
            docker_api.remove_volume(vol["Name"])
        except docker.errors.APIError:
            pass
