"""Sleep and wake of the real VM (QEMU under TCG here), on the session VM: an idle VM sleeps
with an events stream open through the engine port, the first request wakes it, the guest clock
is right afterwards, a running container keeps it awake, its free memory goes back to the host,
and the app shows "sleeping" in the VM panel, footer and tray and wakes it in one click.

The idle time is a setting (a few seconds here); the tests wait on the helper's own state,
never for a fixed time, except where time passing while asleep is the thing tested.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time

import docker
import psutil
import pytest
from PySide6.QtCore import Qt

from desktop.vm import sleep_control
from desktop.vm.machine import VMManager
from desktop.vm.qmp_control import qmp_command
from tests.harness.private_engine import TEST_IMAGE
from tests.ui.conftest import aloop, await_  # noqa: F401 - the qasync fixtures
from tests.vm.test_vm_lifecycle import wait_until

pytestmark = [pytest.mark.vm, pytest.mark.timeout(900)]

IDLE_S = 2.0


def helper_state(vm: VMManager) -> dict:
    return sleep_control.request(vm.paths.helper_socket, "status")["state"]


def run_status(vm: VMManager) -> str:
    return asyncio.run(qmp_command(vm.paths.qmp_socket, "query-status"))["status"]


def run_output(api: docker.APIClient, command: list[str], remove: bool = True) -> str:
    c = api.create_container(TEST_IMAGE, command)
    try:
        api.start(c)
        assert api.wait(c, timeout=300)["StatusCode"] == 0, api.logs(c).decode()
        return api.logs(c).decode().strip()
    finally:
        if remove:
            api.remove_container(c, force=True)


@pytest.fixture
def sleepy(vm: VMManager, vm_api: docker.APIClient):
    """The session VM with a short idle time; back to never sleeping, awake, afterwards."""
    vm.set_sleep_after(IDLE_S)
    yield vm
    vm.set_sleep_after(0)
    asyncio.run(vm.wake())


def _events_in_thread(api: docker.APIClient) -> tuple[queue.Queue, object]:
    stream = api.events(decode=True)
    q: queue.Queue = queue.Queue()

    def pump():
        try:
            for ev in stream:
                q.put(ev)
        except Exception as e:  # noqa: BLE001 - closed at the end of the test
            q.put(e)

    threading.Thread(target=pump, daemon=True).start()
    return q, stream


def test_idle_vm_sleeps_with_an_events_stream_open_and_the_first_request_wakes_it(sleepy: VMManager):
    vm = sleepy
    uptime_before = float(run_output(vm.api_client(timeout=300), ["cut", "-d", " ", "-f1", "/proc/uptime"]))
    host_before = time.monotonic()
    # An events stream through the engine port, as Pilothouse keeps one: not activity.
    events_api = vm.api_client(timeout=None)
    events, stream = _events_in_thread(events_api)
    try:
        wait_until(lambda: vm.status().sleeping, 180, "the idle VM to sleep")
        assert run_status(vm) == "paused"
        assert helper_state(vm)["last_sleep"]["reason"] == "idle"
        asleep_at = time.monotonic()
        asleep_cpu = psutil.Process(vm.status().pid).cpu_times()
        time.sleep(10)  # time passing while asleep is what the clock check below is about
        after = psutil.Process(vm.status().pid).cpu_times()
        print(f"QEMU CPU while asleep: {(after.user + after.system - asleep_cpu.user - asleep_cpu.system) / 10 * 100:.2f}% of a core")

        # The first request wakes it: an answer, slower, never an error. The container sees the
        # host's clock, though the guest's own clocks stood still while it slept.
        api = vm.api_client(timeout=300)
        asleep_s = time.monotonic() - asleep_at
        t0 = time.time()
        assert api.ping() is True
        print(f"first ping after the sleep: {time.time() - t0:.3f} s")
        host_t0 = time.time()
        out = run_output(api, ["sh", "-c", "date +%s; cut -d ' ' -f1 /proc/uptime"])
        host_t1 = time.time()
        guest_now, uptime_after = int(out.split()[0]), float(out.split()[1])
        assert int(host_t0) - 1 <= guest_now <= int(host_t1) + 1, (host_t0, guest_now, host_t1)
        # The guest's uptime advanced by the awake time only. Measured from before the idle wait, so
        # the guest's own rate error (a few percent for a kernel that calibrated its clock on a busy
        # host) over the awake part is in it: half the time seen asleep is the bound, not all of it.
        slept = time.monotonic() - host_before - (uptime_after - uptime_before)
        assert slept >= asleep_s / 2, \
            f"the guest's clocks should have stood still while asleep ({slept:.1f} s of {asleep_s:.1f} s)"
        assert not vm.status().sleeping and run_status(vm) == "running"

        # The events stream came through the sleep: it carries the new container's events.
        def got_create():
            while True:
                ev = events.get(timeout=60)
                assert not isinstance(ev, Exception), ev
                if ev.get("Action") == "create":
                    return True

        assert got_create()
    finally:
        stream.close()
        events_api.close()


def test_a_running_container_keeps_the_vm_awake(sleepy: VMManager, vm_api: docker.APIClient):
    vm = sleepy
    vm.set_sleep_after(0)
    asyncio.run(vm.wake())
    c = vm_api.create_container(TEST_IMAGE, ["sleep", "3600"], stop_signal="SIGKILL")
    vm_api.start(c)
    try:
        vm.set_sleep_after(IDLE_S)
        wait_until(lambda: helper_state(vm)["running_containers"] == 1, 60, "the helper to count the container")
        # Idle (no engine traffic) for longer than the idle time: still awake.
        wait_until(lambda: helper_state(vm)["idle_s"] > IDLE_S * 2, 60, "an idle period")
        assert not vm.status().sleeping and helper_state(vm)["sleeps_in_s"] is None
    finally:
        vm_api.remove_container(c, force=True)
    wait_until(lambda: vm.status().sleeping, 180, "the VM to sleep once the container is gone")


def test_sleep_returns_the_memory_the_guest_touched(vm: VMManager, vm_api: docker.APIClient):
    qemu = psutil.Process(vm.status().pid)
    base = qemu.memory_info().rss
    touched = 256
    # Page cache stays after the container that read the data has exited (so nothing runs):
    # here the data disk's blocks, read through the page cache (unwritten qcow2 clusters read
    # fast; writing a file under TCG took minutes here).
    c = vm_api.create_container(TEST_IMAGE, ["dd", "if=/dev/vda", "of=/dev/null", "bs=1M", f"count={touched}"],
                                host_config=vm_api.create_host_config(privileged=True))
    try:
        vm_api.start(c)
        assert vm_api.wait(c, timeout=300)["StatusCode"] == 0
        peak = qemu.memory_info().rss
        assert asyncio.run(vm.sleep_now()).sleeping
        after = qemu.memory_info().rss
        print(f"QEMU RSS: idle {base >> 20} MiB, after touching {touched} MiB {peak >> 20} MiB, asleep {after >> 20} MiB")
        assert peak - after >= 0.7 * (touched << 20), "at least 70% of the touched memory should go back"
    finally:
        asyncio.run(vm.wake())
        vm_api.remove_container(c, force=True)


def test_app_shows_sleeping_and_wakes_the_vm_in_one_click(vm, vm_api, engine_host, qtbot, await_):  # noqa: F811
    from desktop.app import Pilothouse
    from desktop.engine.endpoints import Endpoint
    from desktop.state.connection import CONNECTED

    ph = Pilothouse([Endpoint(engine_host, "--host")], vm=vm)
    ph.window.show()
    ph.start()
    try:
        await_(ph.first_load(timeout=60))
        await_(ph.vm.control.ensure_session())
        session = ph.engines.get("pilothouse")
        # Generous: on a loaded 2-core host under TCG the first list took over two minutes once.
        qtbot.waitUntil(lambda: session.status.current.state == CONNECTED and session.status.current.loaded,
                        timeout=300000)
        states = []
        session.status.changed.connect(lambda st: states.append(st.state))
        ph.window.select_engine("pilothouse")
        ph.window.show_page("vm")
        panel, footer = ph.vm.panel, ph.monitoring.engine_footer
        # The app's events stream and resync hooks are quiet now: the setting sends the VM to sleep.
        # The setting reaches the running VM at once; then the same path with seconds, to keep
        # the test short.
        ph.settings.update(vm_sleep_minutes=1)
        qtbot.waitUntil(lambda: helper_state(vm)["sleep_after_s"] == 60, timeout=20000)
        vm.set_sleep_after(IDLE_S)
        qtbot.waitUntil(lambda: panel.state_label.text().startswith("Sleeping"), timeout=180000)
        qtbot.waitUntil(lambda: "sleeping" in footer.text(), timeout=10000)
        assert panel.buttons["wake"].isEnabled()
        tray = ph.desk.tray
        tray.rebuild()
        wake = tray.action_in(tray.menu, "trayVmWake")
        assert wake is not None and "VM: sleeping" in [a.text() for a in tray.menu.actions()]
        vm.set_sleep_after(0)
        qtbot.mouseClick(panel.buttons["wake"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.state_label.text().startswith("Running"), timeout=60000)
        qtbot.waitUntil(lambda: "sleeping" not in footer.text(), timeout=10000)
        assert not vm.status().sleeping
        # The engine was never lost: its events stream lived through the sleep, and still works.
        cid = vm_api.create_container(TEST_IMAGE, ["true"])["Id"]
        try:
            qtbot.waitUntil(lambda: ph.containers.page.proxy_index_of(cid).isValid(), timeout=60000)
        finally:
            vm_api.remove_container(cid, force=True)
        assert "reconnecting" not in states and session.status.current.state == CONNECTED
    finally:
        vm.set_sleep_after(0)
        await_(vm.wake())
        await_(ph.aclose(), timeout=60)
        ph.window.close()
        ph.window.deleteLater()
