"""Each container action against the real engine; outcomes checked through the raw API."""

import pytest

from desktop.engine.errors import ConflictError, NotFoundError, PortAllocatedError
from desktop.engine.records import Container


def state(docker_api, cid):
    return docker_api.inspect_container(cid)["State"]


def test_list_gives_records_without_inspect(client, run, make_container, run_id):
    cid = make_container(start=True, labels={"com.docker.compose.project": f"proj{run_id}"},
                         ports={"8080/tcp": None})
    run(client.connect())
    rows = run(client.list_containers(filters={"label": f"pilothouse.test.run={run_id}"}))
    assert [r.id for r in rows] == [cid]
    row = rows[0]
    assert isinstance(row, Container)
    assert row.state == "running"
    assert row.compose_project == f"proj{run_id}"
    assert row.published_ports and row.published_ports[0].private_port == 8080
    assert row.engine_id == client.info.id


def test_start_stop_restart_pause_kill_remove(client, run, make_container, docker_api):
    cid = make_container()
    run(client.connect())
    run(client.start(cid))
    assert state(docker_api, cid)["Running"]
    run(client.pause(cid))
    assert state(docker_api, cid)["Paused"]
    run(client.unpause(cid))
    assert not state(docker_api, cid)["Paused"]
    started = state(docker_api, cid)["StartedAt"]
    run(client.restart(cid, timeout=1))
    st = state(docker_api, cid)
    assert st["Running"] and st["StartedAt"] != started
    run(client.stop(cid, timeout=1))
    assert not state(docker_api, cid)["Running"]
    run(client.start(cid))
    run(client.kill(cid))
    st = state(docker_api, cid)
    assert not st["Running"] and st["ExitCode"] == 137
    run(client.remove(cid))
    assert not docker_api.containers(all=True, filters={"id": cid})


def test_inspect(client, run, make_container):
    cid = make_container(start=True)
    run(client.connect())
    d = run(client.inspect_container(cid))
    assert d.id == cid and d.running and d.raw["Config"]["Image"].startswith("pilothouse-test/busybox")


def test_remove_running_without_force_explains_the_choice(client, run, make_container, docker_api):
    cid = make_container(name=None, start=True)
    run(client.connect())
    with pytest.raises(ConflictError) as err:
        run(client.remove(cid, name="web"))
    msg = str(err.value)
    assert "running" in msg and "force" in msg and "Traceback" not in msg
    assert state(docker_api, cid)["Running"]
    run(client.remove(cid, force=True))
    assert not docker_api.containers(all=True, filters={"id": cid})


def test_port_already_allocated_is_a_sentence(client, run, make_container, docker_api):
    import socket

    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        s.listen()
        port = s.getsockname()[1]
        cid = make_container(ports={"80/tcp": port})
        run(client.connect())
        with pytest.raises(PortAllocatedError) as err:
            run(client.start(cid, name="web"))
    assert err.value.port == port
    assert f"Port {port} is already in use" in str(err.value)
    assert not state(docker_api, cid)["Running"]


def test_not_found(client, run):
    run(client.connect())
    with pytest.raises(NotFoundError) as err:
        run(client.start("0" * 64, name="ghost"))
    assert "no longer exists" in str(err.value)
