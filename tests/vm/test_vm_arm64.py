"""The same recipe for arm64 (Apple silicon): build it and boot it under TCG on this host.

Skipped when qemu-system-aarch64 is missing (Debian's qemu-system-arm, which `make test`
installs). ~1 min with the image cached, ~2 min more to build it."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from desktop.vm import image_build
from desktop.vm.config import VMConfig
from desktop.vm.machine import VMManager
from desktop.vm.paths import VMPaths, default_image_dir

pytestmark = [pytest.mark.vm, pytest.mark.timeout(900)]


@pytest.mark.skipif(shutil.which("qemu-system-aarch64") is None, reason="qemu-system-arm not installed")
def test_arm64_image_builds_boots_and_powers_off(tmp_path: Path):
    out = default_image_dir("aarch64")
    manifest = image_build.build("aarch64", out, progress=lambda m: print(f"[arm64 build] {m}", flush=True))
    assert manifest["arch"] == "aarch64" and all(k.endswith(":arm64") for k in manifest["packages"])
    paths = VMPaths(tmp_path / "state", out, tmp_path / "docker-config")
    vm = VMManager(VMConfig(cpus=2, memory_mib=1536, disk_gib=4, shares=(str(tmp_path),)), paths, arch="aarch64")
    st = asyncio.run(vm.start(progress=lambda m: print(f"[arm64] {m}", flush=True), timeout=600))
    try:
        assert st.accelerator == "tcg" and "differs from host" in st.accelerator_reason
        api = vm.api_client(timeout=120)
        assert api.version()["Arch"] == "arm64"
        api.close()
    finally:
        st = asyncio.run(vm.stop(timeout=120, shutdown=True))
    assert st.state == "stopped"
    assert any("power off" in line for line in vm.console_tail(5)), "the GPIO power key should power the guest off"
