"""A real OpenSSH server on 127.0.0.1 with generated keys, for the SSH engine tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class TestSSHD:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="pilothouse-sshd-"))
        self.port = self._free_port()
        self.client_key = self.dir / "client_key"
        self.known_hosts = self.dir / "known_hosts"
        self._proc: subprocess.Popen | None = None

    @staticmethod
    def _free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def start(self, timeout: float = 20.0) -> None:
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        if not os.path.exists(sshd):
            raise RuntimeError("openssh-server is not installed (make test installs it when root)")
        for key in ("host_key", "client_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.dir / key)], check=True)
        (self.dir / "authorized_keys").write_text((self.dir / "client_key.pub").read_text())
        host_pub = (self.dir / "host_key.pub").read_text().split()
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        (self.dir / "sshd_config").write_text(f"""
Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.dir}/host_key
AuthorizedKeysFile {self.dir}/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
AllowStreamLocalForwarding yes
PidFile {self.dir}/sshd.pid
""")
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
        self._proc = subprocess.Popen([sshd, "-D", "-e", "-f", str(self.dir / "sshd_config")],
                                      stdout=subprocess.DEVNULL, stderr=open(self.dir / "sshd.log", "wb"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {(self.dir / 'sshd.log').read_text()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)  # waiting for another process to listen
        raise RuntimeError("sshd did not listen in time")

    def url(self, remote_socket: str) -> str:
        return f"ssh://root@127.0.0.1:{self.port}{remote_socket}"

    def stop(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)
