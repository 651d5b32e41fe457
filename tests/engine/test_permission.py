"""A user who may not open the engine's socket is told why and how to fix it (real socket,
real permission check: the client runs as `nobody`).

`nobody` may not be able to read the checkout (a clone in a 0700 home folder) nor its
virtualenv, so the code it runs is copied first: the `desktop` package and the SDK's modules
into a world-readable temporary folder, run by the base interpreter in isolated mode.
"""

import importlib.util
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# The packages `desktop.engine.client` needs to connect, beside the standard library.
PACKAGES = ("desktop", "docker", "requests", "urllib3", "certifi", "idna", "charset_normalizer")

SCRIPT = """
import asyncio, sys
sys.path.insert(0, sys.argv[2])
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
    python = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
    code = _world_readable_copy()
    try:
        out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                              python, "-I", "-c", SCRIPT, engine_host, code],
                             capture_output=True, text=True, timeout=60, cwd="/",
                             env={"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent"})
    finally:
        shutil.rmtree(code, ignore_errors=True)
    assert "PermissionDeniedError: Permission denied on the engine's socket" in out.stdout, out.stdout + out.stderr
    assert "usermod -aG docker" in out.stdout


def _world_readable_copy() -> str:
    """The packages in PACKAGES copied to a fresh folder that any user can read."""
    root = Path(tempfile.mkdtemp(prefix="pilothouse-nobody-", dir="/tmp" if os.path.isdir("/tmp") else None))
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        src = Path(list(spec.submodule_search_locations)[0])
        shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__", "ui", "vm"))
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
                   | ((stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH) if path.is_dir() else 0))
    parent = root.parent
    while parent != parent.parent:
        if not parent.stat().st_mode & stat.S_IXOTH:
            pytest.skip(f"{parent} cannot be entered by other users")
        parent = parent.parent
    return str(root)
