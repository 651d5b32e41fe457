"""The built wheel works outside the checkout: `pilothouse --version`, icons resolve, desktop entry."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.packaging


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory):
    """A fresh venv with only the built wheel installed; its dependencies come from ours
    through a .pth (no download), while `desktop` itself must come from the wheel."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp / "dist")],
                   check=True, timeout=300)
    whl = next((tmp / "dist").glob("pilothouse-*.whl"))
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())
    (site / "deps-from-test-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(whl)],
                   check=True, timeout=300)
    return env_dir


def run_in(env_dir: Path, *args: str, cwd: Path, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env.update({"QT_QPA_PLATFORM": "offscreen", **(extra_env or {})})
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_wheel_gives_a_working_command_and_icons(wheel_venv, tmp_path):
    out = run_in(wheel_venv, str(wheel_venv / "bin" / "pilothouse"), "--version", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("pilothouse ")
    check = ("import desktop, sys; from PySide6.QtWidgets import QApplication; app = QApplication([]);"
             "from desktop.ui.resources import resources_dir, icon, app_icon;"
             "print(desktop.__file__); print(resources_dir());"
             "print(icon('containers').pixmap(48, 48).isNull(), app_icon().pixmap(256, 256).isNull())")
    out = run_in(wheel_venv, str(wheel_venv / "bin" / "python"), "-c", check, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    module, res, nulls = out.stdout.splitlines()[-3:]
    assert module.startswith(str(wheel_venv)), "desktop must come from the installed wheel"
    assert res == str(wheel_venv / "share" / "pilothouse" / "resources")
    assert nulls == "False False"


def test_install_desktop_entry_from_the_wheel(wheel_venv, tmp_path):
    data = tmp_path / "xdg-data"
    out = run_in(wheel_venv, str(wheel_venv / "bin" / "pilothouse"), "--install-desktop-entry", cwd=tmp_path,
                 extra_env={"XDG_DATA_HOME": str(data)})
    assert out.returncode == 0, out.stderr
    entry = (data / "applications" / "pilothouse.desktop").read_text()
    assert "Icon=pilothouse" in entry
    assert f"Exec={wheel_venv / 'bin' / 'pilothouse'}" in entry
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / "pilothouse.svg").is_file()
    for size in (16, 48, 256, 512):
        assert (data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "pilothouse.png").is_file()


def test_wheel_carries_what_a_first_use_vm_build_needs(wheel_venv, tmp_path):
    """A pip/pipx install builds the VM image on first use: the keys, guest files and lock."""
    check = ("from desktop.vm.image_recipe import recipe_dir; from desktop.vm import debian_index, image_lock;"
             "from desktop.vm.image_build import expected_version;"
             "print(recipe_dir()); print(debian_index.KEYRING.is_file(), len(debian_index._archive_certs()) > 3);"
             "print(image_lock.default_lock_path().is_file(), expected_version())")
    out = run_in(wheel_venv, str(wheel_venv / "bin" / "python"), "-c", check, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    where, keys, lock = out.stdout.splitlines()[-3:]
    assert where == str(wheel_venv / "share" / "pilothouse" / "vm")
    assert keys == "True True" and lock.split()[0] == "True" and lock.split()[1].count(".") == 1
