"""A user who may not open the engine's socket is told why and how to fix it (real socket,
real permission check: the client runs as `nobody`)."""

import os
import shutil
import subprocess
import sys

import pytest

SCRIPT = """
import asyncio, sys
from desktop.engine.client import EngineClient
from desktop.engine.endpoints import Endpoint
async def main():
    c = EngineClient([Endpoint(sys.argv[1], "--host")])
    try:
        await c.connect()
        print("CONNECTED")
    except Exception as e:
        print(type(e).__name__ + ": " + str(e))
    await c.aclose()
asyncio.run(main())
"""


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to drop to nobody")
def test_socket_permission_denied_is_explained(engine_host):
    sock = engine_host[len("unix://"):]
    mode = os.stat(sock).st_mode & 0o777
    if mode & 0o006:
        pytest.skip("the test engine's socket is world-accessible")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          sys.executable, "-c", SCRIPT, engine_host],
                         capture_output=True, text=True, timeout=60, cwd=repo,
                         env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": repo, "HOME": "/nonexistent"})
    assert "PermissionDeniedError: Permission denied on the engine's socket" in out.stdout, out.stdout + out.stderr
    assert "usermod -aG docker" in out.stdout
