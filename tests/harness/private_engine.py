"""A private dockerd for tests and benchmarks.

It lives entirely under one temporary folder (data-root, exec-root, pidfile, UNIX socket),
attaches containers to a bridge of its own and leaves iptables alone, so it never touches
/var/run/docker.sock, a user's engine, or another private engine running beside it.
Published ports still reach 127.0.0.1 through docker-proxy.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import docker

TEST_IMAGE = "pilothouse-test/busybox:latest"


class EngineStartError(RuntimeError):
    """The private dockerd did not come up."""


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateEngine:
    """One private dockerd under a temporary folder; start/stop/restart keep the same socket."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root or tempfile.mkdtemp(prefix="pilothouse-dockerd-"))
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o711)
        self.socket = self.root / "docker.sock"
        self.pidfile = self.root / "dockerd.pid"
        self.log_path = self.root / "dockerd.log"
        tag = hashlib.sha1(str(self.root).encode()).hexdigest()
        self.bridge = f"ph{tag[:8]}"
        # 172.30.0.0/16 split per engine; collisions are avoided by checking existing routes.
        self._subnet_octet = self._free_octet(int(tag[8:12], 16) % 250 + 2)
        self._proc: subprocess.Popen | None = None
        # The same engine also listens on 127.0.0.1 with mutual TLS (--tlsverify), so a test can
        # reach it as a tcp+TLS engine: certificates generated per engine, client files beside.
        self.tls_dir = self.root / "tls"
        self.tls_port = _free_tcp_port()

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def tls_host(self) -> str:
        return f"tcp://127.0.0.1:{self.tls_port}"

    def tls_files(self):
        """(ca, cert, key) paths for a client of the TLS listener."""
        return str(self.tls_dir / "ca.pem"), str(self.tls_dir / "cert.pem"), str(self.tls_dir / "key.pem")

    @staticmethod
    def _free_octet(start: int) -> int:
        used = _run(["ip", "-4", "route"]).stdout
        for k in range(250):
            octet = (start + k) % 250 + 2
            if f"172.30.{octet}." not in used:
                return octet
        raise EngineStartError("no free 172.30.x.0/24 subnet for the test bridge")

    def _ensure_bridge(self) -> None:
        if _run(["ip", "link", "show", self.bridge]).returncode != 0:
            for argv in (
                ["ip", "link", "add", self.bridge, "type", "bridge"],
                ["ip", "addr", "add", f"172.30.{self._subnet_octet}.1/24", "dev", self.bridge],
            ):
                res = _run(argv)
                if res.returncode != 0:
                    raise EngineStartError(f"{' '.join(argv)}: {res.stderr.strip()}")
        _run(["ip", "link", "set", self.bridge, "up"])

    def start(self, timeout: float = 60.0) -> None:
        if self._proc and self._proc.poll() is None:
            return
        dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
        if not os.path.exists(dockerd):
            raise EngineStartError("dockerd not found: install docker.io (make test does this when root)")
        self._ensure_bridge()
        from desktop.vm.tls import ensure_certificates

        tls = ensure_certificates(self.tls_dir)
        argv = [
            dockerd,
            "--data-root", str(self.root / "data"),
            "--exec-root", str(self.root / "exec"),
            "--pidfile", str(self.pidfile),
            "--host", self.host,
            "--host", self.tls_host,
            "--tlsverify", "--tlscacert", str(tls.ca_cert), "--tlscert", str(tls.server_cert),
            "--tlskey", str(tls.server_key),
            "--bridge", self.bridge,
            "--iptables=false",
            "--ip6tables=false",
            "--storage-driver", "overlay2",
            "--log-level", "warn",
        ]
        log = open(self.log_path, "ab")
        self._proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        client = None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise EngineStartError(f"dockerd exited with {self._proc.returncode}: {self.log_tail()}")
            if self.socket.exists():
                try:
                    client = client or docker.APIClient(base_url=self.host, timeout=5)
                    if client.ping():
                        client.close()
                        return
                except Exception:  # noqa: BLE001 - still starting
                    pass
            time.sleep(0.1)  # polling a process we started; nothing to wait on instead
        raise EngineStartError(f"dockerd did not answer within {timeout}s: {self.log_tail()}")

    def stop(self, timeout: float = 30.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def kill(self) -> None:
        """SIGKILL dockerd, as a crash would: no clean shutdown. Its containerd and the
        containers' shims live on, and the next start() adopts them."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.kill()
        proc.wait(10)
        self._forget_dead_containerd()

    def _forget_dead_containerd(self, timeout: float = 10.0) -> None:
        # containerd dies with dockerd (parent-death signal) but can linger as a zombie until
        # init reaps it; a dockerd started meanwhile takes the zombie's pid for a live containerd
        # and times out dialling it. A zombie's pidfile is dropped, so a fresh one is started.
        pidfile = self.root / "exec" / "containerd" / "containerd.pid"
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                return  # gone
            if state == "Z":
                pidfile.unlink(missing_ok=True)
                return
            time.sleep(0.02)  # a process we killed, on its way out

    def _kill_shims(self) -> None:
        """The containers' shims left by a dockerd that was killed (or did not stop in time):
        they re-parent to init and would keep their containers running after the engine is gone.
        Each is found by the containerd address in its argv, and killed with its children."""
        root = str(self.root).rstrip("/") + "/"  # (not another engine's folder with a longer name)
        shims, parents = [], {}
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                argv = (d / "cmdline").read_bytes().split(b"\0")
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            parents[int(d.name)] = ppid
            if argv[0].endswith(b"containerd-shim-runc-v2") and b"-address" in argv[:-1]:
                address = argv[argv.index(b"-address") + 1]
                if address.decode(errors="replace").startswith(root):
                    shims.append(int(d.name))
        for shim in shims:
            for pid in [p for p, pp in parents.items() if pp == shim] + [shim]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, n: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def destroy(self) -> None:
        """Stop, remove containers' mounts, the bridge and the folder."""
        self.stop()
        self._kill_shims()
        _run(["ip", "link", "del", self.bridge])
        # overlay mounts may linger after a SIGKILL; unmount before deleting.
        mounts = Path("/proc/mounts").read_text().splitlines()
        for line in reversed(mounts):
            target = line.split()[1]
            if target.startswith(str(self.root)):
                _run(["umount", "-l", target])
        shutil.rmtree(self.root, ignore_errors=True)


def ensure_test_image(host: str) -> str:
    """Build pilothouse-test/busybox:latest from Debian's busybox-static if missing; return its id."""
    client = docker.APIClient(base_url=host, timeout=120)
    try:
        try:
            return client.inspect_image(TEST_IMAGE)["Id"]
        except docker.errors.ImageNotFound:
            pass
        busybox = next((p for p in ("/bin/busybox", "/usr/bin/busybox") if os.path.exists(p)), None)
        if busybox is None:
            raise EngineStartError("busybox-static is not installed (make test installs it when root)")
        with tempfile.TemporaryDirectory() as tmp:
            rootfs = Path(tmp) / "rootfs"
            (rootfs / "bin").mkdir(parents=True)
            shutil.copy2(busybox, rootfs / "bin" / "busybox")
            applets = _run([busybox, "--list"]).stdout.split()
            for applet in applets:
                link = rootfs / "bin" / applet
                if not link.exists():
                    link.symlink_to("busybox")
            for d in ("tmp", "etc", "proc", "sys", "dev", "root", "var/www"):
                (rootfs / d).mkdir(parents=True, exist_ok=True)
            os.chmod(rootfs / "tmp", 0o1777)
            (rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
            (rootfs / "etc" / "group").write_text("root:x:0:\nnobody:x:65534:\n")
            (rootfs / "var" / "www" / "index.html").write_text("pilothouse test page\n")
            tarball = Path(tmp) / "rootfs.tar"
            res = _run(["tar", "-C", str(rootfs), "-cf", str(tarball), "."])
            if res.returncode != 0:
                raise EngineStartError(f"tar failed: {res.stderr}")
            client.import_image(
                src=str(tarball), repository="pilothouse-test/busybox", tag="latest",
                changes=['CMD ["/bin/sh"]', "ENV PATH=/bin"],
            )
        return client.inspect_image(TEST_IMAGE)["Id"]
    finally:
        client.close()


@contextlib.contextmanager
def engine_with_test_image(env_var: str = "PILOTHOUSE_TEST_DOCKER_HOST"):
    """Yield the host of the engine named by `env_var`, else of a fresh private dockerd (destroyed
    afterwards); either way with the test image present. For benches and session fixtures."""
    host = os.environ.get(env_var)
    eng = None
    if not host:
        eng = PrivateEngine()
        eng.start()
        host = eng.host
    try:
        ensure_test_image(host)
        yield host
    finally:
        if eng is not None:
            eng.destroy()


def main() -> None:  # pragma: no cover - manual use: python -m tests.harness.private_engine ROOT
    import sys

    root = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    eng = PrivateEngine(root)
    eng.start()
    ensure_test_image(eng.host)
    print(eng.host, flush=True)


if __name__ == "__main__":
    main()
