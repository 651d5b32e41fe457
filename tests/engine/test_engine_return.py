"""Waiting for a lost engine: a local socket is pinged (cheaply, at once when it answers), a
remote engine only after a capped backoff."""

from __future__ import annotations

import asyncio

from desktop.engine.endpoints import Endpoint
from desktop.engine.reconnect import REMOTE_BACKOFF, EngineReturn, ping_unix


def test_ping_unix_against_the_real_engine_and_a_missing_socket(engine_host, tmp_path):
    assert ping_unix(engine_host[len("unix://"):])
    assert not ping_unix(str(tmp_path / "nothing.sock"))


def test_a_local_engine_that_answers_ends_the_wait_at_once(engine_host, run):
    async def main() -> float:
        loop = asyncio.get_running_loop()
        ret = EngineReturn([Endpoint(engine_host, "--host")], lambda fn, *a: loop.run_in_executor(None, fn, *a))
        t = loop.time()
        await asyncio.wait_for(ret.wait(0), 5)
        return loop.time() - t

    assert run(main()) < 1.0


def test_a_missing_local_socket_is_asked_often_and_retry_now_ends_the_wait(tmp_path, run):
    pings = []

    async def main() -> None:
        loop = asyncio.get_running_loop()

        async def counted(fn, *a):
            pings.append(loop.time())
            return await loop.run_in_executor(None, fn, *a)

        ret = EngineReturn([Endpoint(f"unix://{tmp_path}/gone.sock", "--host")], counted)
        waiting = asyncio.ensure_future(ret.wait(1))
        for _ in range(400):  # bounded: a loaded machine may be slow, never wrong
            if len(pings) >= 5:
                break
            await asyncio.sleep(0.025)
        assert not waiting.done()  # nothing answers: it keeps asking
        ret.retry_now.set()
        await asyncio.wait_for(waiting, 10)

    run(main())
    assert len(pings) >= 5
    gaps = sorted(b - a for a, b in zip(pings, pings[1:]))
    assert gaps[len(gaps) // 2] < 1.0  # asked every ~50 ms, not on a backoff growing to seconds


def test_a_remote_engine_is_not_polled_faster_than_its_backoff(run):
    calls = []

    async def fake_run(fn, *a):
        calls.append(fn)
        return False

    async def main() -> float:
        ret = EngineReturn([Endpoint("tcp://127.0.0.1:9", "--host")], fake_run)
        loop = asyncio.get_running_loop()
        t = loop.time()
        await ret.wait(10)
        return loop.time() - t

    waited = run(main())
    assert calls == []  # no pings: a remote engine is only tried again by the watch, after the wait
    assert REMOTE_BACKOFF[-1] - 0.05 <= waited <= REMOTE_BACKOFF[-1] + 2.0  # never sooner than the backoff
    assert max(REMOTE_BACKOFF) <= 1.0
