"""Shared fixtures: a real engine (private dockerd unless PILOTHOUSE_TEST_DOCKER_HOST names one),
the locally built test image, and helpers to arrange and check state through the raw API."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator

import docker
import hypothesis  # noqa: F401 - import (and compile) it now: CPython 3.11.7's AST recursion
# counter bug (gh-106905) can break a late import by hypothesis' own end-of-session hook.
import pytest

from tests.harness.private_engine import TEST_IMAGE, PrivateEngine, ensure_test_image

RUN_LABEL = "pilothouse.test.run"

# Property tests check results, not speed: on a loaded machine (CI, or helpers sharing two cores) a
# first call that pays for imports and caches exceeds hypothesis' 200 ms deadline and the run fails
# as "flaky". Timings belong in bench/.
hypothesis.settings.register_profile("pilothouse", deadline=None)
hypothesis.settings.load_profile("pilothouse")


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory, monkeypatch):
    """Settings and the app's log go to temp dirs: tests never read or write the user's."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))


@pytest.fixture(scope="session")
def private_engine() -> Iterator[PrivateEngine | None]:
    """The harness-managed dockerd, or None when an external test engine was named."""
    if os.environ.get("PILOTHOUSE_TEST_DOCKER_HOST"):
        yield None
        return
    eng = PrivateEngine()
    eng.start()
    try:
        yield eng
    finally:
        eng.destroy()


@pytest.fixture(scope="session")
def engine_host(private_engine: PrivateEngine | None) -> str:
    return os.environ.get("PILOTHOUSE_TEST_DOCKER_HOST") or private_engine.host


@pytest.fixture(scope="session")
def test_image(engine_host: str) -> str:
    ensure_test_image(engine_host)
    return TEST_IMAGE


@pytest.fixture
def restartable_engine(private_engine: PrivateEngine | None) -> PrivateEngine:
    """For reconnect tests: the private dockerd, which the test may stop and start."""
    if private_engine is None:
        pytest.skip("engine restart tests need the harness-managed engine (PILOTHOUSE_TEST_DOCKER_HOST is set)")
    yield private_engine
    if not private_engine.running:
        private_engine.start()


@pytest.fixture
def docker_api(engine_host: str) -> Iterator[docker.APIClient]:
    """A raw SDK client to arrange and assert engine state (not the code under test)."""
    api = docker.APIClient(base_url=engine_host, version="auto", timeout=60)
    yield api
    api.close()


@pytest.fixture
def run_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def make_container(docker_api: docker.APIClient, test_image: str, run_id: str):
    """Create (and optionally start) a labelled container; all are removed at teardown."""
    made: list[str] = []

    def make(name: str | None = None, *, start: bool = False, command=("sleep", "3600"),
             labels: dict | None = None, ports: dict | None = None, **host_cfg) -> str:
        name = name or f"pht-{run_id}-{len(made)}"
        host_config = docker_api.create_host_config(port_bindings=ports or None, **host_cfg)
        c = docker_api.create_container(
            test_image, command=list(command) if command else None, name=name,
            labels={RUN_LABEL: run_id, **(labels or {})},
            ports=[(int(str(k).split('/')[0]), (str(k).split('/') + ['tcp'])[1]) for k in ports] if ports else None, host_config=host_config,
            stop_signal="SIGKILL",  # busybox sleep as PID 1 ignores SIGTERM: stop fast
        )
        made.append(c["Id"])
        if start:
            docker_api.start(c["Id"])
        return c["Id"]

    yield make
    _remove_all(docker_api, made)


def _remove_all(docker_api: docker.APIClient, ids: list[str]) -> None:
    for cid in ids:
        try:
            docker_api.remove_container(cid, force=True)
        except docker.errors.NotFound:
            pass


@pytest.fixture
def static_container(engine_host, docker_api, run_id, test_image):
    """Makes containers of the image holding one static binary and nothing else (no shell)."""
    from tests.harness.static_image import STATIC_IMAGE, ensure_static_image

    ensure_static_image(engine_host)
    made = []

    def make(start: bool = True) -> str:
        c = docker_api.create_container(STATIC_IMAGE, labels={RUN_LABEL: run_id}, stop_signal="SIGKILL")
        made.append(c["Id"])
        if start:
            docker_api.start(c["Id"])
        return c["Id"]

    yield make
    _remove_all(docker_api, made)


@pytest.fixture
def docker_cli(engine_host: str):
    """Run the docker CLI against the test engine (for changes made 'outside' the app)."""
    exe = shutil.which("docker")
    if exe is None:
        pytest.skip("docker CLI not installed")

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([exe, "--host", engine_host, *args], capture_output=True, text=True, timeout=60)

    return cli


@pytest.fixture(scope="session")
def sshd():
    """A real OpenSSH server on 127.0.0.1 that lets the test key forward the engine's socket."""
    from tests.harness.sshd import TestSSHD

    if not shutil.which("sshd") and not os.path.exists("/usr/sbin/sshd"):
        pytest.skip("openssh-server not installed")
    server = TestSSHD()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def swarm_cluster(engine_host: str):
    """A real swarm: one manager, two workers and one spare engine (not in the swarm), each a
    private dockerd in its own network namespace; torn down at the end (or at exit)."""
    from tests.harness.swarm import SwarmCluster, swarm_supported

    why = swarm_supported()
    if why:
        pytest.skip(why)
    cluster = SwarmCluster(nodes=3, managers=1, spares=1)
    cluster.start(image_source_host=engine_host)
    try:
        yield cluster
    finally:
        cluster.destroy()
