"""The PyInstaller bundle, built once per session (a few minutes) for every test that needs it,
carrying the real VM image for this host's architecture."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Bundle:
    exe: Path  # dist/pilothouse/pilothouse
    internal: Path  # dist/pilothouse/_internal (sys._MEIPASS of the frozen app)
    image: Path  # the image it was built with (the test run's cached build)


@pytest.fixture(scope="session")
def pyinstaller_bundle(tmp_path_factory) -> Bundle:
    pyinstaller = shutil.which("pyinstaller", path=str(Path(sys.executable).parent))
    if pyinstaller is None:
        pytest.skip("PyInstaller is not installed (pip install '.[test]')")
    from desktop.vm import image_build
    from tests.harness.vm_image import built_vm_image

    try:
        image = built_vm_image()
    except image_build.BuildError as e:
        pytest.fail(f"building the VM image for the bundle failed: {e}")
    work = tmp_path_factory.mktemp("bundle")
    build_env = {**os.environ, "PILOTHOUSE_BUNDLE_VM_IMAGE": str(image)}
    build = subprocess.run(
        [pyinstaller, str(ROOT / "packaging" / "pyinstaller" / "pilothouse.spec"),
         "--noconfirm", "--log-level", "WARN", "--distpath", str(work / "dist"), "--workpath", str(work / "build")],
        cwd=work, capture_output=True, text=True, timeout=900, env=build_env)
    assert build.returncode == 0, build.stderr[-3000:]
    shutil.rmtree(work / "build", ignore_errors=True)  # PyInstaller's intermediate files: ~300 MB
    exe = work / "dist" / "pilothouse" / "pilothouse"
    assert exe.is_file()
    return Bundle(exe, exe.parent / "_internal", image)


def frozen_env(**extra: str) -> dict[str, str]:
    """The environment a frozen app is started with in tests: no venv, no test engine, no
    overrides of the VM's folders (the app must find its own)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "VIRTUAL_ENV")
           and not k.startswith("PILOTHOUSE_")}
    env.update(QT_QPA_PLATFORM="offscreen", **extra)
    return env
