"""The WSL 2 root filesystem's own init, in the nearest thing to a WSL distribution that runs on
Linux: the tarball imported with `docker import` and run in a privileged container on the test
engine, with the TLS material handed over on stdin as on Windows. It must serve the Docker API over
mutual TLS only, and run the test image. (Windows itself was not tried.)"""

from __future__ import annotations

import socket
import ssl
import tarfile
import time
from pathlib import Path

import docker
import pytest

from desktop.vm import cli as vm_cli
from desktop.vm import engine_access, wsl
from desktop.vm.tls import ensure_certificates
from desktop.vm.wsl_rootfs import WSL_INIT
from tests.harness.private_engine import TEST_IMAGE

pytestmark = [pytest.mark.vm, pytest.mark.timeout(900)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, timeout: float, what: str, logs=lambda: ""):
    """Poll until check() is true (the engine inside gives no signal we could wait on)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as e:  # noqa: BLE001 - keep the last failure for the message
            last = e
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last!r})\n{logs()}")


def _create_with_stdin(api: docker.APIClient, name: str, image: str, **kwargs) -> str:
    """A container whose stdin is open until the first attached writer closes it, as wsl.exe's is."""
    config = api.create_container_config(image, stdin_open=True, **kwargs)
    config["StdinOnce"] = True
    return api.create_container_from_config(config, name)["Id"]


# Linux capability names by bit number (linux/capability.h), as docker's --cap-drop takes them.
CAPS = ("CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE "
        "NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT "
        "SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE "
        "AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ "
        "PERFMON BPF CHECKPOINT_RESTORE").split()


def _host_can_run_privileged() -> bool:
    # `--privileged` asks runc for every capability; a host whose own bounding set lacks one
    # (some sandboxes drop CAP_SYS_RESOURCE) refuses with "unable to apply caps".
    with open("/proc/self/status") as f:
        bnd = int(next(line for line in f if line.startswith("CapBnd:")).split()[1], 16)
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    return bnd & ((1 << (last + 1)) - 1) == (1 << (last + 1)) - 1


def _privileged(api: docker.APIClient, **kwargs) -> dict:
    """A privileged container, or where this host cannot start one, the nearest it allows: every
    capability the host has, no seccomp or AppArmor filter, and the cgroup tree writable."""
    if _host_can_run_privileged():
        return api.create_host_config(privileged=True, **kwargs)
    with open("/proc/self/status") as f:
        bnd = int(next(line for line in f if line.startswith("CapBnd:")).split()[1], 16)
    missing = [name for bit, name in enumerate(CAPS) if not bnd >> bit & 1]
    print(f"this host cannot start privileged containers (its bounding set lacks {', '.join(missing)}): "
          "running with every capability it has instead")
    return api.create_host_config(cap_add=["ALL"], cap_drop=missing,
                                  security_opt=["seccomp=unconfined", "apparmor=unconfined"],
                                  binds=["/sys/fs/cgroup:/sys/fs/cgroup:rw"], **kwargs)


