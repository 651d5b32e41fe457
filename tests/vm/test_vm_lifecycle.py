"""The bundled VM for real: QEMU (TCG in CI), dockerd over mutual TLS, ports, shares, restarts.

Tests run in file order on one session VM; the last ones restart, kill and stop it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
import socket
import ssl
import stat
import time
import urllib.request
import uuid
from pathlib import Path

import docker
import psutil
import pytest
import requests

from desktop.vm import image_build
from desktop.vm.machine import VMAlreadyRunning, VMImageOutdated, VMManager
from tests.harness.private_engine import TEST_IMAGE

pytestmark = [pytest.mark.vm, pytest.mark.timeout(600)]


def wait_until(check, timeout: float, what: str):
    """Poll a condition until it holds or the deadline passes (the guest gives no signal)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as e:  # noqa: BLE001 - keep the last failure for the message
            last = e
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last!r})")


def _port(vm: VMManager) -> int:
    return int(vm.status().docker_host.rsplit(":", 1)[1])


def _fetch(port: int) -> str:
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f"http://127.0.0.1:{port}/", timeout=3) as r:
        return r.read().decode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_engine_answers_over_mutual_tls(vm: VMManager):
    st = vm.status()
    assert st.state == "running"
    assert st.docker_host.startswith("tcp://127.0.0.1:")
    assert st.accelerator and st.accelerator_reason
    api = vm.api_client()
    try:
        assert api.ping() is True
        assert api.version()["Os"] == "linux"
    finally:
        api.close()
    print(f"accelerator: {st.accelerator} ({st.accelerator_reason})")


def test_qemu_listens_on_loopback_only(vm: VMManager):
    listening = [c.laddr for c in psutil.Process(vm.status().pid).net_connections("inet") if c.status == psutil.CONN_LISTEN]
    assert listening, "QEMU should forward the engine port"
    assert all(addr.ip == "127.0.0.1" for addr in listening), listening


