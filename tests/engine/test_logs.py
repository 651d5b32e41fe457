"""Log sessions against the real engine: tail first, backfill, follow, resume, merge, options."""

from __future__ import annotations

import asyncio
import time

import pytest

from desktop.engine.compose_logs import MergedLogSession
from desktop.engine.errors import NotFoundError
from desktop.engine.logs import TAIL_FIRST, LogOptions, LogSession
from desktop.engine.log_records import STDERR
from desktop.state.log_buffer import LogBuffer, iter_log_bytes

MIXED = "for i in $(seq 1 3000); do echo out $i; echo err $i >&2; done"


async def load(client, cid, options=LogOptions(), until=lambda buf, ended: True, timeout=60):
    buf = LogBuffer()
    done = asyncio.Event()
    ended = []

    def progress(f):
        if f is None:
            done.set()

    s = LogSession(client, cid, options, on_lines=buf.append, on_backfill=buf.backfill, on_progress=progress,
                   on_ended=ended.append)
    await s.start()
    await asyncio.wait_for(done.wait(), timeout)
    deadline = asyncio.get_running_loop().time() + timeout
    while not until(buf, ended) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    return s, buf, ended


def test_tail_first_then_backfill_gives_the_exact_log(client, run, make_container, docker_api):
    cid = make_container(command=("sh", "-c", MIXED), start=True)
    docker_api.wait(cid, timeout=60)
    run(client.connect())

    async def go():
        s, buf, ended = await load(client, cid, until=lambda b, e: len(b) == 6000 and e)
        await s.aclose()
        return buf, ended

    buf, ended = run(go())
    assert len(buf.newer) >= TAIL_FIRST and len(buf.older) > 0  # the tail came first, the rest backfilled
    assert b"".join(iter_log_bytes(buf.chunks())) == docker_api.logs(cid, stdout=True, stderr=True)
    stderr = [buf.line(i)[0] for i in range(len(buf)) if buf.line(i)[2] & STDERR]
    assert len(stderr) == 3000 and all(t.startswith("err ") for t in stderr)
    assert ended == [""]  # the container is not running: the follow stream ended quietly


def test_follow_then_resume_after_restart_without_duplicates(client, run, make_container, docker_api):
    cid = make_container(command=("sh", "-c", "for i in $(seq 1 50); do echo run $i; sleep 0.01; done"), start=True)
    run(client.connect())

    async def go():
        s, buf, ended = await load(client, cid, until=lambda b, e: len(b) == 50 and e)
        assert ended == [""]
        docker_api.start(cid)
        s.resume()
        for _ in range(1500):
            if len(buf) >= 100 and ended[1:]:
                break
            await asyncio.sleep(0.02)
        await s.aclose()
        return buf

    buf = run(go())
    texts = [buf.line(i)[0] for i in range(len(buf))]
    assert texts == [f"run {i}" for i in range(1, 51)] * 2


def test_tail_and_since_options(client, run, make_container, docker_api):
    cid = make_container(command=("sh", "-c", "seq 1 500"), start=True)
    docker_api.wait(cid, timeout=30)
    run(client.connect())

    async def go():
        s, buf, _ = await load(client, cid, LogOptions(tail=10, follow=False))
        await s.aclose()
        s2, buf2, _ = await load(client, cid, LogOptions(since=4_000_000_000, follow=False))  # the future: nothing
        await s2.aclose()
        return buf, buf2

    buf, buf2 = run(go())
    assert [buf.line(i)[0] for i in range(len(buf))] == [str(i) for i in range(491, 501)]
    assert len(buf2) == 0


