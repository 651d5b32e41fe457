"""The VM in the app: listed as an engine once running, its panel's state and console, and its
loss and return shown when it restarts (real QEMU under TCG)."""

from __future__ import annotations

import docker
import pytest
from PySide6.QtCore import Qt

from desktop.app import Pilothouse
from desktop.engine.endpoints import Endpoint
from desktop.state.connection import CONNECTED, RECONNECTING
from desktop.presentation.container_columns import COL_ENGINE
from tests.harness.private_engine import TEST_IMAGE
from tests.ui.conftest import aloop, await_  # noqa: F401 - the qasync fixtures

# A restart under TCG waits up to 4 min for the VM on a loaded machine, beyond the default 300 s.
pytestmark = [pytest.mark.vm, pytest.mark.timeout(900)]


def test_vm_engine_panel_and_restart(vm, vm_api: docker.APIClient, engine_host, qtbot, await_, run_id):  # noqa: F811
    cid = vm_api.create_container(TEST_IMAGE, command=["sleep", "3600"], name=f"in-vm-{run_id}")["Id"]
    ph = Pilothouse([Endpoint(engine_host, "--host")], vm=vm)
    ph.window.show()
    ph.start()
    try:
        await_(ph.first_load(timeout=60))
        ph.settings.update(vm_cpus=vm.config.cpus, vm_memory_mib=vm.config.memory_mib,
                           vm_disk_gib=vm.config.disk_gib)
        # The running VM becomes an engine of its own, rows tagged with it.
        await_(ph.vm.control.ensure_session())
        session = ph.engines.get("pilothouse")
        qtbot.waitUntil(lambda: session.status.current.state == CONNECTED and session.status.current.loaded,
                        timeout=60000)
        page = ph.containers.page
        qtbot.waitUntil(lambda: page.proxy_index_of(cid).isValid(), timeout=10000)
        assert page.proxy_index_of(cid, COL_ENGINE).data() == "pilothouse"

        # The panel says what runs, with which accelerator and why, and shows the console.
        ph.window.show_page("vm")
        panel = ph.vm.panel
        qtbot.waitUntil(lambda: panel.state_label.text().startswith("Running"), timeout=10000)
        assert panel.accel_label.text() and "127.0.0.1" in panel.endpoint_label.text()
        qtbot.waitUntil(lambda: bool(panel.console.toPlainText()), timeout=10000)
        # Its figures: QEMU's CPU (from the second reading on) and memory, the data disk's use.
        qtbot.waitUntil(lambda: panel.usage.figures is not None and panel.usage.figures.cpu_percent is not None,
                        timeout=10000)
        fig = panel.usage.figures
        assert fig.memory > 64 << 20 and 0 < fig.disk_used and fig.disk_size == 8 << 30
        assert panel.usage.label.text().startswith("CPU ") and "of 8.0 GiB" in panel.usage.label.text()
        qtbot.waitUntil(lambda: panel.image_box.status is not None, timeout=10000)
        assert panel.image_box.status.state == "current"

        # Stop from the panel saves the VM; Start resumes it: the engine is shown lost, then back,
        # and the panel says the state was resumed.
        states = []
        session.status.changed.connect(lambda st: states.append(st.state))
        qtbot.mouseClick(panel.buttons["stop"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: RECONNECTING in states, timeout=120000)
        qtbot.waitUntil(lambda: not ph.vm.control.busy, timeout=240000)
        # The panel's last read is the one after the action ended (a read made while it ran may
        # already say "state saved" with every button still disabled).
        qtbot.waitUntil(lambda: panel.buttons["start"].isEnabled(), timeout=20000)
        assert "state saved" in panel.state_label.text() and not panel.buttons["shutdown"].isEnabled()
        qtbot.mouseClick(panel.buttons["start"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: vm.status().state == "running" and not ph.vm.control.busy, timeout=240000)
        assert vm.status().start_note == "resumed the saved state"
        assert ph.engines.get("pilothouse") is session  # same port, same engine entry
        qtbot.waitUntil(lambda: states[-1] == CONNECTED and session.status.current.loaded, timeout=60000)
        qtbot.waitUntil(lambda: panel.state_label.text().startswith("Running"), timeout=20000)
        assert "resumed the saved state" in panel.state_label.text()
        assert vm.status().state == "running"
        assert page.proxy_index_of(cid).isValid()
    finally:
        await_(ph.aclose(), timeout=60)
        ph.window.close()
        ph.window.deleteLater()
        try:
            vm_api.remove_container(cid, force=True)
        except docker.errors.APIError:
            pass
