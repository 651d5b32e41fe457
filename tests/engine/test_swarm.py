"""Swarm engine layer and stores against a real three-node swarm (tests/harness/swarm.py)."""

from __future__ import annotations

import asyncio
import contextlib
import textwrap

import docker
import pytest

from desktop.engine.client import EngineClient
from desktop.engine.endpoints import Endpoint
from desktop.engine.errors import ConflictError, PortAllocatedError
from desktop.engine.swarm import (InUseError, NoQuorumError, NotSwarmManagerError, SwarmClient, task_problem,
                                  translate_swarm)
from desktop.engine.swarm_records import STACK_LABEL
from desktop.engine.swarm_specs import parse_service_form
from desktop.engine.swarm_stacks import group_stacks, start_deploy, start_remove
from desktop.state.connection import ConnectionStatus
from desktop.state.containers import ContainerStore
from desktop.state.swarm import SwarmState
from desktop.state.sync import EngineSync
from tests.harness.swarm import TEST_IMAGE_MANAGER_ONLY, TEST_IMAGE_V2, running_swarm

TIMEOUT = 60


async def until(pred, *sources, timeout: float = TIMEOUT, what: str = "condition"):
    """Wait for `pred()` to be true, checking after every change a store announces."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def check(*_a) -> None:
        if not done.done():
            try:
                if pred():
                    done.set_result(None)
            except Exception as exc:  # noqa: BLE001 - surface it in the test
                done.set_exception(exc)

    hooks = []
    for src in sources:
        for name in ("reset", "upserted", "removed", "refreshed", "info_changed"):
            lst = getattr(src, name, None)
            if lst is not None:
                lst.connect(check)
                hooks.append((lst, check))
    try:
        check()
        await asyncio.wait_for(done, timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None
    finally:
        for lst, cb in hooks:
            lst.disconnect(cb)


class Rig:
    """One engine followed as the app does: client, events (EngineSync) and a SwarmState."""

    def __init__(self, host: str, tag: str = "swarm") -> None:
        self.client = EngineClient([Endpoint(host, "--host")])
        self.client.engine_tag = tag
        self.sync = EngineSync(self.client, ContainerStore(), ConnectionStatus())
        self.swarm = SwarmClient(self.client)
        self.state = SwarmState(self.swarm)
        self.state.attach(self.sync)

    async def __aenter__(self) -> "Rig":
        self.sync.start()
        await until(lambda: self.state.info is not None, self.state, what="first resync")
        return self

    async def __aexit__(self, *exc) -> None:
        await self.state.aclose()
        await self.sync.aclose()
        await self.client.aclose()


@pytest.fixture
def clean_swarm(swarm_cluster):
    """Leaves the swarm as it was: services, secrets, configs removed, nodes active and up."""
    yield swarm_cluster
    for node in swarm_cluster.nodes:
        if not node.running:
            swarm_cluster.restart_node(node)
    api = swarm_cluster.manager.api()
    try:
        for s in api.services():
            api.remove_service(s["ID"])
        for s in api.secrets():
            api.remove_secret(s["ID"])
        for c in api.configs():
            api.remove_config(c["ID"])
        for n in api.nodes():
            if n["Spec"].get("Availability") != "active":
                spec = dict(n["Spec"], Availability="active")
                api.update_node(n["ID"], n["Version"]["Index"], spec)
        for net in api.networks(filters={"label": STACK_LABEL}):
            with contextlib.suppress(docker.errors.APIError):
                api.remove_network(net["Id"])
    finally:
        api.close()


def _node_by_host(state: SwarmState, hostname: str):
    return next(n for n in state.nodes.all() if n.hostname == hostname)


def _service_named(state: SwarmState, name: str):
    return next((s for s in state.services.all() if s.name == name), None)


def test_manager_worker_and_non_swarm_engines(swarm_cluster, run):
    async def body():
        async with Rig(swarm_cluster.manager.host) as m:
            assert m.state.info.is_manager and m.state.info.active
            await until(lambda: len(m.state.nodes) == 3, m.state.nodes, what="three nodes")
            hosts = {n.hostname: n for n in m.state.nodes.all()}
            assert set(hosts) == {n.hostname for n in swarm_cluster.nodes}
            mgr = hosts[swarm_cluster.manager.hostname]
            assert mgr.role == "manager" and mgr.leader and mgr.state == "ready"
            assert mgr.addr == swarm_cluster.manager.address
            assert mgr.engine_version
            w = hosts[swarm_cluster.workers[0].hostname]
            assert (w.role, w.availability, w.addr) == ("worker", "active", swarm_cluster.workers[0].address)
            tokens = await m.swarm.join_tokens()
            line = tokens.join_command("worker")
            assert line == f"docker swarm join --token {tokens.worker} {swarm_cluster.manager.address}:2377"
        async with Rig(swarm_cluster.workers[0].host) as w:
            assert w.state.info.is_worker and not w.state.is_manager
            assert len(w.state.nodes) == 0
            with pytest.raises(NotSwarmManagerError) as err:
                await w.swarm.nodes()
            assert "this engine is a swarm worker; connect to a manager" in str(err.value).lower()
        async with Rig(swarm_cluster.spares[0].host) as s:
            assert s.state.info.state == "inactive" and not s.state.is_manager

    run(body())


def test_stack_deploy_scale_spread_and_remove(clean_swarm, run, tmp_path):
    cluster = clean_swarm
    compose = tmp_path / "docker-compose.yml"
    compose.write_text(textwrap.dedent("""\
        version: "3.8"
        services:
          web:
            image: pilothouse-test/busybox:latest
            command: ["sleep", "3600"]
            stop_signal: SIGKILL
            deploy:
              replicas: 3
            secrets: [token]
          worker:
            image: pilothouse-test/busybox:latest
            command: ["sleep", "3600"]
            stop_signal: SIGKILL
        secrets:
          token:
            file: ./token.txt
        """))
    (tmp_path / "token.txt").write_text("s3cret-value\n")

    async def body():
        async with Rig(cluster.manager.host) as m:
            loaded_lists = m.swarm.services
            calls = []

            async def counted():
                calls.append(1)
                return await loaded_lists()

            m.state.services._lister = counted
            lines: list[str] = []
            proc = start_deploy(m.client.api_endpoint, "shop", str(compose), lines.append, resolve_image="never")
            assert await proc.wait() == 0, "\n".join(lines)
            assert any("Creating service shop_web" in ln for ln in lines)
            await until(lambda: {s.name for s in m.state.services.all()} >= {"shop_web", "shop_worker"},
                        m.state.services, what="stack services via events")
            assert calls == [], "services arrived by events, not by relisting"
            await until(lambda: any(s.name == "shop_token" for s in m.state.secrets.all()), m.state.secrets)
            stacks = group_stacks(m.state.services.all(), m.state.secrets.all(), "swarm")
            assert [(s.name, s.services, s.secrets) for s in stacks] == [("shop", ("shop_web", "shop_worker"), 1)]
            web = _service_named(m.state, "shop_web")
            assert (web.mode, web.replicas, web.image, web.stack) == ("replicated", 3, "pilothouse-test/busybox:latest", "shop")

            lease = m.state.tasks.watch(web.id)
            assert m.state.tasks.watched == {web.id}
            await m.swarm.scale(web, 6)
            await until(lambda: (_service_named(m.state, "shop_web").replicas == 6), m.state.services)

            def running_nodes():
                ts = [t for t in m.state.tasks.of_service(web.id) if t.running]
                return {t.node_id for t in ts} if len(ts) == 6 else set()

            await until(lambda: len(running_nodes()) == 3, m.state.tasks, what="6 tasks on 3 nodes")
            node_ids = {n.node_id for n in cluster.nodes}
            assert running_nodes() == node_ids
            lease.release()
            assert m.state.tasks.watched == set()
            refreshes = m.state.tasks.refreshes
            await asyncio.sleep(m.state.tasks.period * 2)  # a span with no watcher: nothing is listed
            assert m.state.tasks.refreshes == refreshes

            lines.clear()
            rm = start_remove(m.client.api_endpoint, "shop", lines.append)
            assert await rm.wait() == 0, "\n".join(lines)
            await until(lambda: not any(s.stack == "shop" for s in m.state.services.all()), m.state.services)
            await until(lambda: not m.state.secrets.all(), m.state.secrets)

    run(body())


def _create(api, name, image="pilothouse-test/busybox:latest", replicas=1, **kw):
    # busybox's sleep as PID 1 ignores SIGTERM: SIGKILL makes each task stop at once, not after 10 s.
    cs = {"stop_signal": "SIGKILL", **kw.pop("cs", {})}
    task = docker.types.TaskTemplate(docker.types.ContainerSpec(image, ["sleep", "3600"], **cs),
                                     **kw.pop("tt", {}))
    return api.create_service(task, name=name, mode=docker.types.ServiceMode("replicated", replicas=replicas), **kw)["ID"]


def test_drain_moves_tasks_then_activate(clean_swarm, run):
    cluster = clean_swarm
    api = cluster.manager.api()
    sid = _create(api, "drainme", replicas=6)
    api.close()
    target = cluster.workers[1]

    async def body():
        async with Rig(cluster.manager.host) as m:
            lease = m.state.tasks.watch(sid)
            await until(lambda: sum(t.running for t in m.state.tasks.of_service(sid)) == 6
                        and any(t.node_id == target.node_id and t.running for t in m.state.tasks.of_service(sid)),
                        m.state.tasks, what="6 running tasks, some on the node to drain")
            node = _node_by_host(m.state, target.hostname)
            moving = m.state.tasks.of_node(node.id)
            assert moving, "the confirmation lists the tasks that will move"
            await m.swarm.set_availability(node, "drain")
            await until(lambda: _node_by_host(m.state, target.hostname).availability == "drain", m.state.nodes,
                        what="node event: drain")

            def moved():
                cur = [t for t in m.state.tasks.of_service(sid) if t.desired_state == "running"]
                return (len(cur) == 6 and all(t.running for t in cur)
                        and all(t.node_id != node.id for t in cur))

            await until(moved, m.state.tasks, what="tasks moved off the drained node")
            await m.swarm.set_availability(_node_by_host(m.state, target.hostname), "active")
            await until(lambda: _node_by_host(m.state, target.hostname).availability == "active", m.state.nodes)
            lease.release()

    run(body())


def test_rolling_update_progress_and_rollback(clean_swarm, run):
    cluster = clean_swarm
    api = cluster.manager.api()
    sid = _create(api, "rolling", replicas=2)  # two slots show the progress; each more costs ~4 s
    api.close()

    async def body2():
        from desktop.presentation.swarm import update_progress

        async with Rig(cluster.manager.host) as m:
            lease = m.state.tasks.watch(sid)
            await until(lambda: sum(t.running for t in m.state.tasks.of_service(sid)) == 2, m.state.tasks)
            svc = m.state.services.get(sid)
            seen_states: list[str] = []
            seen_done: list[int] = []

            def note(items):
                for s in items:
                    # An upsert from before the update (the service's own create event) has no state.
                    if s.id == sid and s.update_state and (not seen_states or seen_states[-1] != s.update_state):
                        seen_states.append(s.update_state)

            m.state.services.upserted.connect(note)

            def note_tasks(*_a):
                # As the page does: progress counts once the service's record says it is updating
                # (until its event is fetched, the record still names the old image).
                p = update_progress(m.state.services.get(sid), m.state.tasks.of_service(sid))
                if p and p.state in ("updating", "completed") and (not seen_done or seen_done[-1] != p.updated):
                    seen_done.append(p.updated)

            m.state.tasks.refreshed.connect(note_tasks)
            await m.swarm.update_image(svc, TEST_IMAGE_V2, parallelism=1, delay_s=0.3, monitor_s=0.3)
            await until(lambda: m.state.services.get(sid).update_state == "completed", m.state.services,
                        what="update completed")
            await until(lambda: sorted(t.image for t in m.state.tasks.of_service(sid) if t.running) == [TEST_IMAGE_V2] * 2,
                        m.state.tasks, what="two v2 tasks")
            assert seen_states[0] == "updating" and seen_states[-1] == "completed"
            final = update_progress(m.state.services.get(sid), m.state.tasks.of_service(sid))
            assert (final.updated, final.total) == (2, 2)
            assert seen_done == sorted(seen_done) and seen_done[-1] == 2

            svc = m.state.services.get(sid)
            assert svc.image == TEST_IMAGE_V2 and svc.can_roll_back
            await m.swarm.rollback(svc)
            await until(lambda: m.state.services.get(sid).update_state == "rollback_completed", m.state.services,
                        what="rollback completed")
            assert m.state.services.get(sid).image == "pilothouse-test/busybox:latest"
            lease.release()

    run(body2())


def test_killed_worker_goes_down_and_tasks_reschedule(clean_swarm, run):
    cluster = clean_swarm
    victim = cluster.workers[0]
    api = cluster.manager.api()
    sid = _create(api, "survivor", replicas=3)
    api.close()

    async def body():
        async with Rig(cluster.manager.host) as m:
            lease = m.state.tasks.watch(sid)
            await until(lambda: sum(t.running for t in m.state.tasks.of_service(sid)) == 3
                        and any(t.node_id == victim.node_id and t.running for t in m.state.tasks.of_service(sid)),
                        m.state.tasks, what="a task on the victim")
            victim.kill()
            await until(lambda: m.state.nodes.get(victim.node_id).state == "down", m.state.nodes,
                        what="node down via its event")

            def rescheduled():
                cur = [t for t in m.state.tasks.of_service(sid) if t.desired_state == "running"]
                return len(cur) == 3 and all(t.running and t.node_id != victim.node_id for t in cur)

            await until(rescheduled, m.state.tasks, what="tasks rescheduled to live nodes")
            old = [t for t in m.state.tasks.of_service(sid) if t.node_id == victim.node_id]
            assert old and all(t.desired_state != "running" for t in old)
            assert any(task_problem(t) for t in old) or all(t.state != "running" or t.desired_state == "shutdown" for t in old)
            # A node that is down may be removed; one that is up may not.
            with pytest.raises(ConflictError) as err:
                await m.swarm.remove_node(m.state.nodes.get(cluster.workers[1].node_id))
            assert "still up" in str(err.value)
            lease.release()
        cluster.restart_node(victim)

    run(body())


def test_secret_in_use_is_refused_and_explained(clean_swarm, run):
    cluster = clean_swarm

    async def body():
        async with Rig(cluster.manager.host) as m:
            value = b"do-not-show-this-value"
            sec_id = await m.swarm.create_secret("db_password", value)
            await until(lambda: sec_id in m.state.secrets, m.state.secrets, what="secret via its event")
            rec = m.state.secrets.get(sec_id)
            assert rec.name == "db_password" and value.decode() not in repr(rec)
            api = cluster.manager.api()
            ref = docker.types.SecretReference(sec_id, "db_password")
            sid = _create(api, "uses-secret", cs={"secrets": [ref]})
            api.close()
            with pytest.raises(InUseError) as err:
                await m.swarm.remove_secret(rec)
            assert "db_password is in use by uses-secret" in str(err.value)
            assert value.decode() not in str(err.value)
            await m.swarm.remove_service(await m.swarm.service(sid))
            await m.swarm.remove_secret(rec)
            await until(lambda: sec_id not in m.state.secrets, m.state.secrets)
            cfg_id = await m.swarm.create_secret("app_conf", b"x=1\n", kind="config")
            await until(lambda: cfg_id in m.state.configs, m.state.configs)

    run(body())


def test_port_in_use_and_image_missing_on_node(clean_swarm, run):
    cluster = clean_swarm

    async def body():
        async with Rig(cluster.manager.host) as m:
            req = parse_service_form({"name": "web-a", "image": "pilothouse-test/busybox:latest",
                                      "replicas": "1", "ports": "18080:80", "command": "sleep 3600"})
            await m.swarm.create_service(req)
            req_b = parse_service_form({"name": "web-b", "image": "pilothouse-test/busybox:latest",
                                        "replicas": "1", "ports": "18080:80"})
            with pytest.raises(PortAllocatedError) as err:
                await m.swarm.create_service(req_b)
            assert "port 18080 is already published by service web-a" in str(err.value)
            await until(lambda: _service_named(m.state, "web-a") is not None, m.state.services)
            assert [str(p) for p in _service_named(m.state, "web-a").ports] == ["18080→80"]

            req_c = parse_service_form({"name": "lost-image", "image": TEST_IMAGE_MANAGER_ONLY,
                                        "constraints": "node.role==worker", "command": "sleep 3600"})
            sid = await m.swarm.create_service(req_c)
            lease = m.state.tasks.watch(sid)
            names = {n.node_id: n.hostname for n in cluster.nodes}

            def explained():
                return [task_problem(t, names.get(t.node_id, "")) for t in m.state.tasks.of_service(sid)
                        if t.state in ("rejected", "failed")]

            await until(lambda: any(explained()), m.state.tasks, what="a rejected task")
            msg = next(p for p in explained() if p)
            assert msg.startswith(f"The image {TEST_IMAGE_MANAGER_ONLY} is not on node ph-"), msg
            lease.release()

    run(body())


def test_no_quorum_is_explained(swarm_cluster, run):
    """Three managers; two killed: the survivor refuses changes, and says why."""
    with running_swarm(nodes=3, managers=3, image_source_host=swarm_cluster.manager.host) as q:
        assert all(r == "manager" for r in _roles(q))
        q.nodes[1].kill()
        q.nodes[2].kill()

        async def body():
            client = EngineClient([Endpoint(q.manager.host, "--host")])
            try:
                await client.connect()
                swarm = SwarmClient(client)
                req = parse_service_form({"name": "nope", "image": "pilothouse-test/busybox:latest"})
                with pytest.raises(NoQuorumError) as err:
                    await asyncio.wait_for(swarm.create_service(req), 60)
                assert "lost its quorum" in str(err.value)
            finally:
                await client.aclose()

        run(body())


def _roles(cluster) -> list[str]:
    api = cluster.manager.api()
    try:
        return [n["Spec"]["Role"] for n in api.nodes()]
    finally:
        api.close()


def test_initialise_a_swarm_with_a_validated_address(swarm_cluster, run):
    spare = swarm_cluster.spares[0]

    async def body():
        async with Rig(spare.host) as s:
            assert s.state.info.state == "inactive"
            await s.swarm.init(spare.address)
            info = await s.state.refresh_info()
            assert info.is_manager
            await until(lambda: len(s.state.nodes) == 1, s.state.nodes)
            tokens = await s.swarm.join_tokens()
            assert tokens.manager_addr == f"{spare.address}:2377"

    try:
        run(body())
    finally:
        api = spare.api()
        try:
            api.leave_swarm(force=True)
        finally:
            api.close()


def test_translate_swarm_sentences():
    class Fake(docker.errors.APIError):
        pass

    def err(words, code=500):
        class R:
            status_code = code
            reason = "x"
            url = "u"
        return Fake(words, R(), words)

    e = translate_swarm(err("rpc error: code = Unknown desc = The swarm does not have a leader. It's possible "
                            "that too few managers are online. Make sure more than half of the managers are online."))
    assert isinstance(e, NoQuorumError)
    e = translate_swarm(err("rpc error: code = InvalidArgument desc = port '80' is already in use by service "
                            "'web' (abc) as an ingress port", 400), "create", "service api")
    assert isinstance(e, PortAllocatedError) and e.port == 80
