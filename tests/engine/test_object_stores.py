"""The object stores follow the engine through events (no polling), Qt-free."""

from __future__ import annotations

import asyncio
import contextlib

import docker
import pytest

from desktop.engine.client import EngineClient
from desktop.engine.endpoints import Endpoint
from desktop.state.connection import ConnectionStatus
from desktop.state.containers import ContainerStore
from desktop.state.objects_state import ObjectsState
from desktop.state.sync import EngineSync


@contextlib.asynccontextmanager
async def followed(host: str):
    """One engine's sync with the object stores attached (not started yet), all closed after."""
    client = EngineClient([Endpoint(host, "--host")])
    status = ConnectionStatus()
    sync = EngineSync(client, ContainerStore(), status)
    state = ObjectsState(client)
    state.attach(sync)
    try:
        yield status, sync, state
    finally:
        await sync.aclose()
        await state.aclose()
        await client.aclose()


async def until(pred, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)  # polling a local condition that events update


def test_objects_are_listed_before_their_users(engine_host, test_image, run):
    """The images arrive before the (much longer) list of every container that says which use
    them: what the Images page shows first does not wait for it."""
    async def go():
        async with followed(engine_host) as (status, sync, state):
            usage_known_at_images = []
            state.images.reset.connect(lambda: usage_known_at_images.append(state.usage.loaded))
            sync.start()
            await until(lambda: state.usage.loaded)
            assert usage_known_at_images == [False]
            assert any(test_image in i.tags for i in state.images.all())

    run(go())


def test_stores_follow_cli_changes(engine_host, run, docker_cli, docker_api, test_image, run_id):
    async def go():
        async with followed(engine_host) as (status, sync, state):
            sync.start()
            await until(lambda: status.current.loaded)
            image_id = docker_api.inspect_image(test_image)["Id"]
            # The object stores list right after the containers (a resync hook).
            await until(lambda: any(test_image in i.tags for i in state.images.all()))
            vol, net, ctr, tag = (f"pht-{run_id}-{x}" for x in ("vol", "net", "ctr", "tag"))
            try:
                assert docker_cli("volume", "create", vol).returncode == 0
                assert docker_cli("network", "create", net).returncode == 0
                assert docker_cli("tag", test_image, f"{tag}:1").returncode == 0
                assert docker_cli("create", "--name", ctr, "-v", f"{vol}:/d", "--network", net, test_image,
                                  "sleep", "1").returncode == 0
                await until(lambda: vol in state.volumes and state.networks.by_name(net) is not None)
                await until(lambda: f"{tag}:1" in state.images.get(image_id).tags)
                await until(lambda: ctr in state.usage.volume_users(vol) and ctr in state.usage.network_users(net)
                            and ctr in state.usage.image_users(image_id))
                assert docker_cli("rm", ctr).returncode == 0
                await until(lambda: not state.usage.volume_users(vol))
                assert docker_cli("volume", "rm", vol).returncode == 0
                assert docker_cli("network", "rm", net).returncode == 0
                assert docker_cli("rmi", f"{tag}:1").returncode == 0
                await until(lambda: vol not in state.volumes and state.networks.by_name(net) is None
                            and f"{tag}:1" not in state.images.get(image_id).tags)
            finally:
                for args in (("rm", "-f", ctr), ("volume", "rm", vol), ("network", "rm", net), ("rmi", f"{tag}:1")):
                    docker_cli(*args)

    run(go())


@pytest.mark.engine_restart
def test_stores_relist_after_reconnect(restartable_engine, run):
    async def go():
        async with followed(restartable_engine.host) as (status, sync, state):
            loads = []
            state.volumes.reset.connect(lambda: loads.append(len(state.volumes)))
            sync.start()
            await until(lambda: status.current.loaded)
            await until(lambda: bool(loads))  # the stores list right after the containers (a resync hook)
            before = len(loads)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, restartable_engine.stop)
            await until(lambda: not status.is_connected, timeout=30)
            await loop.run_in_executor(None, restartable_engine.start)
            api = docker.APIClient(base_url=restartable_engine.host)
            api.create_volume("pht-made-during-reconnect")
            try:
                await until(lambda: len(loads) > before, timeout=60)  # the resync hook relisted
                await until(lambda: "pht-made-during-reconnect" in state.volumes, timeout=30)
            finally:
                api.remove_volume("pht-made-during-reconnect")
                api.close()

    run(go())


def test_a_tag_moving_to_another_image_leaves_the_old_one(engine_host, run, docker_cli, docker_api, test_image,
                                                          make_container, run_id):
    async def go():
        async with followed(engine_host) as (status, sync, state):
            sync.start()
            await until(lambda: status.current.loaded)
            base = docker_api.inspect_image(test_image)["Id"]
            await until(lambda: state.images.get(base) is not None)  # listed right after the containers
            ref = f"pht-{run_id}/moving:1"
            other = docker_api.commit(make_container(), repository=f"pht-{run_id}/other", tag="1")["Id"]
            try:
                assert docker_cli("tag", base, ref).returncode == 0
                await until(lambda: ref in state.images.get(base).tags)
                assert docker_cli("tag", other, ref).returncode == 0
                await until(lambda: ref in state.images.get(other).tags and ref not in state.images.get(base).tags)
                assert docker_cli("rmi", ref, f"pht-{run_id}/other:1").returncode == 0
                await until(lambda: state.images.get(other) is None)
                assert sorted(i.id for i in state.images.all()) == sorted(i["Id"] for i in docker_api.images())
            finally:
                docker_cli("rmi", "-f", other)

    run(go())
