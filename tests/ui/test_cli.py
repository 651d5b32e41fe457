"""The `pilothouse` entry point as a user runs it (a real process, the real engine)."""

import os
import subprocess
import sys
import tempfile

from PySide6.QtGui import QImage


# The app keeps a history in the user data folder: the processes these tests start keep theirs here.
_DATA = tempfile.TemporaryDirectory(prefix="pilothouse-test-data-")


def run_cli(*args, timeout=120):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=_DATA.name)
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_version():
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.startswith("pilothouse ")


def test_screenshot_after_first_full_load(engine_host, make_container, tmp_path, run_id):
    make_container(f"pht-{run_id}-shot", start=True)
    png = tmp_path / "shot.png"
    out = run_cli("--host", engine_host, "--screenshot", str(png))
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr, out.stderr
    img = QImage(str(png))
    assert not img.isNull() and img.width() >= 800 and img.height() >= 500


def test_screenshot_of_an_unknown_page_fails_clearly(engine_host, tmp_path):
    out = run_cli("--host", engine_host, "--screenshot", str(tmp_path / "x.png"), "--page", "nope")
    assert out.returncode == 2 and "no page named 'nope'" in out.stderr
    # nothing still running is stepped after the loop has stopped (a panel's refresh failed there)
    assert "Traceback" not in out.stderr, out.stderr


def test_screenshot_of_an_object_page_waits_for_its_list(engine_host, docker_api, test_image, tmp_path):
    # The prefetched containers table lets the window open before the session has connected;
    # the Images page asked for its list then and got nothing: the picture must not be empty.
    png = tmp_path / "images.png"
    out = run_cli("--host", engine_host, "--screenshot", str(png), "--page", "images")
    assert out.returncode == 0, out.stderr
    n = len(docker_api.images())
    assert f"the images page, {n} row" in out.stdout, out.stdout
