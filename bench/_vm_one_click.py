"""One click on the no-engine page to the first container listed, measured in the real app
(offscreen Qt, qasync) for a new user: fresh home and XDG folders, DOCKER_HOST pointing nowhere.

Used by bench/vm.py. The clock runs from the click to the moment a container started in the VM
shows in the Containers page, minus the time spent loading the test image into the VM (that is
the benchmark's own set-up, not something a user's first click does).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path

from tests.harness.private_engine import TEST_IMAGE

NEW_USER_VARS = ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "DOCKER_HOST",
                 "PILOTHOUSE_VM_IMAGE_DIR", "PILOTHOUSE_VM_STATE_DIR", "DOCKER_CONFIG", "DOCKER_CONTEXT")


async def _until(check, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)  # a benchmark's polling of the GUI state; the app itself waits on events


def one_click_seconds(test_image_tar: bytes, image_dir: Path | None = None) -> tuple[float, dict]:
    """Seconds from the click to the first container listed; `image_dir`: use this built image
    (else the new user's cache is empty and the click builds it). Also returns step times."""
    import qasync
    from PySide6.QtWidgets import QApplication

    saved = {k: os.environ.get(k) for k in NEW_USER_VARS}
    home = Path(tempfile.mkdtemp(prefix="ph-bench-"))
    for var, sub in (("HOME", ""), ("XDG_CONFIG_HOME", ".config"), ("XDG_CACHE_HOME", ".cache"),
                     ("XDG_DATA_HOME", ".local/share"), ("XDG_STATE_HOME", ".local/state")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        os.environ[var] = str(home / sub)
    for var in ("PILOTHOUSE_VM_IMAGE_DIR", "PILOTHOUSE_VM_STATE_DIR", "DOCKER_CONFIG", "DOCKER_CONTEXT"):
        os.environ.pop(var, None)
    if image_dir is not None:
        os.environ["PILOTHOUSE_VM_IMAGE_DIR"] = str(image_dir)
    os.environ["DOCKER_HOST"] = f"unix://{home}/no-engine-here.sock"
    qapp = QApplication.instance() or QApplication([])
    qapp.setQuitOnLastWindowClosed(False)  # closing the window between runs must not stop the loop
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    marks: dict[str, float] = {}

    async def scenario() -> float:
        from desktop.app import Pilothouse
        from desktop.ui.features.vm import default_vm_manager as _vm_manager
        from desktop.engine.endpoints import discover
        from desktop.state.connection import CONNECTED

        ph = Pilothouse(discover(None), vm_factory=_vm_manager)
        ph.window.show()
        ph.start()
        manager = ph.vm.control.manager
        api = None
        try:
            click = ph.vm.one_click
            await _until(lambda: ph.window.body.currentWidget() is ph.window.no_engine
                         and click.start_button.isEnabled(), 30, "the no-engine page")
            done = loop.create_future()
            click.finished.connect(lambda ok: done.done() or done.set_result(ok))
            click.show_step_orig = click.show_step

            def mark(step):
                if step.stage == "boot" and "boot" not in marks:
                    marks["boot"] = time.perf_counter() - t0
                click.show_step_orig(step)

            click.show_step = mark
            t0 = time.perf_counter()
            click.start_button.click()
            if not await asyncio.wait_for(done, 1500):
                raise RuntimeError(f"the click failed: {click.step_label.text()}")
            marks["engine_answers"] = time.perf_counter() - t0
            session = ph.engines.get("pilothouse")
            await _until(lambda: session.status.current.state == CONNECTED and session.status.current.loaded
                         and ph.window.body.currentIndex() == 0, 120, "the Containers page")
            marks["page_loaded"] = time.perf_counter() - t0
            api = manager.api_client(timeout=300)
            t_load = time.perf_counter()
            await asyncio.to_thread(api.load_image, test_image_tar)
            load_s = time.perf_counter() - t_load
            cid = (await asyncio.to_thread(api.create_container, TEST_IMAGE, ["sleep", "600"]))["Id"]
            await asyncio.to_thread(api.start, cid)
            await _until(lambda: ph.containers.page.proxy_index_of(cid).isValid(), 120, "the container row")
            total = time.perf_counter() - t0 - load_s
            marks["image_load_excluded"] = load_s
            print(f"# one click ({'built image' if image_dir else 'empty cache'}): {total:.1f} s", flush=True)
            return total
        finally:
            if api is not None:
                api.close()
            await ph.aclose()
            ph.window.close()
            if manager.status().state in ("starting", "running"):
                await manager.stop(timeout=60)

    try:
        with loop:
            return loop.run_until_complete(scenario()), marks
    finally:
        asyncio.set_event_loop(None)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(home, ignore_errors=True)
