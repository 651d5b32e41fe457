"""Make the README's screenshot: a private engine with a few realistic containers, then
`pilothouse --screenshot FILE` (the app's own screenshot mode)."""

from __future__ import annotations

import os
import subprocess
import sys

import docker

from tests.harness.private_engine import TEST_IMAGE, PrivateEngine, ensure_test_image


def populate(host: str) -> None:
    api = docker.APIClient(base_url=host, version="auto")

    def run(name, command, start=True, labels=None, ports=None, pause=False):
        hc = api.create_host_config(port_bindings=ports or None)
        c = api.create_container(TEST_IMAGE, command=command, name=name, labels=labels or {},
                                 ports=list(ports) if ports else None, host_config=hc, stop_signal="SIGKILL")
        if start:
            api.start(c["Id"])
        if pause:
            api.pause(c["Id"])
        return c["Id"]

    run("web", ["httpd", "-f", "-p", "80", "-h", "/var/www"], ports={80: 48080})
    run("worker", ["sleep", "86400"])
    run("nightly-backup", ["sh", "-c", "exit 3"])
    run("scratchpad", ["sleep", "86400"], start=False)
    run("batch-job", ["sleep", "86400"], pause=True)
    for svc, port in (("frontend", 43000), ("api", 45000), ("cache", None)):
        run(f"shop-{svc}-1", ["sleep", "86400"], labels={"com.docker.compose.project": "shop",
                                                         "com.docker.compose.service": svc},
            ports={port: port} if port else None)
    api.close()


def main() -> int:
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshot.png")
    eng = PrivateEngine()
    try:
        eng.start()
        ensure_test_image(eng.host)
        populate(eng.host)
        env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
        return subprocess.call([sys.executable, "-m", "desktop", "--host", eng.host, "--screenshot", out], env=env)
    finally:
        eng.destroy()


if __name__ == "__main__":
    sys.exit(main())
