"""An engine reached over SSH: a real sshd on 127.0.0.1 forwarding the test engine's socket."""

import asyncio

import pytest

from desktop.engine.client import EngineClient
from desktop.engine.endpoints import Endpoint
from desktop.engine.errors import EngineUnreachableError
from desktop.engine.events import EngineWatch
from desktop.engine.records import EngineConnected, EngineEvent


def ssh_endpoint(sshd, engine_host, **kw):
    args = dict(ssh_identity=str(sshd.client_key), ssh_known_hosts=str(sshd.known_hosts))
    args.update(kw)
    return Endpoint(sshd.url(engine_host[len("unix://"):]), "settings", "remote", **args)


def test_ssh_engine_lists_acts_and_streams_events(sshd, engine_host, run, make_container, docker_api):
    cid = make_container()
    client = EngineClient([ssh_endpoint(sshd, engine_host)])

    async def go():
        info = await client.connect()
        assert info.endpoint.startswith("ssh://")
        assert cid in {c.id for c in await client.list_containers()}
        watch = EngineWatch(client)
        first = await asyncio.wait_for(watch.__anext__(), 30)
        assert isinstance(first, EngineConnected)
        await client.start(cid)

        async def started():
            async for item in watch:
                if isinstance(item, EngineEvent) and item.id == cid and item.action == "start":
                    return item

        await asyncio.wait_for(started(), 30)
        await watch.aclose()
        await client.aclose()

    run(go())
    assert docker_api.inspect_container(cid)["State"]["Running"]


def test_ssh_unknown_host_key_is_explained(sshd, engine_host, run, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    client = EngineClient([ssh_endpoint(sshd, engine_host, ssh_known_hosts=str(empty))])
    with pytest.raises(EngineUnreachableError) as err:
        run(client.connect())
    run(client.aclose())
    assert "host key is not known" in str(err.value)


def test_ssh_wrong_key_is_explained(sshd, engine_host, run, tmp_path):
    import subprocess

    key = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    client = EngineClient([ssh_endpoint(sshd, engine_host, ssh_identity=str(key))])
    with pytest.raises(EngineUnreachableError) as err:
        run(client.connect())
    run(client.aclose())
    assert "refused the login" in str(err.value) and "identity file" in str(err.value)


def test_ssh_stderr_is_drained_and_a_missing_engine_socket_is_explained(sshd, run, tmp_path):
    """Every refused channel makes ssh write a line to stderr; 1,500 of them are ~100 KiB, past
    a pipe's 64 KiB. Unread, ssh would block (and with it the forward) while looking alive."""
    import socket as socketlib

    from desktop.engine.ssh_tunnel import SSHTunnel

    tunnel = SSHTunnel(sshd.url(str(tmp_path / "no-engine.sock")), str(sshd.client_key), str(sshd.known_hosts))
    local = tunnel.open()[len("unix://"):]
    try:
        for _ in range(1500):
            with socketlib.socket(socketlib.AF_UNIX) as s:
                s.settimeout(10)
                s.connect(local)
                assert s.recv(1) == b""  # ssh closed the refused channel: it is still serving
        assert tunnel.alive
        assert tunnel.wait_forward_error(5) and "open failed" in tunnel.last_forward_error
        client = EngineClient([Endpoint(tunnel.url, "settings", ssh_identity=str(sshd.client_key),
                                        ssh_known_hosts=str(sshd.known_hosts))])
        with pytest.raises(EngineUnreachableError) as err:
            run(client.connect())
        run(client.aclose())
        assert "is up, but its engine socket" in str(err.value) and "no-engine.sock" in str(err.value)
    finally:
        tunnel.close()


def test_ssh_dead_forward_is_noticed_and_reopened(sshd, engine_host, run):
    client = EngineClient([ssh_endpoint(sshd, engine_host)])

    async def go():
        await client.connect()
        tunnel = next(iter(client._tunnels.values()))
        proc = tunnel._proc
        proc.kill()
        await client.run(proc.wait)
        await client.run(tunnel._stderr_closed.wait, 10)
        assert not tunnel.alive
        await client.connect()  # the next connection starts a new forward
        assert tunnel.alive and tunnel._proc is not proc
        return await client.list_containers()

    try:
        assert isinstance(run(go()), list)
    finally:
        run(client.aclose())
