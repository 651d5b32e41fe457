"""pytest-qt with a qasync loop: `qtbot.waitUntil` spins Qt, which runs the loop's tasks."""

from __future__ import annotations

import asyncio

import pytest
import qasync

from desktop.app import Pilothouse
from desktop.engine.endpoints import Endpoint


@pytest.fixture
def aloop(qapp):
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    # Let finished tasks run their callbacks, then stop the executor threads so Qt does not
    # warn about QThreads destroyed while running.
    executor = getattr(loop, "_QEventLoop__default_executor", None)  # qasync's QThreadExecutor
    if executor is not None:
        executor.shutdown(wait=True)
    asyncio.set_event_loop(None)


@pytest.fixture
def await_(qtbot, aloop):
    """Run a coroutine on the qasync loop, spinning Qt until it finishes; returns its result."""

    def run(coro, timeout: float = 30.0):
        task = asyncio.ensure_future(coro, loop=aloop)
        qtbot.waitUntil(task.done, timeout=int(timeout * 1000))
        return task.result()

    return run


def make_app(qtbot, aloop, await_, host: str) -> Pilothouse:
    ph = Pilothouse([Endpoint(host, "--host")])
    qtbot.addWidget(ph.window)
    ph.window.resize(1200, 700)
    ph.window.show()
    ph.start()
    return ph


@pytest.fixture
def app_factory(qtbot, aloop, await_):
    made: list[Pilothouse] = []

    def factory(host: str) -> Pilothouse:
        ph = make_app(qtbot, aloop, await_, host)
        made.append(ph)
        return ph

    yield factory
    for ph in made:
        await_(ph.aclose())


@pytest.fixture
def ph(app_factory, engine_host, test_image, await_):
    """The app against the test engine, after its first full load."""
    app = app_factory(engine_host)
    await_(app.first_load(timeout=30))
    return app
