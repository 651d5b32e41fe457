"""The raw UNIX-socket logs reader against the real engine: the same lines, streams, times and
long-line joins as the SDK path; the engine's errors as the same sentences; the followed streams
of a merged view read by one thread, which ends with the view."""

from __future__ import annotations

import asyncio
import threading

import pytest

from desktop.engine.compose_logs import MergedLogSession
from desktop.engine.errors import NotFoundError
from desktop.engine.log_records import STDERR
from desktop.engine.logs import LogOptions, LogSession, raw_dialer
from desktop.engine.stream_clients import stream_api
from desktop.state.log_buffer import LogBuffer, iter_log_bytes

# stdout and stderr, a line the engine splits into 16 KiB messages, UTF-8, an unterminated end
WRITER = ("for i in $(seq 1 400); do echo out $i; echo err $i >&2; done; "
          "head -c 40000 /dev/zero | tr '\\0' 'y'; echo; printf 'd\\303\\251j\\303\\240 vu\\n'; printf 'no newline'")


async def read(client, cid, api, options=LogOptions(follow=False)):
    buf = LogBuffer()
    done = asyncio.Event()
    s = LogSession(client, cid, options, api=api, on_lines=buf.append, on_backfill=buf.backfill,
                   on_progress=lambda f: f is None and done.set())
    await s.start()
    await asyncio.wait_for(done.wait(), 60)
    await s.aclose()
    return buf


def lines_of(buf: LogBuffer):
    return [buf.line(i) for i in range(len(buf))]


@pytest.mark.parametrize("tty", [False, True])
def test_raw_and_sdk_readers_give_the_same_log(client, run, docker_api, test_image, tty):
    c = docker_api.create_container(test_image, command=["sh", "-c", WRITER], tty=tty,
                                    labels={"pilothouse.test": "raw-logs"})
    cid = c["Id"]
    try:
        docker_api.start(cid)
        docker_api.wait(cid, timeout=60)
        run(client.connect())
        dialer = raw_dialer(client)
        assert dialer is not None  # a UNIX-socket engine
        raw = run(read(client, cid, dialer.share()))
        sdk = run(read(client, cid, run(client.run(stream_api, client))))
        assert lines_of(raw) == lines_of(sdk)
        assert len(raw) == 803  # 800 short lines, the long one, the UTF-8 one, the unterminated end
        if not tty:  # (a TTY log's line over 16 KiB keeps the engine's inner timestamps, either reader)
            text = b"".join(iter_log_bytes(raw.chunks()))
            assert len(text.rstrip(b"\n")) == len(docker_api.logs(cid, stdout=True, stderr=True).rstrip(b"\n"))
            # each stream in the engine's order; across streams the order is the engine's two copiers
            # racing, and the CLI prints a long line's 16 KiB pieces with the other stream's lines
            # between them where the reader joins the line first
            for stream, flags in ((0, dict(stdout=True, stderr=False)), (STDERR, dict(stdout=False, stderr=True))):
                mine = "".join(t + "\n" for t, _, tag in lines_of(raw) if tag & STDERR == stream)
                assert mine.rstrip("\n") == docker_api.logs(cid, **flags).decode().rstrip("\n")
            assert any(len(t) == 40000 for t, _, _ in lines_of(raw))  # the engine's pieces joined
    finally:
        docker_api.remove_container(cid, force=True)


def test_a_missing_container_is_the_same_sentence(client, run):
    run(client.connect())

    async def go():
        s = LogSession(client, "f" * 64, LogOptions(follow=False), api=raw_dialer(client).share(),
                       on_lines=lambda b: None)
        try:
            await s.start()
        finally:
            await s.aclose()

    with pytest.raises(NotFoundError) as err:
        run(go())
    assert "no longer exists" in str(err.value)


def test_a_merged_view_follows_every_container_on_one_thread(client, run, make_container, docker_api):
    ids = [make_container(command=("sh", "-c", f"sleep 1; for i in $(seq 1 200); do echo c{k} $i; "
                                               "usleep 5000; done; sleep 3600"), start=True)
           for k in range(4)]
    run(client.connect())

    async def go():
        buf = LogBuffer()
        s = MergedLogSession(client, [(cid, f"c{k}") for k, cid in enumerate(ids)],
                             on_lines=buf.append, on_backfill=buf.backfill)
        await s.start()
        deadline = asyncio.get_running_loop().time() + 60
        while len(buf) < 800 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        followers = [t for t in threading.enumerate() if t.name == "log-follow"]
        await s.aclose()
        return buf, followers

    buf, followers = run(go())
    texts = [buf.line(i)[0] for i in range(len(buf))]
    for k in range(4):
        assert [t for t in texts if t.startswith(f"c{k} ")] == [f"c{k} {i}" for i in range(1, 201)]
    assert len(followers) == 1  # four followed streams, one reader
    followers[0].join(10)
    assert not followers[0].is_alive()  # and it ends with the view
