"""Every page fits a 1024×640 window, light and dark, at 100% and 200% scale, with the demo data's
long names: no page wider than the window, no page scrolling sideways, no label cut short
without a tooltip that says it whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.app import Pilothouse
from desktop.engine.endpoints import Endpoint
from desktop.state.history.store import HistoryStore
from desktop.vm.config import VMConfig
from desktop.vm.machine import VMManager
from desktop.vm.paths import VMPaths, default_image_dir
from tests.harness import demo_data
from tests.ui.page_fit import all_problems, page_keys

ROOT = Path(__file__).resolve().parents[2]
MAIN_PAGES = {"containers", "images", "volumes", "networks", "compose", "settings", "vm"}


@pytest.fixture
def demo(engine_host, test_image):
    demo_data.clear(engine_host)
    demo_data.populate(engine_host)
    yield
    demo_data.clear(engine_host)


@pytest.fixture
def app_with_vm_page(qtbot, aloop, await_, engine_host, tmp_path):
    vm = VMManager(VMConfig(cpus=1, memory_mib=1024, disk_gib=4, shares=()),
                   VMPaths(tmp_path / "state", default_image_dir(), tmp_path / "docker-config"))
    history = HistoryStore(tmp_path / "history.sqlite")  # as the app runs: the timeline and its graphs
    history.start()
    ph = Pilothouse([Endpoint(engine_host, "--host")], vm=vm, history=history)
    ph.window.show()
    ph.start()
    await_(ph.first_load(timeout=30))
    yield ph
    await_(ph.aclose())
    await_(history.aclose())
    ph.window.close()
    ph.window.deleteLater()


def test_every_page_fits_1024_by_640_light_and_dark(demo, app_with_vm_page, qtbot):
    ph = app_with_vm_page
    qtbot.waitUntil(lambda: any(c.name == demo_data.LONG for c in ph.all_containers.all()), timeout=20000)
    assert MAIN_PAGES <= set(page_keys(ph.window))
    problems = all_problems(ph)
    assert not problems, "\n".join(problems)


def test_every_page_fits_at_200_percent(demo, engine_host, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR="2", XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    proc = subprocess.run([sys.executable, "-m", "tests.ui.page_fit", engine_host], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["dpr"] == 2.0
    assert MAIN_PAGES <= set(result["pages"])
    assert not result["problems"], "\n".join(result["problems"])
    assert result["warnings"] == []  # Qt warnings fail here too
