"""The no-engine page's one-click VM start, without booting: what it says when QEMU is missing,
that it notices QEMU being installed, and that Cancel stops a real image build cleanly."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.app import Pilothouse
from desktop.engine.endpoints import Endpoint
from desktop.vm.config import VMConfig
from desktop.vm.machine import VMManager
from desktop.vm.paths import VMPaths
from tests.ui.conftest import aloop, await_  # noqa: F401 - the qasync fixtures

NOWHERE = "unix:///nonexistent/pilothouse-test/docker.sock"


@pytest.fixture
def vm_files(tmp_path: Path) -> VMPaths:
    return VMPaths(state_dir=tmp_path / "state", image_dir=tmp_path / "image-cache",
                   docker_config_dir=tmp_path / "docker-config")


@pytest.fixture
def no_engine_app(qtbot, aloop, await_, vm_files):  # noqa: F811
    made = []

    def make() -> Pilothouse:
        manager = VMManager(VMConfig(cpus=1, memory_mib=1024, disk_gib=4, shares=()), vm_files)
        ph = Pilothouse([Endpoint(NOWHERE, "--host")], vm=manager)
        ph.window.resize(1100, 700)
        ph.window.show()
        ph.start()
        made.append(ph)
        qtbot.waitUntil(lambda: ph.window.body.currentWidget() is ph.window.no_engine, timeout=15000)
        return ph

    yield make
    for ph in made:
        await_(ph.aclose(), timeout=60)
        ph.window.close()
        ph.window.deleteLater()


QEMU_TOOLS = {name: shutil.which(name) for name in ("qemu-system-x86_64", "qemu-img")}


def _link_tools(into: Path, names: tuple[str, ...]) -> None:
    for name in names:
        (into / name).symlink_to(QEMU_TOOLS[name])


@pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None or shutil.which("qemu-img") is None,
                    reason="needs QEMU installed, to install it into a PATH folder during the test")
def test_missing_qemu_shows_the_command_then_notices_the_install(no_engine_app, qtbot, monkeypatch, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.delenv("PILOTHOUSE_QEMU", raising=False)
    monkeypatch.setenv("PATH", str(bin_dir))
    ph = no_engine_app()
    click = ph.vm.one_click
    qtbot.waitUntil(lambda: click.checks >= 1, timeout=10000)
    assert not click.start_button.isEnabled()
    assert click.problem.isVisible()
    text = click.problem.text()
    assert "QEMU is not installed" in text and "qemu-system-x86_64" in text
    assert "sudo apt-get install qemu-system-x86 qemu-utils" in text
    assert str(bin_dir) in click._watcher.directories()
    click.copy_button.click()
    from PySide6.QtWidgets import QApplication
    assert QApplication.clipboard().text() == "sudo apt-get install qemu-system-x86 qemu-utils"

    # "Install" QEMU into a PATH folder: the page notices through the folder watch alone.
    checks = click.checks
    _link_tools(bin_dir, ("qemu-system-x86_64",))
    qtbot.waitUntil(lambda: click.checks > checks, timeout=10000)
    assert not click.start_button.isEnabled() and "qemu-img" in click.problem.text()
    checks = click.checks
    _link_tools(bin_dir, ("qemu-img",))
    qtbot.waitUntil(lambda: click.start_button.isEnabled(), timeout=10000)
    assert click.checks > checks
    assert not click.problem.isVisible()
    assert click.start_button.isDefault(), "starting the VM is the page's main action"


@pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None or shutil.which("apt-get") is None,
                    reason="needs QEMU and the image builder's tools")
def test_cancel_stops_the_image_build_and_keeps_nothing(no_engine_app, qtbot, vm_files):
    before = set(Path(tempfile.gettempdir()).glob("pilothouse-vm-build-*"))
    ph = no_engine_app()
    click = ph.vm.one_click
    qtbot.waitUntil(click.start_button.isEnabled, timeout=10000)
    qtbot.mouseClick(click.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: click.cancel_button.isVisible() and click.progress.isVisible(), timeout=5000)
    # Cancel once the build itself is under way (its first own line has arrived).
    qtbot.waitUntil(lambda: "VM image:" in click.step_label.text() and "building it" not in click.step_label.text(),
                    timeout=120000)
    qtbot.mouseClick(click.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: click.step_label.text().startswith("Cancelled"), timeout=60000)
    assert not click.cancel_button.isVisible()
    assert click.start_button.isEnabled(), "a cancelled start can be started again"
    cache = vm_files.image_dir
    assert not cache.exists() or not any((cache / f).exists() for f in ("vmlinuz", "initramfs.img", "manifest.json"))
    assert set(Path(tempfile.gettempdir()).glob("pilothouse-vm-build-*")) == before, "no half-made build left"
    assert ph.vm.control.manager.status().state == "stopped"
    assert ph.window.body.currentWidget() is ph.window.no_engine