def test_merged_project_logs_interleave_by_time(client, run, make_container, docker_api):
    # Both writers wait for the same wall-clock second: starting a container can take over a
    # second (several, on a loaded 2-core machine), and then the first would be done before the
    # second began.
    at = int(time.time()) + 12
    wait = f"while [ $(date +%s) -lt {at} ]; do usleep 20000; done; "
    a = make_container(command=("sh", "-c", wait + "usleep 500000; for i in 1 2 3; do echo a$i; usleep 400000; done"))
    b = make_container(command=("sh", "-c", wait + "for i in 1 2 3; do echo b$i; usleep 300000; done"))
    docker_api.start(a)
    docker_api.start(b)
    docker_api.wait(a, timeout=30)
    docker_api.wait(b, timeout=30)
    run(client.connect())

    async def go():
        buf = LogBuffer()
        done = asyncio.Event()
        m = MergedLogSession(client, [(a, "web"), (b, "db")], on_lines=buf.append, on_backfill=buf.backfill,
                             on_progress=lambda f: f is None and done.set())
        await m.start()
        await asyncio.wait_for(done.wait(), 30)
        await m.aclose()
        return buf

    buf = run(go())
    lines = [buf.line(i) for i in range(len(buf))]
    assert [ts for _, ts, _ in lines] == sorted(ts for _, ts, _ in lines)
    assert [t for t, _, tag in lines if tag >> 1 == 1] == ["a1", "a2", "a3"]
    assert [t for t, _, tag in lines if tag >> 1 == 2] == ["b1", "b2", "b3"]
    # when the two writers overlapped in time (a start can take longer than the wait on a
    # saturated machine), their lines interleave
    a_ts = [ts for _, ts, tag in lines if tag >> 1 == 1]
    b_ts = [ts for _, ts, tag in lines if tag >> 1 == 2]
    if min(b_ts) < max(a_ts) and min(a_ts) < max(b_ts):
        assert [tag >> 1 for _, _, tag in lines] not in ([1, 1, 1, 2, 2, 2], [2, 2, 2, 1, 1, 1])


def test_missing_container_is_a_sentence(client, run):
    run(client.connect())
    s = LogSession(client, "0" * 64, on_lines=lambda b: None)
    with pytest.raises(NotFoundError) as e:
        run(s.start())
    assert "no longer exists" in str(e.value)


def test_last_n_above_the_first_screenful_is_tail_first_then_backfilled(client, run, make_container, docker_api):
    cid = make_container(command=("sh", "-c", "seq 1 5000"), start=True)
    docker_api.wait(cid, timeout=30)
    run(client.connect())
    want = 2500

    async def go():
        s, buf, _ = await load(client, cid, LogOptions(tail=want, follow=False), until=lambda b, e: len(b) == want)
        await s.aclose()
        return buf

    buf = run(go())
    assert len(buf.newer) == TAIL_FIRST and len(buf.older) == want - TAIL_FIRST  # a screenful first
    assert [buf.line(i)[0] for i in range(len(buf))] == [str(i) for i in range(5000 - want + 1, 5001)]


def test_a_32_mib_line_arrives_whole(client, run, make_container, docker_api):
    size = 32 << 20
    cid = make_container(command=("sh", "-c", f"echo before; head -c {size} /dev/zero | tr '\\0' a; echo; echo after"),
                         start=True)
    docker_api.wait(cid, timeout=120)
    run(client.connect())

    async def go():
        s, buf, ended = await load(client, cid, until=lambda b, e: len(b) == 3 and e)
        await s.aclose()
        return buf

    buf = run(go())
    assert [len(buf.line_bytes(i)) for i in range(len(buf))] == [6, size, 5]


def test_merged_view_is_in_time_order_across_tails_and_backfill(client, run, make_container, docker_api):
    """A long log (tail, then backfill) and a short one written during it: the short one's lines
    older than the merged tail's start go with the backfill, so the whole view is in time order."""
    at = int(time.time()) + 5
    wait = f"while [ $(date +%s) -lt {at} ]; do usleep 20000; done; "
    long_ = make_container(command=("sh", "-c", wait + f"i=0; while [ $i -lt {3 * TAIL_FIRST} ]; do "
                                    "echo long $i; i=$((i+1)); [ $((i % 100)) = 0 ] && usleep 50000; done"))
    short = make_container(command=("sh", "-c", wait + "for i in 1 2 3 4 5 6; do echo short $i; usleep 200000; done"))
    for c in (long_, short):
        docker_api.start(c)
    for c in (long_, short):
        docker_api.wait(c, timeout=60)
    run(client.connect())

    async def go():
        buf = LogBuffer()
        done = asyncio.Event()
        m = MergedLogSession(client, [(long_, "long"), (short, "short")], on_lines=buf.append,
                             on_backfill=buf.backfill, on_progress=lambda f: f is None and done.set())
        await m.start()
        await asyncio.wait_for(done.wait(), 30)
        await m.aclose()
        return buf

    buf = run(go())
    lines = [buf.line(i) for i in range(len(buf))]
    assert len(lines) == 3 * TAIL_FIRST + 6
    ts = [t for _, t, _ in lines]
    assert ts == sorted(ts)
    assert [t for t, _, tag in lines if tag >> 1 == 1] == [f"long {i}" for i in range(3 * TAIL_FIRST)]
    assert [t for t, _, tag in lines if tag >> 1 == 2] == [f"short {i}" for i in range(1, 7)]
    assert len(buf.older) > 0  # the backfill took part


