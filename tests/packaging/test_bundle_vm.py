"""A bundled app starts the VM with no build and no download: the frozen executable, as a new user
(fresh home and XDG folders, empty cache, no engine), finds the image it carries, boots it (TCG
here), serves the engine over mutual TLS to the docker CLI's `pilothouse` context, runs the test
image, and stops. As root it runs in a network namespace of its own with only loopback, so any
download would fail."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import docker
import psutil
import pytest

from desktop.vm.paths import host_arch
from tests.harness.private_engine import TEST_IMAGE
from tests.packaging.conftest import Bundle, frozen_env

pytestmark = [pytest.mark.packaging, pytest.mark.vm, pytest.mark.timeout(1800)]

# A TLS client that trusts the VM's CA, with the client certificate and key given after it or
# without: the engine must refuse it without (TLS 1.3 reports that at the first read).
TLS_CLIENT = """
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.check_hostname = False
if len(sys.argv) > 3:
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
try:
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), 30)) as s:
        s.sendall(b"GET /_ping HTTP/1.0\\r\\n\\r\\n")
        reply = s.recv(200)
    print("answered" if reply.startswith(b"HTTP/") else "refused: closed", reply[:60])
except ssl.SSLError as e:
    print("refused:", e)
"""

BOOT_TIMEOUT = 1200  # s: under TCG on a loaded 2-core machine a boot took over 300 s


class Sandbox:
    """The new user's folders, and a loopback-only network namespace when this user may make one."""

    def __init__(self) -> None:
        # Short: the VM's unix sockets live under the data folder (sun_path holds 107 bytes).
        self.home = Path(tempfile.mkdtemp(prefix="ph-b-"))
        self.dirs = {"HOME": self.home, "XDG_CONFIG_HOME": self.home / ".config", "XDG_CACHE_HOME": self.home / ".cache",
                     "XDG_DATA_HOME": self.home / ".local/share", "XDG_STATE_HOME": self.home / ".local/state"}
        for d in self.dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        self.netns = None
        if os.geteuid() == 0 and shutil.which("ip"):
            name = f"phb{uuid.uuid4().hex[:8]}"
            if subprocess.run(["ip", "netns", "add", name], timeout=30).returncode == 0:
                self.netns = name
                subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True, timeout=30)
                routes = subprocess.run(["ip", "-n", name, "route", "show"], capture_output=True, text=True, timeout=30)
                assert routes.stdout.strip() == "", f"the namespace {name} has routes: {routes.stdout}"

    @property
    def state_dir(self) -> Path:
        return self.dirs["XDG_DATA_HOME"] / "pilothouse" / "vm" / "default"

    def run(self, argv: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
        wrap = ["ip", "netns", "exec", self.netns] if self.netns else []
        res = subprocess.run([*wrap, *argv], capture_output=True, text=True, timeout=timeout, env=env,
                             stdin=subprocess.DEVNULL)
        print(f"$ {' '.join(argv)}\n{res.stdout}{res.stderr}", flush=True)
        return res

    def app_env(self, **extra: str) -> dict[str, str]:
        return frozen_env(**{k: str(v) for k, v in self.dirs.items()}, **extra)

    def cli_env(self) -> dict[str, str]:
        """The docker CLI as the new user runs it: its config in ~/.docker, no DOCKER_HOST."""
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home)}

    def close(self) -> None:
        if self.netns:
            subprocess.run(["ip", "netns", "del", self.netns], timeout=30, check=False)
        shutil.rmtree(self.home, ignore_errors=True)


@pytest.fixture
def sandbox():
    if shutil.which(f"qemu-system-{host_arch()}") is None:
        pytest.skip("QEMU not installed (make test installs qemu-system-x86)")
    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is not installed (make test installs docker.io)")
    box = Sandbox()
    yield box
    box.close()


def _state(box: Sandbox) -> dict:
    return json.loads((box.state_dir / "state.json").read_text())


def _stop_leftovers(box: Sandbox, exe: Path) -> None:
    """A failed test must not leave its QEMU and helper running for the rest of the session."""
    try:
        st = _state(box)
    except (OSError, ValueError):
        return
    if st.get("pid") and psutil.pid_exists(st["pid"]):
        box.run([str(exe), "vm", "stop", "--shutdown"], box.app_env(), timeout=120)
    for pid in (st.get("pid"), st.get("helper_pid")):
        if not pid:  # psutil.Process(None) is this process
            continue
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass


