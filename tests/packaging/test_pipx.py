"""`pipx install <checkout>` gives a working `pilothouse` command: the way many Linux
users install a Python application. pipx builds the project from source in an isolated venv and
fetches the dependencies from PyPI (pip's cache makes repeat runs quick)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.packaging, pytest.mark.timeout(1200)]

# Not copied into the build tree: local state that is not part of the project's source.
_NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                     ".pytest_cache", ".hypothesis")


def _env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DOCKER_HOST", "VIRTUAL_ENV")}
    env.update(PIPX_HOME=str(tmp / "pipx-home"), PIPX_BIN_DIR=str(tmp / "bin"), QT_QPA_PLATFORM="offscreen",
               XDG_CONFIG_HOME=str(tmp / "config"), XDG_DATA_HOME=str(tmp / "data"))
    return env


@pytest.fixture(scope="module")
def pipx_bin(tmp_path_factory) -> Path:
    """PIPX_BIN_DIR after `pipx install` of a copy of the checkout (so the build leaves no
    build/ or egg-info behind in the real one)."""
    pipx = shutil.which("pipx")
    if pipx is None:
        pytest.skip("pipx not installed (make test installs Debian's pipx)")
    tmp = tmp_path_factory.mktemp("pipx")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=_NOT_SOURCE, symlinks=True)
    res = subprocess.run([pipx, "install", str(src)], env=_env(tmp), capture_output=True, text=True, timeout=1100)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    assert (tmp / "bin" / "pilothouse").exists(), res.stdout[-2000:]
    return tmp / "bin"


def test_pipx_install_gives_a_working_command(pipx_bin: Path, tmp_path: Path, engine_host, test_image):
    env = _env(pipx_bin.parent)
    exe = pipx_bin / "pilothouse"
    version = subprocess.run([str(exe), "--version"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("pilothouse ")
    # The command runs from pipx's own venv, not from the checkout or the test venv.
    assert Path(os.path.realpath(exe)).is_relative_to(pipx_bin.parent / "pipx-home" / "venvs" / "pilothouse")

    shot = tmp_path / "pipx.png"
    run = subprocess.run([str(exe), "--host", engine_host, "--screenshot", str(shot)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-3000:]

    from PySide6.QtGui import QImage

    img = QImage(str(shot))
    assert not img.isNull() and img.width() >= 800 and img.height() >= 500
    # it rendered a real window (icons, table, text), not a blank frame
    colours = {img.pixel(x, y) for x in range(0, img.width(), 17) for y in range(0, img.height(), 13)}
    assert len(colours) > 20
