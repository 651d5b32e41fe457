"""The VM page with the VM stopped: what it says about the image (built here, version, size,
where), Build on a folder with no image (real builder, progress, Cancel leaves nothing behind),
a full build with the package cache warm, the disk line, and QEMU-like figures read from a real
process through psutil (the running VM's own figures are checked in tests/vm/test_vm_app.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from PySide6.QtCore import Qt

from desktop.app import Pilothouse
from desktop.engine.endpoints import Endpoint
from desktop.vm.config import VMConfig
from desktop.vm.image_build import expected_version
from desktop.vm.image_status import VMFigureSampler, disk_use, image_status
from desktop.vm.machine import VMManager
from desktop.vm.paths import VMPaths
from tests.vm.conftest import vm_image_dir  # noqa: F401 - the image, built by the run if need be


def make_app(engine_host, tmp_path, image_dir):
    vm = VMManager(VMConfig(cpus=1, memory_mib=1024, disk_gib=4, shares=()),
                   VMPaths(tmp_path / "state", image_dir, tmp_path / "docker-config"))
    ph = Pilothouse([Endpoint(engine_host, "--host")], vm=vm)
    ph.window.resize(1024, 640)
    ph.window.show()
    ph.start()
    return ph


@pytest.fixture
def vm_page(qtbot, aloop, await_, engine_host, test_image, tmp_path):
    made = []

    def make(image_dir: Path):
        ph = make_app(engine_host, tmp_path, image_dir)
        made.append(ph)
        await_(ph.first_load(timeout=30))
        ph.window.show_page("vm")
        box = ph.vm.panel.image_box
        qtbot.waitUntil(lambda: box.status is not None, timeout=10000)
        return ph, box

    yield make
    for ph in made:
        await_(ph.aclose(), timeout=120)
        ph.window.close()
        ph.window.deleteLater()


def test_the_image_built_here_is_described(vm_page, vm_image_dir, qtbot):  # noqa: F811
    ph, box = vm_page(vm_image_dir)
    st = image_status(vm_image_dir)
    assert st.origin == "built" and st.state == "current" and st.size > 10 << 20
    text = box.state_label.text()
    assert text.startswith(f"Built on this computer, version {st.version} (current), ")
    assert "MiB" in text and f"Linux {st.kernel}" in text
    assert box.where_label.text() == str(vm_image_dir) and box.where_label.toolTip() == str(vm_image_dir)
    assert box.build_button.text() == "Image is up to date" and not box.build_button.isEnabled()
    # stopped: no figures, and no data disk yet
    panel = ph.vm.panel
    qtbot.waitUntil(lambda: panel.usage.label.text() == "—", timeout=10000)
    assert panel.usage.figures is None


def test_build_with_progress_and_cancel_then_a_full_build(vm_page, vm_image_dir, qtbot, tmp_path):  # noqa: F811
    empty = tmp_path / "image-cache"
    ph, box = vm_page(empty)
    assert box.state_label.text().startswith(f"No image yet: Build makes version {expected_version()}")
    assert box.build_button.text() == "Build image" and box.build_button.isEnabled()

    # Build, then Cancel while it runs: the folder is as it was (nothing half-written).
    qtbot.mouseClick(box.build_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: box.progress.isVisible() and box.cancel_button.isVisible(), timeout=10000)
    assert not box.build_button.isEnabled()
    qtbot.waitUntil(lambda: box.progress_text.text() != "Starting the build…", timeout=60000)
    with qtbot.waitSignal(box.build_finished, timeout=60000) as sig:
        qtbot.mouseClick(box.cancel_button, Qt.MouseButton.LeftButton)
    assert sig.args[0] is False and "cancelled" in sig.args[1]
    assert box.message.text() == sig.args[1] and not box.progress.isVisible()
    assert image_status(empty).state == "missing" and not (empty / "manifest.json").exists()
    assert box.build_button.text() == "Build image" and box.build_button.isEnabled()

    # A whole build (the package cache is warm from the run's own image): the page says what it made.
    seen = []
    box.progress.valueChanged.connect(seen.append)
    with qtbot.waitSignal(box.build_finished, timeout=600000) as sig:
        qtbot.mouseClick(box.build_button, Qt.MouseButton.LeftButton)
    assert sig.args[0] is True, sig.args[1]
    assert sig.args[1] == f"The image is ready (version {expected_version()})."
    assert seen and max(seen) == 1000 and seen == sorted(seen)  # progress only goes forward
    assert image_status(empty).state == "current"
    assert box.state_label.text().startswith(f"Built on this computer, version {expected_version()} (current)")
    assert box.build_button.text() == "Image is up to date"


def test_figures_come_from_the_process_and_the_disk(tmp_path):
    qemu_img = "qemu-img"
    disk = tmp_path / "data.qcow2"
    try:
        subprocess.run([qemu_img, "create", "-q", "-f", "qcow2", str(disk), "4G"], check=True, timeout=30)
    except FileNotFoundError:
        pytest.skip("qemu-img not installed")
    used, size = disk_use(disk)
    assert size == 4 << 30 and 0 < used < 10 << 20
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        sampler = VMFigureSampler()
        first = sampler.sample(busy.pid, disk)
        assert first.cpu_percent is None and first.memory > 0  # CPU needs a second reading
        proc = psutil.Process(busy.pid)  # the second reading, once the child has used some CPU
        start = proc.cpu_times().user
        while proc.cpu_times().user - start < 0.2:
            pass
        second = sampler.sample(busy.pid, disk)
        assert second.cpu_percent is not None and second.cpu_percent > 0 and second.memory > 1 << 20
        assert (second.disk_used, second.disk_size) == (used, size)
    finally:
        busy.kill()
        busy.wait()
    assert sampler.sample(busy.pid, disk) is None  # gone: no figures