def test_the_bundled_app_boots_its_own_image_with_no_build_and_no_download(
        pyinstaller_bundle: Bundle, sandbox: Sandbox, docker_api: docker.APIClient, test_image: str):
    exe, internal = pyinstaller_bundle.exe, pyinstaller_bundle.internal
    bundled = internal / "vm-image" / host_arch()
    print(f"network namespace: {sandbox.netns or 'none (not root): the host network is reachable'}")
    tar = sandbox.home.parent / f"{sandbox.home.name}-test-image.tar"
    tar.write_bytes(b"".join(docker_api.get_image(test_image)))
    try:
        # The CLI and the GUI both pick the image the bundle carries.
        image = sandbox.run([str(exe), "vm", "image"], sandbox.app_env(), timeout=60)
        assert image.returncode == 0 and "(bundled with this app)" in image.stdout, image.stdout + image.stderr
        shot = sandbox.home / "vm-page.png"
        gui = sandbox.run([str(exe), "--screenshot", str(shot), "--page", "vm"],
                          sandbox.app_env(DOCKER_HOST=f"unix://{sandbox.home}/no-engine-here.sock"), timeout=180)
        assert gui.returncode == 0, gui.stderr[-3000:]
        assert "VM image: Bundled with Pilothouse, version " in gui.stdout and "(current)" in gui.stdout, gui.stdout

        # Boot.
        start = sandbox.run([str(exe), "vm", "start", "--memory", "1024", "--timeout", str(BOOT_TIMEOUT)],
                            sandbox.app_env(), timeout=BOOT_TIMEOUT + 120)
        assert start.returncode == 0, start.stdout[-3000:] + start.stderr[-3000:]
        assert f"image: {bundled} (bundled with this app)" in start.stdout
        assert "engine ready at tcp://127.0.0.1:" in start.stdout
        st = _state(sandbox)
        qemu = psutil.Process(st["pid"])
        # QEMU booted the bundle's own kernel and initramfs ...
        cmdline = qemu.cmdline()
        assert cmdline[cmdline.index("-kernel") + 1] == str(bundled / "vmlinuz")
        assert cmdline[cmdline.index("-initrd") + 1] == str(bundled / "initramfs.img")
        # ... and the helper holding the engine port is the frozen executable itself ...
        helper = psutil.Process(st["helper_pid"])
        assert Path(helper.exe()) == exe.resolve()
        # ... while QEMU, a program of the host, runs with the host's library path, not the one
        # the bundle's bootloader set for its own children.
        paths = {"helper": helper.environ().get("LD_LIBRARY_PATH"), "QEMU": qemu.environ().get("LD_LIBRARY_PATH")}
        print(f"LD_LIBRARY_PATH: {paths}")
        assert str(internal) not in (paths["QEMU"] or "")

        status = sandbox.run([str(exe), "vm", "status"], sandbox.app_env(), timeout=60)
        assert status.returncode == 0 and "state:        running" in status.stdout, status.stdout

        # The docker CLI reaches the VM's engine through the context the app wrote, over mutual TLS.
        cli = sandbox.cli_env()
        version = sandbox.run(["docker", "--context", "pilothouse", "version", "--format", "{{.Server.Os}}"], cli, 120)
        assert version.returncode == 0 and version.stdout.strip() == "linux", version.stderr
        tls, port = sandbox.state_dir / "tls", str(st["docker_port"])
        with_cert = sandbox.run([sys.executable, "-c", TLS_CLIENT, port, str(tls / "ca.pem"), str(tls / "cert.pem"),
                                 str(tls / "key.pem")], cli, 60)
        assert with_cert.stdout.startswith("answered"), with_cert.stdout + with_cert.stderr
        no_cert = sandbox.run([sys.executable, "-c", TLS_CLIENT, port, str(tls / "ca.pem")], cli, 60)
        assert no_cert.stdout.startswith("refused"), "the engine answered without a client certificate"
        loaded = sandbox.run(["docker", "--context", "pilothouse", "load", "-i", str(tar)], cli, 300)
        assert loaded.returncode == 0, loaded.stderr
        ran = sandbox.run(["docker", "--context", "pilothouse", "run", "--rm", "--pull", "never", TEST_IMAGE,
                           "echo", "hello from the bundled VM"], cli, 300)
        assert ran.returncode == 0 and ran.stdout.strip() == "hello from the bundled VM", ran.stderr

        stop = sandbox.run([str(exe), "vm", "stop", "--shutdown"], sandbox.app_env(), timeout=180)
        assert stop.returncode == 0, stop.stdout + stop.stderr
        assert not psutil.pid_exists(st["pid"]) or psutil.Process(st["pid"]).status() == psutil.STATUS_ZOMBIE
        status = sandbox.run([str(exe), "vm", "status"], sandbox.app_env(), timeout=60)
        assert "state:        stopped" in status.stdout, status.stdout

        # Nothing was built or downloaded: no image and no package in the new user's cache.
        cache = sandbox.dirs["XDG_CACHE_HOME"] / "pilothouse"
        assert not (cache / "vm-image").exists() and not (cache / "vm-packages").exists(), sorted(cache.rglob("*"))
    finally:
        _stop_leftovers(sandbox, exe)
        tar.unlink(missing_ok=True)