def test_connection_without_client_certificate_is_refused(vm: VMManager):
    ctx = ssl.create_default_context(cafile=vm.status().tls_ca)
    ctx.check_hostname = False
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        with socket.create_connection(("127.0.0.1", _port(vm)), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(b"GET /_ping HTTP/1.1\r\nHost: localhost\r\n\r\n")
                data = tls.recv(100)
                if not data:
                    raise ConnectionError("closed without an answer")
                raise AssertionError(f"answered without a client certificate: {data!r}")
    # Plain HTTP is not answered either.
    with socket.create_connection(("127.0.0.1", _port(vm)), timeout=10) as raw:
        raw.sendall(b"GET /_ping HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert b"OK" not in raw.recv(200)


def test_private_keys_are_0600_and_context_written(vm: VMManager):
    st = vm.status()
    for key in Path(st.tls_key).parent.glob("*key.pem"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    assert stat.S_IMODE(Path(st.tls_key).parent.stat().st_mode) == 0o700
    metas = list((vm.paths.docker_config_dir / "contexts" / "meta").glob("*/meta.json"))
    assert len(metas) == 1
    meta = json.loads(metas[0].read_text())
    assert meta["Name"] == "pilothouse"
    assert meta["Endpoints"]["docker"]["Host"] == st.docker_host


def test_published_port_reaches_host_loopback_and_goes_away(vm: VMManager, vm_api: docker.APIClient):
    port = _free_port()
    c = vm_api.create_container(TEST_IMAGE, ["httpd", "-f", "-p", "80", "-h", "/var/www"], ports=[80],
                                host_config=vm_api.create_host_config(port_bindings={80: port}), stop_signal="SIGKILL")
    vm_api.start(c)
    try:
        body = wait_until(lambda: _fetch(port), 60, f"http://127.0.0.1:{port}/ through the VM")
        assert "pilothouse test page" in body
        forwards = json.loads((vm.paths.state_dir / "forwards.json").read_text())["forwards"]
        assert f"tcp/{port}" in forwards
    finally:
        vm_api.remove_container(c, force=True)
    wait_until(lambda: f"tcp/{port}" not in json.loads((vm.paths.state_dir / "forwards.json").read_text())["forwards"],
               30, "the forward to be removed")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_bind_mount_of_host_folder(vm_api: docker.APIClient, shared_dir: Path):
    token = uuid.uuid4().hex
    (shared_dir / "from-host.txt").write_text(token)
    c = vm_api.create_container(TEST_IMAGE, ["sh", "-c", "cat /app/from-host.txt; echo back > /app/from-vm.txt"],
                                host_config=vm_api.create_host_config(binds=[f"{shared_dir}:/app"]))
    try:
        vm_api.start(c)
        assert vm_api.wait(c, timeout=60)["StatusCode"] == 0
        assert token in vm_api.logs(c).decode()
    finally:
        vm_api.remove_container(c, force=True)
    assert (shared_dir / "from-vm.txt").read_text().strip() == "back"


def _run_output(api: docker.APIClient, command: list[str], **host_config) -> str:
    runtime = host_config.pop("runtime", None)
    c = api.create_container(TEST_IMAGE, command, host_config=api.create_host_config(runtime=runtime, **host_config))
    try:
        api.start(c)
        assert api.wait(c, timeout=60)["StatusCode"] == 0, api.logs(c).decode()
        return api.logs(c).decode().strip()
    finally:
        api.remove_container(c, force=True)


def test_crun_is_the_runtime_runc_stays_available_and_containers_keep_aslr(vm: VMManager, vm_api: docker.APIClient):
    assert vm_api.info()["DefaultRuntime"] == "crun"
    assert _run_output(vm_api, ["echo", "via-runc"], runtime="runc") == "via-runc"
    # Containers keep address-space randomisation (personality 0), for their first process and
    # for `docker exec`; under TCG dockerd and crun run without it (ADDR_NO_RANDOMIZE =
    # 0x0040000), to keep QEMU's translated code reusable.
    assert int(_run_output(vm_api, ["cat", "/proc/self/personality"]), 16) == 0
    c = vm_api.create_container(TEST_IMAGE, ["sleep", "60"])
    try:
        vm_api.start(c)
        ex = vm_api.exec_create(c, ["cat", "/proc/self/personality"])
        assert int(vm_api.exec_start(ex).decode().strip(), 16) == 0
    finally:
        vm_api.remove_container(c, force=True)
    dockerd = int(_run_output(vm_api, ["sh", "-c", "cat /proc/$(pidof dockerd)/personality"], pid_mode="host",
                              cap_add=["SYS_PTRACE"]), 16)
    assert bool(dockerd & 0x0040000) == (vm.status().accelerator == "tcg")
    assert int(_run_output(vm_api, ["cat", "/proc/sys/kernel/randomize_va_space"]), 10) == 2


def test_second_vm_on_same_data_disk_is_refused(vm: VMManager):
    other = VMManager(vm.config, vm.paths)
    with pytest.raises(VMAlreadyRunning):
        asyncio.run(other.start())
    assert vm.status().state == "running"


def test_dockerd_is_restarted_when_it_crashes(vm: VMManager, vm_api: docker.APIClient):
    before = vm_api.info()["SystemTime"]
    killer = vm_api.create_container(TEST_IMAGE, ["sh", "-c", "kill -9 $(pidof dockerd)"],
                                     host_config=vm_api.create_host_config(privileged=True, pid_mode="host"))
    try:
        vm_api.start(killer)
    except requests.exceptions.ConnectionError:
        pass  # dockerd died before it could answer: that is the point
    wait_until(lambda: any("dockerd exited" in line for line in vm.console_tail(20)), 60, "init to notice dockerd died")

    def engine_back() -> bool:
        api = vm.api_client(timeout=10)
        try:
            return api.ping()
        finally:
            api.close()

    wait_until(engine_back, 120, "dockerd to be back")
    assert vm_api.info()["SystemTime"] != before
    vm_api.remove_container(killer, force=True)
    assert vm.status().state == "running"


def test_image_and_volume_survive_restart_and_image_update(vm: VMManager, vm_api: docker.APIClient, tmp_path: Path):
    """The restart here goes through an image update: an older image is refused with the offer,
    updated by the builder, and the VM boots from it with its data disk as it was."""
    token = uuid.uuid4().hex
    vm_api.create_volume("pht-keep")
    c = vm_api.create_container(TEST_IMAGE, ["sh", "-c", f"echo {token} > /data/token"],
                                host_config=vm_api.create_host_config(binds=["pht-keep:/data"]))
    vm_api.start(c)
    assert vm_api.wait(c, timeout=60)["StatusCode"] == 0
    vm_api.remove_container(c)

    asyncio.run(vm.stop(shutdown=True))  # a cold boot from the updated image (a saved state would resume)
    old = tmp_path / "image"
    shutil.copytree(vm.paths.image_dir, old)
    manifest = json.loads((old / "manifest.json").read_text())
    (old / "manifest.json").write_text(json.dumps({**manifest, "version": "4", "recipe": "older"}))
    updated = VMManager(vm.config, dataclasses.replace(vm.paths, image_dir=old))
    with pytest.raises(VMImageOutdated, match="version 4"):
        asyncio.run(updated.start())
    info = image_build.build_image(out_dir=old)
    assert info.version == image_build.expected_version() and updated.image_state().status == "current"
    # The session's manager boots the updated image, so it owns the QEMU child the next tests
    # kill and stop (another manager's child would leave it nothing to learn an exit status from).
    vm.paths = updated.paths
    asyncio.run(vm.start())
    assert vm.status().state == "running"

    api = vm.api_client(timeout=120)
    try:
        assert api.inspect_image(TEST_IMAGE)["Id"]
        c = api.create_container(TEST_IMAGE, ["cat", "/data/token"], host_config=api.create_host_config(binds=["pht-keep:/data"]))
        api.start(c)
        assert api.wait(c, timeout=60)["StatusCode"] == 0
        assert api.logs(c).decode().strip() == token
        api.remove_container(c)
    finally:
        api.close()


def test_killed_qemu_is_reported_as_crashed(vm: VMManager):
    pid = vm.status().pid
    psutil.Process(pid).kill()
    st = asyncio.run(asyncio.wait_for(vm.wait_until_exit(), 30))
    assert st.state == "crashed"
    assert "signal 9" in st.detail
    assert st.pid is None


@pytest.mark.vm_as_left  # the VM the previous test crashed
def test_start_after_crash_then_graceful_stop_leaves_no_qemu(vm: VMManager):
    asyncio.run(vm.start())
    pid = vm.status().pid
    assert vm.api_client().ping()
    st = asyncio.run(vm.stop(timeout=60, shutdown=True))
    assert st.state == "stopped" and not st.saved
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert any("power off" in line for line in vm.console_tail(10)), "the guest should power itself off"
    assert not [p for p in psutil.process_iter(["cmdline"]) if str(vm.paths.data_disk) in " ".join(p.info["cmdline"] or [])]
