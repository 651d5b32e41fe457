"""The same features on every kind of engine: a UNIX socket, tcp+TLS (mutual, --tlsverify) and
ssh:// (the app's own tunnel through a real sshd). Each stream and side connection must dial
the client's resolved endpoint; paramiko is made unimportable so the SDK's own ssh mode, which
ignores the tunnel and the chosen identity, cannot be used by accident."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

from desktop.engine.archive import ContainerFiles
from desktop.engine.client import EngineClient
from desktop.engine.endpoints import Endpoint, TLSFiles
from desktop.engine.events import EngineWatch
from desktop.engine.exec_session import ExecSession
from desktop.engine.image_transfer import build_job, pull_job
from desktop.engine.logs import LogOptions, LogSession
from desktop.engine.records import EngineConnected, EngineEvent
from desktop.engine.stats import StatsStreams
from desktop.state.log_buffer import LogBuffer
from tests.harness.registry import auth_registry, registry  # noqa: F401 - the fixtures

KINDS = ["unix", "tls", "ssh"]


def engine_endpoint(kind: str, request, engine_host: str, private_engine) -> Endpoint:
    if kind == "unix":
        return Endpoint(engine_host, "--host")
    if private_engine is None:
        pytest.skip("the TLS and SSH variants need the harness-managed engine")
    if kind == "tls":
        ca, cert, key = private_engine.tls_files()
        return Endpoint(private_engine.tls_host, "--host", tls=TLSFiles(ca, cert, key, verify=True))
    sshd = request.getfixturevalue("sshd")
    return Endpoint(sshd.url(str(private_engine.socket)), "settings", "remote",
                    ssh_identity=str(sshd.client_key), ssh_known_hosts=str(sshd.known_hosts))


@pytest.fixture(params=KINDS)
def engine(request, engine_host, private_engine, test_image, run, monkeypatch):
    """A connected EngineClient of each kind, with paramiko unimportable and proxy variables
    naming a proxy that does not exist: engine traffic must go straight to the engine."""
    monkeypatch.setitem(sys.modules, "paramiko", None)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    ep = engine_endpoint(request.param, request, engine_host, private_engine)
    client = EngineClient([ep])
    run(client.connect())
    yield client
    run(client.aclose())


def test_list_and_act(engine, run, make_container, docker_api):
    cid = make_container()

    async def go():
        assert cid in {c.id for c in await engine.list_containers()}
        await engine.start(cid)
        await engine.kill(cid)

    run(go())
    assert docker_api.inspect_container(cid)["State"]["Status"] == "exited"


def test_events(engine, run, make_container):
    cid = make_container()

    async def go():
        watch = EngineWatch(engine)
        try:
            assert isinstance(await asyncio.wait_for(watch.__anext__(), 30), EngineConnected)
            await engine.start(cid)
            async for item in watch:
                if isinstance(item, EngineEvent) and item.id == cid and item.action == "start":
                    return
        finally:
            await watch.aclose()

    run(asyncio.wait_for(go(), 60))


def test_logs_tail_and_follow(engine, run, make_container, docker_api):
    # The container prints one line, then one more when a file appears (written through exec).
    cid = make_container(command=("sh", "-c", "echo first; while [ ! -e /tmp/go ]; do sleep 0.05; done; "
                                              "echo second; sleep 3600"), start=True)

    async def go():
        buf = LogBuffer()
        changed = asyncio.Event()

        def lines(b):
            buf.append(b)
            changed.set()

        s = LogSession(engine, cid, LogOptions(), on_lines=lines)
        await s.start()

        async def until(text: bytes):
            while not any(buf.line(i)[0] == text.decode() for i in range(len(buf))):
                changed.clear()
                await asyncio.wait_for(changed.wait(), 30)

        await until(b"first")
        ex = await engine.run(docker_api.exec_create, cid, ["touch", "/tmp/go"])
        await engine.run(docker_api.exec_start, ex["Id"])
        await until(b"second")
        await s.aclose()

    run(go())


def test_terminal(engine, run, make_container):
    cid = make_container(start=True)

    async def go():
        loop = asyncio.get_running_loop()
        out = bytearray()
        lock = threading.Lock()
        seen = asyncio.Event()

        def output(data: bytes) -> None:  # the reader thread
            with lock:
                out.extend(data)
                hit = b"42" in out
            if hit:
                loop.call_soon_threadsafe(seen.set)

        s = ExecSession(engine, cid, on_output=output, on_exit=lambda m: None)
        await s.start(80, 24)
        s.write(b"echo $((6*7))\r")
        await asyncio.wait_for(seen.wait(), 30)
        await s.aclose()

    run(go())


def test_files_list_download_upload(engine, run, make_container, tmp_path):
    cid = make_container()
    files = ContainerFiles(engine, cid)
    entries = run(files.list_dir("/etc"))
    assert {"passwd", "group"} <= {e.name for e in entries} and entries.complete
    run(files.download("/etc", str(tmp_path / "etc")))
    assert (tmp_path / "etc" / "etc" / "passwd").read_text().startswith("root:")
    src = tmp_path / "up.bin"
    src.write_bytes(os.urandom(100_000))
    run(files.upload([str(src)], "/tmp"))
    run(files.download("/tmp/up.bin", str(tmp_path / "back.bin")))
    assert (tmp_path / "back.bin").read_bytes() == src.read_bytes()


def test_stats(engine, run, make_container):
    cid = make_container(start=True)

    async def go():
        got = asyncio.get_running_loop().create_future()
        ended = []
        streams = StatsStreams(engine, lambda samples: got.done() or got.set_result(samples), ended.append)
        streams.open(cid)
        try:
            samples = await asyncio.wait_for(got, 30)
        finally:
            streams.close_all()
        assert samples[0].container_id == cid and not ended

    run(go())


def test_pull(engine, run, docker_api, registry, test_image, run_id):  # noqa: F811
    repo = f"{registry.address}/pht/every-{run_id}"
    docker_api.tag(test_image, repo, "1")
    try:
        for _ in docker_api.push(repo, tag="1", stream=True, decode=True):
            pass
        docker_api.remove_image(f"{repo}:1")
        items = []
        run(pull_job(engine, f"{repo}:1", items.append).run())
        assert docker_api.inspect_image(f"{repo}:1")["Id"] == docker_api.inspect_image(test_image)["Id"]
        assert any("status" in i for i in items)
    finally:
        try:
            docker_api.remove_image(f"{repo}:1")
        except Exception:  # noqa: BLE001 - the pull failed before tagging
            pass


def test_build(engine, run, docker_api, test_image, run_id, tmp_path):
    (tmp_path / "Dockerfile").write_text(f"FROM {test_image}\nRUN echo built-{run_id} > /built\n")
    tag = f"pht-every-build:{run_id}"
    lines = []
    run(build_job(engine, tmp_path, lines.append, tag=tag).run())
    try:
        assert docker_api.inspect_image(tag)["Id"].startswith("sha256:")
        assert any(f"built-{run_id}" in str(i) or "Step" in str(i) for i in lines)
    finally:
        docker_api.remove_image(tag, force=True)


def test_docker_tls_env_reaches_the_tls_engine(private_engine, run, tmp_path):
    """DOCKER_TLS=1 (TLS without checking the engine's name) with the client files of DOCKER_CERT_PATH."""
    if private_engine is None:
        pytest.skip("needs the harness-managed engine")
    from desktop.engine.endpoints import discover

    eps = discover(None, env={"DOCKER_HOST": private_engine.tls_host, "DOCKER_TLS": "1",
                              "DOCKER_CERT_PATH": str(private_engine.tls_dir)}, home=tmp_path, platform="linux")
    client = EngineClient(eps)
    try:
        assert run(client.connect()).endpoint == private_engine.tls_host
    finally:
        run(client.aclose())


def test_registry_login_stores_through_the_cli(engine, run, tmp_path, monkeypatch, auth_registry):  # noqa: F811
    """No credential helper: the docker CLI stores the login, reaching the engine as the app does.
    On the TLS engine a plain-HTTP attempt (the password in clear) would be refused by the port."""
    import json
    import shutil

    from desktop.engine.image_transfer import login

    if shutil.which("docker") is None:
        pytest.skip("docker CLI not installed")
    reg = auth_registry
    cfg = tmp_path / "docker-config"
    cfg.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(cfg))
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")  # must not be what the CLI uses
    sentence = run(login(engine, reg.address, "pilot", "s3cret-pw"))
    assert "docker CLI" in sentence
    stored = json.loads((cfg / "config.json").read_text())
    assert reg.address in stored["auths"]
    assert (cfg / "config.json").stat().st_mode & 0o077 == 0
