"""The PyInstaller bundle builds once, starts and renders the window against the real engine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.packaging


def test_bundle_starts_and_renders(tmp_path, engine_host, test_image):
    if shutil.which("pyinstaller", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("PyInstaller is not installed (pip install '.[test]')")
    # A stand-in VM image (the real one is 60 MB and tested in tests/vm): the bundle must carry
    # the image for its architecture, and the frozen app must pick it.
    from desktop.vm.image_build import expected_version
    from desktop.vm.paths import host_arch

    image = tmp_path / "vm-image"
    image.mkdir()
    for name in ("vmlinuz", "initramfs.img", "probe.img"):
        (image / name).write_bytes(b"stand-in " + name.encode())
    (image / "manifest.json").write_text(json.dumps({"arch": host_arch(), "version": expected_version()}))
    build_env = {**os.environ, "PILOTHOUSE_BUNDLE_VM_IMAGE": str(image)}
    build = subprocess.run(
        [str(Path(sys.executable).parent / "pyinstaller"), str(ROOT / "packaging" / "pyinstaller" / "pilothouse.spec"),
         "--noconfirm", "--log-level", "WARN", "--distpath", str(tmp_path / "dist"),
         "--workpath", str(tmp_path / "build")],
        cwd=tmp_path, capture_output=True, text=True, timeout=900, env=build_env)
    assert build.returncode == 0, build.stderr[-3000:]
    exe = tmp_path / "dist" / "pilothouse" / "pilothouse"
    assert exe.is_file()
    # lean: the unused Qt modules stayed out
    internal = tmp_path / "dist" / "pilothouse" / "_internal" / "PySide6"
    assert not list(internal.glob("QtQml*")) and not list(internal.glob("QtNetwork*"))

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DOCKER_HOST")}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"))  # its history database too, not the user's
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60, env=env)
    assert version.returncode == 0 and version.stdout.startswith("pilothouse "), version.stderr
    vm_env = {k: v for k, v in env.items() if not k.startswith("PILOTHOUSE_VM_")}
    vm_image = subprocess.run([str(exe), "vm", "image"], capture_output=True, text=True, timeout=60, env=vm_env)
    assert vm_image.returncode == 0, vm_image.stdout + vm_image.stderr
    assert f"vm-image/{host_arch()} (bundled with this app)" in vm_image.stdout and "state:        current" in vm_image.stdout
    # a first-use build inside the bundle has Debian's keys and the recipe
    internal_root = tmp_path / "dist" / "pilothouse" / "_internal"
    assert (internal_root / "desktop/vm/keys/debian-archive-keyring.pgp").is_file()
    assert {"init", "image-lock.json"} <= {p.name for p in (internal_root / "vm-recipe").iterdir()}
    shot = tmp_path / "bundle.png"
    run = subprocess.run([str(exe), "--host", engine_host, "--screenshot", str(shot)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=180, env=env)
    assert run.returncode == 0, run.stderr[-3000:]

    from PySide6.QtGui import QImage

    img = QImage(str(shot))
    assert not img.isNull() and img.width() >= 800 and img.height() >= 500
    # it rendered something: many distinct colours, not a blank frame
    colours = {img.pixel(x, y) for x in range(0, img.width(), 17) for y in range(0, img.height(), 13)}
    assert len(colours) > 20
