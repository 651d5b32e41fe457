"""VM fixtures: the image (built by the test run itself, cached), one booted VM per session,
and the test image saved from a host engine so it can be loaded into the VM (no registry)."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from desktop.vm import image_build
from desktop.vm.config import VMConfig
from desktop.vm.machine import VMManager
from desktop.vm.paths import VMPaths
from tests.harness.private_engine import TEST_IMAGE, engine_with_test_image
from tests.harness.vm_image import built_vm_image


@pytest.fixture(scope="session")
def vm_image_dir() -> Path:
    if shutil.which("qemu-system-x86_64") is None and not os.environ.get("PILOTHOUSE_QEMU"):
        pytest.skip("QEMU not installed (make test installs qemu-system-x86)")
    try:
        return built_vm_image()
    except image_build.BuildError as e:
        pytest.fail(f"building the VM image failed: {e}")


@pytest.fixture(scope="session")
def test_image_tar() -> bytes:
    """`docker save` of the busybox test image, from the dev engine or a private one."""
    with engine_with_test_image() as host:
        api = docker.APIClient(base_url=host, timeout=120)
        data = b"".join(api.get_image(TEST_IMAGE))
        api.close()
        return data


@pytest.fixture(scope="session")
def vm_root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="pilothouse-vmtest-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def shared_dir(vm_root: Path) -> Path:
    d = vm_root / "shared folder"
    d.mkdir()
    return d


@pytest.fixture(scope="session")
def vm_paths(vm_root: Path, vm_image_dir: Path) -> VMPaths:
    return VMPaths(state_dir=vm_root / "state", image_dir=vm_image_dir, docker_config_dir=vm_root / "docker-config")


@pytest.fixture(scope="session")
def vm(vm_paths: VMPaths, shared_dir: Path) -> Iterator[VMManager]:
    """One VM for the whole session (TCG boots cost ~20-30 s each)."""
    config = VMConfig(cpus=2, memory_mib=2048, disk_gib=8, shares=(str(shared_dir),), sleep_after_s=0)
    manager = VMManager(config, vm_paths)
    # A generous boot deadline: under TCG on a loaded 2-core machine a boot took over 300 s.
    asyncio.run(manager.start(progress=lambda m: print(f"[vm] {m}", flush=True), timeout=900))
    yield manager
    if manager.status().state in ("starting", "running"):
        asyncio.run(manager.stop(timeout=30, shutdown=True))


@pytest.fixture(scope="session")
def vm_api(vm: VMManager, test_image_tar: bytes) -> Iterator[docker.APIClient]:
    api = vm.api_client(timeout=120)
    api.load_image(test_image_tar)
    yield api
    api.close()


@pytest.fixture(autouse=True)
def vm_running_for_each_test(request):
    """A test that stopped the session VM and then failed would leave every later VM test a
    closed engine port; each test that uses the VM starts it again first (a resume when saved)."""
    if "vm" not in request.fixturenames or request.node.get_closest_marker("vm_as_left"):
        yield
        return
    manager: VMManager = request.getfixturevalue("vm")
    state = manager.status().state
    if state in ("stopped", "crashed"):
        print(f"[vm] the VM was {state} before {request.node.name}: starting it", flush=True)
        asyncio.run(manager.start(progress=lambda m: print(f"[vm] {m}", flush=True), timeout=900))
    yield