@pytest.fixture(scope="module")
def rootfs(vm_image_dir: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wsl") / "pilothouse-wsl.tar"
    assert vm_cli.main(["build", "--wsl-rootfs", str(out)]) == 0
    return out


def test_rootfs_holds_the_init_and_no_secret(rootfs: Path):
    with tarfile.open(rootfs) as tar:
        names = set(tar.getnames())
        init = tar.getmember(WSL_INIT)
        assert init.mode & 0o111 and init.uid == 0
        assert {"usr/bin/dockerd", "usr/bin/containerd", "usr/bin/crun", "etc/wsl.conf"} <= names
        assert not any(n.startswith("usr/lib/modules/") for n in names), "WSL brings its own kernel"
        assert "init" not in names and "etc/resolv.conf" not in names
        conf = tar.extractfile("etc/wsl.conf").read().decode()
        assert "root = /mnt/" in conf
        # No PEM file anywhere (binaries mention "PRIVATE KEY"; a key or certificate file starts so).
        pem = [m.name for m in tar.getmembers() if m.isfile() and tar.extractfile(m).read(11) == b"-----BEGIN "]
        assert pem == [], "TLS material is handed over at start, never shipped in the tarball"
        assert not any("tls" in n.split("/") for n in names)


def test_init_serves_mutual_tls_and_runs_the_test_image(rootfs: Path, docker_api: docker.APIClient, test_image: str,
                                                        tmp_path: Path, run_id: str):
    tls = ensure_certificates(tmp_path / "tls")
    repo = f"pilothouse-test/wsl-rootfs-{run_id}"
    docker_api.import_image(src=str(rootfs), repository=repo, tag="latest")
    port = _free_port()
    cid = _create_with_stdin(
        docker_api, f"wsl-rootfs-{run_id}", f"{repo}:latest", command=["/" + WSL_INIT, "--listen", "0.0.0.0:2376"],
        ports=[2376], volumes=["/var/lib/docker"],
        host_config=_privileged(docker_api, port_bindings={2376: ("127.0.0.1", port)}))
    inner = None
    logs = lambda: docker_api.logs(cid).decode(errors="replace")[-3000:]  # noqa: E731
    try:
        # The TLS material goes in on stdin, exactly as WslEngine hands it to wsl.exe.
        sock = docker_api.attach_socket(cid, params={"stdin": 1, "stream": 1})
        raw = getattr(sock, "_sock", sock)
        docker_api.start(cid)
        raw.sendall(wsl.tls_bundle(tls))
        raw.shutdown(socket.SHUT_WR)
        sock.close()

        inner = engine_access.api_client(port, tls, version="1.41", timeout=30)
        _wait(inner.ping, 180, "the engine inside to answer over mutual TLS", logs)
        assert "PILOTHOUSE-PHASE tls" in logs() and "PILOTHOUSE-PHASE containerd" in logs()

        # Without a client certificate, the engine does not answer.
        ctx = ssl.create_default_context(cafile=str(tls.ca_cert))
        ctx.check_hostname = False
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                with ctx.wrap_socket(conn, server_hostname="localhost") as t:
                    t.sendall(b"GET /_ping HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    if not t.recv(100):
                        raise ConnectionError("closed without an answer")
                    raise AssertionError("answered without a client certificate")
        # A client certificate from another CA is refused as well.
        other = ensure_certificates(tmp_path / "other-tls")
        stranger = engine_access.api_client(port, other, version="1.41", timeout=10)
        with pytest.raises(Exception):
            stranger.ping()
        stranger.close()

        # The key lives in a tmpfs for this start only, never in the distribution's disk.
        probe = docker_api.exec_create(cid, ["/usr/bin/busybox", "grep", "-q", "^[^ ]* /run tmpfs ", "/proc/mounts"])
        docker_api.exec_start(probe)
        assert docker_api.exec_inspect(probe)["ExitCode"] == 0

        # The test image runs inside.
        inner.load_image(b"".join(docker_api.get_image(TEST_IMAGE)))
        c = inner.create_container(TEST_IMAGE, command=["sh", "-c", "echo hello from the wsl engine"])["Id"]
        inner.start(c)
        assert inner.wait(c, timeout=120)["StatusCode"] == 0
        assert b"hello from the wsl engine" in inner.logs(c)

        # A clean stop: SIGTERM stops dockerd and containerd, and removes the TLS material.
        docker_api.stop(cid, timeout=40)
        assert "pilothouse-wsl-init: stopped" in logs()
    finally:
        if inner is not None:
            inner.close()
        docker_api.remove_container(cid, force=True, v=True)
        docker_api.remove_image(f"{repo}:latest", force=True)


def test_init_refuses_to_start_without_tls_material(rootfs: Path, docker_api: docker.APIClient, run_id: str):
    repo = f"pilothouse-test/wsl-rootfs-notls-{run_id}"
    docker_api.import_image(src=str(rootfs), repository=repo, tag="latest")
    cid = _create_with_stdin(docker_api, f"wsl-rootfs-notls-{run_id}", f"{repo}:latest", command=["/" + WSL_INIT],
                             host_config=_privileged(docker_api))
    try:
        sock = docker_api.attach_socket(cid, params={"stdin": 1, "stream": 1})
        docker_api.start(cid)
        raw = getattr(sock, "_sock", sock)
        raw.shutdown(socket.SHUT_WR)  # nothing on stdin
        sock.close()
        assert docker_api.wait(cid, timeout=60)["StatusCode"] == 1
        assert "the engine will not start without mutual TLS" in docker_api.logs(cid).decode()
    finally:
        docker_api.remove_container(cid, force=True, v=True)
        docker_api.remove_image(f"{repo}:latest", force=True)