def test_merged_views_opened_while_containers_write_are_in_time_order(client, run, make_container, docker_api):
    """Four containers write stdout and stderr at once; views opened one after another while
    they write (each tail read at its own moment, gaps and follow streams delivered in whatever
    order) are each in time order from end to end, every line once."""
    n = 250
    script = (f"i=0; while [ $i -lt {n} ]; do echo out $i; echo err $i >&2; i=$((i+1)); "
              "[ $((i % 10)) = 0 ] && usleep 80000; done; sleep 3600")
    ids = [make_container(command=("sh", "-c", script)) for _ in range(4)]
    run(client.connect())
    for c in ids:
        docker_api.start(c)
    expected = sorted(f"{k} {i}" for i in range(n) for k in ("out", "err"))

    async def go():
        loop = asyncio.get_running_loop()
        views = []
        deadline = loop.time() + 90
        for j in range(4):
            buf = LogBuffer()
            m = MergedLogSession(client, [(c, f"c{k}") for k, c in enumerate(ids)], on_lines=buf.append,
                                 on_backfill=buf.backfill)
            await m.start()
            views.append((m, buf))
            # the next view opens once this one shows lines arriving (the writers are still going)
            while len(buf) < (j + 1) * 200 and loop.time() < deadline:
                await asyncio.sleep(0.01)
        while any(len(buf) < 8 * n for _, buf in views) and loop.time() < deadline:
            await asyncio.sleep(0.02)
        for m, _ in views:
            await m.aclose()
        return [buf for _, buf in views]

    for buf in run(go()):
        lines = [buf.line(i) for i in range(len(buf))]
        ts = [t for _, t, _ in lines]
        assert ts == sorted(ts)
        for k in range(1, 5):
            assert sorted(text for text, _, tag in lines if tag >> 1 == k) == expected


def test_a_merged_view_of_quiet_running_containers_shows_its_first_screen_at_once(client, run, make_container,
                                                                                 docker_api):
    """Running containers that wrote a while ago: their follow streams stay open, yet no line
    can still be on its way (the engine's clock, told with its answers, is well past them), so
    when start() returns the view already shows every line from its first one on (the older
    ones follow as backfill); and one stopped container among them."""
    ids = [make_container(command=("sh", "-c", f"for i in $(seq 1 50); do echo q{k} $i; done; sleep 3600"))
           for k in range(3)]
    ids.append(make_container(command=("sh", "-c", "for i in $(seq 1 50); do echo q3 $i; done")))
    run(client.connect())
    for c in ids:
        docker_api.start(c)
    docker_api.wait(ids[-1], timeout=60)
    written = {}  # text -> the engine's stamp, as RFC 3339
    for c in ids:
        while len(docker_api.logs(c).splitlines()) < 50:
            time.sleep(0.02)
        for line in docker_api.logs(c, timestamps=True).decode().splitlines():
            stamp, text = line.split(" ", 1)
            written[text] = stamp
    newest = max(written.values())
    epoch = time.mktime(time.strptime(newest[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone + float("0." + newest[20:29])
    while time.time() < epoch + 1.3:  # quiet for longer than the engine's Date header's second
        time.sleep(0.05)

    async def go():
        buf = LogBuffer()
        done = asyncio.Event()
        m = MergedLogSession(client, [(c, f"q{k}") for k, c in enumerate(ids)], on_lines=buf.append,
                             on_backfill=buf.backfill, on_progress=lambda f: f is None and done.set())
        await m.start()
        first = [buf.line(i)[0] for i in range(len(buf))]
        await asyncio.wait_for(done.wait(), 30)
        lines = [buf.line(i) for i in range(len(buf))]
        await m.aclose()
        return first, lines

    first, lines = run(go())
    assert first
    oldest_shown = min(written[t] for t in first)
    assert sorted(first) == sorted(t for t, stamp in written.items() if stamp >= oldest_shown)
    assert sorted(t for t, _, _ in lines) == sorted(written)
    ts = [t for _, t, _ in lines]
    assert ts == sorted(ts)
