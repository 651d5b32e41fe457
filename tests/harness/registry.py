"""A real registry for tests: Debian's docker-registry on 127.0.0.1, storage in a temporary folder.

A dockerd treats 127.0.0.0/8 registries as insecure-allowed, so plain HTTP works without any
engine configuration. Optional htpasswd auth for login tests (bcrypt hash made by Python).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CONFIG = """version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {root}/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
{auth}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Registry:
    """One docker-registry process; `address` is host:port for image references."""

    def __init__(self, htpasswd: str | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="pilothouse-registry-"))
        self.port = free_port()
        self._htpasswd = htpasswd
        self._proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        exe = shutil.which("docker-registry")
        if exe is None:
            pytest.skip("docker-registry is not installed (make test installs it when root)")
        auth = ""
        if self._htpasswd:
            (self.root / "htpasswd").write_text(self._htpasswd)
            auth = f"auth:\n  htpasswd:\n    realm: pilothouse-test\n    path: {self.root}/htpasswd\n"
        cfg = self.root / "config.yml"
        cfg.write_text(CONFIG.format(root=self.root, port=self.port, auth=auth))
        log = open(self.root / "registry.log", "ab")
        self._proc = subprocess.Popen([exe, "serve", str(cfg)], stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {(self.root / 'registry.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"http://{self.address}/v2/", timeout=1)
                return
            except urllib.error.HTTPError:
                return  # 401 with auth on: it is up
            except OSError:
                time.sleep(0.05)  # waiting for a process we started to listen
        raise RuntimeError("docker-registry did not start listening")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def registry() -> Iterator[Registry]:
    """A plain (no auth) registry on a free 127.0.0.1 port for the whole session."""
    reg = Registry()
    reg.start()
    yield reg
    reg.stop()


def htpasswd_line(user: str, password: str) -> str:
    """A bcrypt htpasswd line (docker-registry accepts only bcrypt), without apache2-utils."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

        return f"{user}:{crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))}\n"


@pytest.fixture(scope="session")
def auth_registry() -> Iterator[Registry]:
    """A registry that wants user `pilot`, password `s3cret-pw`."""
    reg = Registry(htpasswd=htpasswd_line("pilot", "s3cret-pw"))
    reg.start()
    yield reg
    reg.stop()
