"""The events stream on the real engine, including loss and return of the engine."""

import asyncio

import pytest

from desktop.engine.client import EngineClient
from desktop.engine.endpoints import Endpoint
from desktop.engine.events import EngineWatch
from desktop.engine.records import EngineConnected, EngineEvent, EngineLost


async def next_matching(watch, pred, timeout=30):
    async def scan():
        async for item in watch:
            if pred(item):
                return item
    return await asyncio.wait_for(scan(), timeout)


def test_events_stream_sees_cli_changes(client, run, make_container, docker_cli):
    async def go():
        watch = EngineWatch(client)
        first = await next_matching(watch, lambda i: True)
        assert isinstance(first, EngineConnected)
        cid = make_container()
        assert docker_cli("start", cid).returncode == 0
        ev = await next_matching(watch, lambda i: isinstance(i, EngineEvent) and i.id == cid and i.action == "start")
        assert ev.type == "container" and ev.engine_id == first.info.id
        await watch.aclose()

    run(go())


@pytest.mark.engine_restart
def test_watch_reconnects_after_engine_restart(restartable_engine, run):
    client = EngineClient([Endpoint(restartable_engine.host, "--host")])

    async def go():
        watch = EngineWatch(client)
        assert isinstance(await next_matching(watch, lambda i: True), EngineConnected)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, restartable_engine.stop)
        lost = await next_matching(watch, lambda i: not isinstance(i, EngineEvent))
        assert isinstance(lost, EngineLost)
        await loop.run_in_executor(None, restartable_engine.start)
        back = await next_matching(watch, lambda i: isinstance(i, EngineConnected), timeout=60)
        assert back.info.version
        await watch.aclose()
        await client.aclose()

    run(go())
