import asyncio

import pytest

from desktop.engine.client import EngineClient
from desktop.engine.endpoints import Endpoint


@pytest.fixture
def run():
    """Run a coroutine to completion on a fresh loop (engine tests need no Qt)."""
    loop = asyncio.new_event_loop()
    yield loop.run_until_complete
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


@pytest.fixture
def client(engine_host, run):
    c = EngineClient([Endpoint(engine_host, "--host")])
    yield c
    run(c.aclose())
