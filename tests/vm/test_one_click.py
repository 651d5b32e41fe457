"""A new user with no engine: one click on the no-engine page builds the image (the cache is
empty), boots the VM (TCG here), and the Containers page fills from the VM's engine; the docker
CLI's `pilothouse` context works afterwards. Real QEMU, real dockerd in the guest."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.app import Pilothouse
from desktop.state.startup import extra_engines
from desktop.ui.features.vm import default_vm_manager
from desktop.engine.endpoints import discover
from desktop.state.connection import CONNECTED
from desktop.state.settings import SettingsStore
from desktop.presentation.container_columns import COL_ENGINE
from tests.harness.private_engine import TEST_IMAGE
from tests.ui.conftest import aloop, await_  # noqa: F401 - the qasync fixtures

pytestmark = [pytest.mark.vm, pytest.mark.timeout(1500)]


@pytest.fixture
def new_user(monkeypatch):
    """A fresh home and XDG folders, no image cache, DOCKER_HOST pointing nowhere."""
    if shutil.which("qemu-system-x86_64") is None:
        pytest.skip("QEMU not installed (make test installs qemu-system-x86)")
    # Short: the VM's unix sockets live in the state folder (sun_path holds 107 bytes).
    home = Path(tempfile.mkdtemp(prefix="ph-home-"))
    for var, sub in (("HOME", ""), ("XDG_CONFIG_HOME", ".config"), ("XDG_CACHE_HOME", ".cache"),
                     ("XDG_DATA_HOME", ".local/share"), ("XDG_STATE_HOME", ".local/state")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(home / sub))
    for var in ("PILOTHOUSE_VM_IMAGE_DIR", "PILOTHOUSE_VM_STATE_DIR", "DOCKER_CONFIG", "DOCKER_CONTEXT",
                "PILOTHOUSE_VM_ACCEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{home}/no-engine-here.sock")
    yield home
    shutil.rmtree(home, ignore_errors=True)


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    env["HOME"] = str(home)
    return subprocess.run(["docker", *args], capture_output=True, text=True, env=env, timeout=60)


def test_one_click_from_no_engine_to_a_listed_container(new_user: Path, test_image_tar: bytes, qtbot, await_):  # noqa: F811
    # Composed as `pilothouse` composes it at start-up, in the new user's environment.
    endpoints = discover(None)
    settings = SettingsStore()
    ph = Pilothouse(endpoints, extra_engines(endpoints, settings.current.engines), settings=settings,
                    vm_factory=default_vm_manager)
    manager = ph.vm.control.manager
    assert str(manager.paths.image_dir).startswith(str(new_user)) and not manager.paths.image_dir.exists()
    ph.window.resize(1200, 720)
    ph.window.show()
    ph.start()
    api = None
    try:
        qtbot.waitUntil(lambda: ph.window.body.currentWidget() is ph.window.no_engine, timeout=20000)
        click = ph.vm.one_click
        qtbot.waitUntil(click.start_button.isEnabled, timeout=10000)
        steps: list[str] = []
        values: list[int] = []
        orig = click.show_step

        def record(step):
            steps.append(f"{step.stage}: {step.text}")
            orig(step)
            values.append(click.progress.value())

        click.show_step = record
        with qtbot.waitSignal(click.finished, timeout=1_400_000) as done:
            qtbot.mouseClick(click.start_button, Qt.MouseButton.LeftButton)
        assert done.args == [True], click.step_label.text()

        # It built the image (the cache was empty), then showed the guest's boot phases.
        assert any("building it from Debian packages" in s for s in steps)
        assert (manager.paths.image_dir / "manifest.json").is_file()
        for phase in ("kernel", "disk", "containerd"):  # dockerd's may come after its API answers
            assert f"boot: guest: {phase} is up" in steps, steps
        assert steps[-1] == "ready: the VM's engine answers"
        assert values == sorted(values), "the progress bar only moves forward"

        # The window leaves the no-engine page and follows the VM's engine.
        session = ph.engines.get("pilothouse")
        qtbot.waitUntil(lambda: session.status.current.state == CONNECTED and session.status.current.loaded,
                        timeout=60000)
        qtbot.waitUntil(lambda: ph.window.body.currentIndex() == 0, timeout=10000)
        assert ph.window.pages.currentWidget() is ph.containers.page

        # A container started from the test image inside the VM is listed.
        api = manager.api_client(timeout=180)
        api.load_image(test_image_tar)
        cid = api.create_container(TEST_IMAGE, command=["sleep", "3600"], name="first-container")["Id"]
        api.start(cid)
        page = ph.containers.page
        qtbot.waitUntil(lambda: page.proxy_index_of(cid).isValid(), timeout=60000)
        assert page.proxy_index_of(cid, COL_ENGINE).data() in ("pilothouse", None)

        # The docker CLI reaches it through the `pilothouse` context; the app offers to make it the default.
        if shutil.which("docker"):
            res = _cli(new_user, "--context", "pilothouse", "ps", "--format", "{{.Names}}")
            assert res.returncode == 0 and "first-container" in res.stdout, res.stderr
            offer = ph.vm.context_offer
            assert offer.isVisible() and "docker context use pilothouse" in offer.label.text()
            qtbot.mouseClick(offer.use_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: offer.label.text().startswith("Done"), timeout=30000)
            res = _cli(new_user, "ps", "--format", "{{.Names}}")
            assert res.returncode == 0 and "first-container" in res.stdout, res.stderr

        # The next launch finds the running VM's engine through its docker context, no click needed.
        again = Pilothouse(discover(None), extra_engines(discover(None), ()), settings=SettingsStore(),
                           vm_factory=default_vm_manager)
        again.start()
        try:
            qtbot.waitUntil(lambda: again.containers.page.proxy_index_of(cid).isValid(), timeout=60000)
        finally:
            await_(again.aclose(), timeout=60)
            again.window.close()
            again.window.deleteLater()
    finally:
        if api is not None:
            api.close()
        await_(ph.aclose(), timeout=60)
        ph.window.close()
        ph.window.deleteLater()
        if manager.status().state in ("starting", "running"):
            await_(manager.stop(timeout=30), timeout=90)
