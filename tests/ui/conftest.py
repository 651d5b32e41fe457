"""pytest-qt with a qasync loop: `qtbot.waitUntil` spins Qt, which runs the loop's tasks."""

from __future__ import annotations

import asyncio

import docker
import pytest
import qasync

from desktop.app import Pilothouse
from desktop.engine.endpoints import Endpoint
from desktop.state.connection import CONNECTED
from desktop.state.history.store import HistoryStore
from tests.harness.private_engine import PrivateEngine, ensure_test_image


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
    # already_running=True marks the loop as running for the whole thread; clear that, or a
    # later plain-asyncio test (engine, vm) finds "another loop is running".
    asyncio.events._set_running_loop(None)
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
    # Not qtbot.addWidget: pytest-qt would delete the window before our teardown closes the app.
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
        ph.window.close()
        ph.window.deleteLater()


@pytest.fixture
def ph(app_factory, engine_host, test_image, await_):
    """The app against the test engine, after its first full load."""
    app = app_factory(engine_host)
    await_(app.first_load(timeout=30))
    return app


@pytest.fixture
def second_engine(await_):
    """Another private dockerd beside the test engine (own socket and bridge)."""
    eng = PrivateEngine()
    await_(asyncio.to_thread(eng.start), timeout=60)
    await_(asyncio.to_thread(ensure_test_image, eng.host), timeout=60)
    yield eng
    await_(asyncio.to_thread(eng.destroy), timeout=60)


@pytest.fixture
def two(engine_host, second_engine, test_image, qtbot, aloop, await_):
    """The app following the test engine ("host", the primary) and a second engine ("second")."""
    ph = Pilothouse([Endpoint(engine_host, "--host")], [("second", [Endpoint(second_engine.host, "--host")])])
    ph.window.resize(1200, 700)
    ph.window.show()
    ph.start()
    await_(ph.first_load(timeout=30))
    qtbot.waitUntil(lambda: all(s.status.current.state == CONNECTED for s in ph.engines.sessions), timeout=20000)
    yield ph
    await_(ph.aclose())
    ph.window.close()
    ph.window.deleteLater()


@pytest.fixture
def api_b(second_engine):
    api = docker.APIClient(base_url=second_engine.host, version="auto")
    yield api
    api.close()


@pytest.fixture
def history_app(qtbot, aloop, await_, engine_host, test_image, tmp_path):
    """`history_app()` makes the app with a history file (the same file each call: an app restart);
    `history_app.close(ph)` closes one."""
    made = []

    def make() -> Pilothouse:
        store = HistoryStore(tmp_path / "history.sqlite")
        store.start()
        ph = Pilothouse([Endpoint(engine_host, "--host")], history=store)
        ph.window.resize(1200, 700)
        ph.window.show()
        ph.start()
        await_(ph.first_load(timeout=30))
        made.append(ph)
        return ph

    def close(ph) -> None:
        made.remove(ph)
        await_(ph.aclose())
        await_(ph.history_store.aclose())
        ph.window.close()
        ph.window.deleteLater()

    make.close = close
    yield make
    for ph in list(made):
        close(ph)
