"""The Inspect tab against a real engine: tree, search, copy, masked environment values."""

from __future__ import annotations

import json

import pytest
from PySide6.QtGui import QGuiApplication

from tests.conftest import RUN_LABEL

from tests.ui.test_logs_tab import open_detail


def all_texts(tree):
    out, stack = [], [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    while stack:
        it = stack.pop()
        out += [it.text(0), it.text(1)]
        stack.extend(it.child(i) for i in range(it.childCount()))
    return out


@pytest.fixture
def env_container(docker_api, test_image, run_id):
    c = docker_api.create_container(test_image, command=["sleep", "3600"], name=f"pht-{run_id}-env",
                                    environment={"SECRET_TOKEN": "hunter2-xyz"}, labels={RUN_LABEL: run_id})
    yield c["Id"]
    docker_api.remove_container(c["Id"], force=True)


def test_inspect_tree_masks_env_and_copies(env_container, docker_api, ph, qtbot):
    cid = env_container
    page = open_detail(ph, qtbot, cid)
    with qtbot.waitSignal(page.inspect.loaded, timeout=20000):
        page.show_tab("Inspect")
    tab = page.inspect
    assert tab.document["Id"] == cid
    # masked everywhere by default
    assert not any("hunter2" in t for t in all_texts(tab.tree))
    assert "hunter2" not in tab.raw.toPlainText()
    assert json.loads(tab.raw.toPlainText())["Id"] == cid
    env = tab.find_item(".Config.Env")
    secret = next(env.child(i) for i in range(env.childCount()) if env.child(i).text(1).startswith("SECRET_TOKEN="))
    assert secret.text(1) == "SECRET_TOKEN=••••••••"
    # the filter does not probe the secret
    tab.search.setText("hunter2")
    assert secret.isHidden()
    tab.search.setText("SECRET_TOKEN")
    assert not secret.isHidden() and tab.find_item(".Image").isHidden()
    tab.search.clear()
    # a click reveals this one value only
    tab._on_tree_item_clicked(secret, 1)
    assert secret.text(1) == "SECRET_TOKEN=hunter2-xyz"
    assert "hunter2" not in tab.raw.toPlainText()
    tab._on_tree_item_clicked(secret, 1)
    assert "hunter2" not in secret.text(1)
    # copy value and path
    image = tab.find_item(".Config.Image")
    tab.copy_value(image)
    assert QGuiApplication.clipboard().text() == docker_api.inspect_container(cid)["Config"]["Image"]
    tab.copy_path(secret)
    assert QGuiApplication.clipboard().text().startswith(".Config.Env[")
    # a masked value copies as masked, in itself or inside what holds it; revealed, as it is
    tab.copy_value(secret)
    assert QGuiApplication.clipboard().text() == "••••••••"
    tab.copy_value(tab.find_item(".Config"))
    assert "hunter2" not in QGuiApplication.clipboard().text()
    assert "SECRET_TOKEN=••••••••" in json.loads(QGuiApplication.clipboard().text())["Env"]
    tab._on_tree_item_clicked(secret, 1)
    tab.copy_value(secret)
    assert QGuiApplication.clipboard().text() == "hunter2-xyz"
    tab._on_tree_item_clicked(secret, 1)
    tab.copy_value(tab.find_item(".State"))
    assert json.loads(QGuiApplication.clipboard().text())["Status"] == "created"
    tab.reveal_all.setChecked(True)
    assert "hunter2-xyz" in tab.raw.toPlainText()
