"""The PyInstaller bundle builds once, starts and renders the window against the real engine, and
carries the real VM image for its architecture (booted in test_bundle_vm.py)."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest

from tests.packaging.conftest import Bundle, frozen_env

# The bundle is built in the first test that asks for it (minutes on two shared cores).
pytestmark = [pytest.mark.packaging, pytest.mark.timeout(1200)]


def _sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def test_bundle_starts_and_renders(pyinstaller_bundle: Bundle, tmp_path, engine_host, test_image):
    from desktop.vm.paths import host_arch

    exe, internal = pyinstaller_bundle.exe, pyinstaller_bundle.internal
    # lean: the unused Qt modules stayed out
    assert not list((internal / "PySide6").glob("QtQml*")) and not list((internal / "PySide6").glob("QtNetwork*"))

    env = frozen_env(XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"),
                     XDG_CACHE_HOME=str(tmp_path / "cache"))  # its history database too, not the user's
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60, env=env)
    assert version.returncode == 0 and version.stdout.startswith("pilothouse "), version.stderr
    vm_image = subprocess.run([str(exe), "vm", "image"], capture_output=True, text=True, timeout=60, env=env)
    assert vm_image.returncode == 0, vm_image.stdout + vm_image.stderr
    assert f"vm-image/{host_arch()} (bundled with this app)" in vm_image.stdout and "state:        current" in vm_image.stdout
    # the real image, byte for byte as built
    bundled = internal / "vm-image" / host_arch()
    manifest = json.loads((bundled / "manifest.json").read_text())
    assert manifest["arch"] == host_arch()
    for name, meta in manifest["files"].items():
        assert _sha256(bundled / name) == meta["sha256"], name
    # a first-use build inside the bundle has Debian's keys and the recipe
    assert (internal / "desktop/vm/keys/debian-archive-keyring.pgp").is_file()
    assert {"init", "image-lock.json"} <= {p.name for p in (internal / "vm-recipe").iterdir()}
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
