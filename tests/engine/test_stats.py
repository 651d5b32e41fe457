"""Stats streams and the StatsHub on the real engine, checked against `docker stats --no-stream`."""

import asyncio
import re
import time

import psutil
import pytest

from desktop.engine.stats import StatsStreams
from desktop.metrics.stats_hub import StatsHub
from desktop.state.containers import ContainerStore

BURN = ("sh", "-c", "while :; do :; done")
SHM_MIB = 96
HOLD = ("sh", "-c", f"dd if=/dev/zero of=/dev/shm/hold bs=1M count={SHM_MIB} 2>/dev/null; exec sleep 3600")
_UNITS = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3, "kB": 1000, "MB": 1000 ** 2, "GB": 1000 ** 3}


def _bytes(text: str) -> float:
    m = re.match(r"([\d.]+)\s*([A-Za-z]+)", text.strip())
    return float(m.group(1)) * _UNITS[m.group(2)]


def cli_stats(docker_cli, cid):
    out = docker_cli("stats", "--no-stream", "--format", "{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}", cid)
    assert out.returncode == 0, out.stderr
    cpu, mem, pids = out.stdout.strip().split("|")
    used, limit = mem.split("/")
    return float(cpu.rstrip("%")), _bytes(used), _bytes(limit), int(pids)


async def until(pred, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def connected_hub(client, use_mux=True):
    await client.connect()
    store = ContainerStore()
    store.replace_all(await client.list_containers(all=True))
    return store, StatsHub(client, store, use_mux=use_mux)


@pytest.mark.parametrize("use_mux", [True, False], ids=["one-selector-thread", "thread-per-stream"])
def test_figures_agree_with_docker_stats_cli(client, run, make_container, docker_cli, docker_api, use_mux):
    burner = make_container(command=BURN, start=True)
    holder = make_container(command=HOLD, start=True, shm_size="256m")
    # The busy loop's own CPU time, as the host kernel counts it (the shell's `:` is a builtin:
    # no child processes): what our figure must match, however much of a core the loop gets.
    burner_proc = psutil.Process(docker_api.inspect_container(burner)["State"]["Pid"])

    def cpu_seconds() -> float:
        t = burner_proc.cpu_times()
        return t.user + t.system

    async def go():
        store, hub = await connected_hub(client, use_mux)
        got = {burner: [], holder: []}
        kernel = []  # (monotonic, burner CPU seconds) when each burner sample arrived

        def on_burner(s):
            got[burner].append(s)
            kernel.append((time.monotonic(), cpu_seconds()))

        subs = [hub.subscribe(burner, on_burner), hub.subscribe(holder, got[holder].append)]
        # The memory file written (dd done) and one more holder sample after it, so its CPU figure
        # covers a second of sleep; three burner samples so the CPU delta has settled.
        def settled() -> bool:
            full = [i for i, s in enumerate(got[holder]) if s.mem_used >= SHM_MIB * 1024 ** 2]
            return len(got[burner]) >= 3 and bool(full) and len(got[holder]) > full[0] + 1

        await until(settled, 60, "the memory file and three samples per container")
        before = len(got[burner])
        cli_b = await client.run(cli_stats, docker_cli, burner)
        cli_h = await client.run(cli_stats, docker_cli, holder)
        await until(lambda: len(got[burner]) >= before + 2, 30, "samples around the CLI's")
        # The CLI's figure is one second of CPU; compare with ours for the seconds around it.
        ours_cpu = [s.cpu_percent for s in got[burner][-4:]]
        assert min(abs(c - cli_b[0]) for c in ours_cpu) < 15, (ours_cpu, cli_b)
        # A busy loop shows as busy as it really was: our mean over the last three seconds against
        # the kernel's count for the same stretch. How much of a core the loop gets depends on the
        # machine's load, so the check is relative (a wrong factor, e.g. a missing online-CPUs
        # term, is off by 2x), with a few points of slack for when samples arrived.
        (t0, c0), (t1, c1) = kernel[-4], kernel[-1]
        real = (c1 - c0) / (t1 - t0) * 100
        ours = sum(ours_cpu[-3:]) / 3
        assert real > 0 and ours > 0, (ours_cpu, real)
        assert abs(ours - real) <= max(5.0, 0.35 * real), (ours_cpu, real)
        h = got[holder][-1]
        assert h.mem_used >= SHM_MIB * 1024 ** 2
        assert abs(h.mem_used - cli_h[1]) < max(0.02 * cli_h[1], 1024 ** 2), (h.mem_used, cli_h)
        assert abs(h.mem_limit - cli_h[2]) / cli_h[2] < 0.01
        assert h.pids == cli_h[3] and got[burner][-1].pids == cli_b[3]
        assert h.cpu_percent < 5
        for s in subs:
            s.close()
        assert hub.open_streams == 0
        hub.close()

    run(go())


@pytest.mark.parametrize("use_mux", [True, False], ids=["one-selector-thread", "thread-per-stream"])
def test_streams_follow_subscribers_and_end_when_containers_stop(client, run, make_container, docker_api, use_mux):
    a = make_container(start=True)
    b = make_container(start=True)
    stopped = make_container(start=False)

    async def go():
        store, hub = await connected_hub(client, use_mux)
        counts = []
        hub.streams_changed.connect(counts.append)
        s1 = hub.subscribe(a)
        s2 = hub.subscribe(a)  # a second viewer of the same container shares the stream
        s3 = hub.subscribe(b)
        s4 = hub.subscribe(stopped)  # not running: no stream
        assert hub.open_streams == 2 and not hub.streaming(stopped)
        await until(lambda: hub.latest(a) is not None and hub.latest(b) is not None, 20, "first samples")
        s1.close()
        assert hub.open_streams == 2  # still watched by s2
        s2.close()
        s2.close()  # idempotent
        assert hub.open_streams == 1 and not hub.streaming(a)
        assert hub.history(a) is None  # nobody looks: history dropped

        # Pausing closes the stream; resuming reopens it (the store tells the hub).
        await client.pause(b)
        store.upsert(await client.list_containers(all=True, filters={"id": [b]}))
        assert hub.open_streams == 0
        await client.unpause(b)
        store.upsert(await client.list_containers(all=True, filters={"id": [b]}))
        assert hub.open_streams == 1

        # Stopped from outside: the stream ends by itself, before the store even knows.
        n = len(hub.history(b))
        await until(lambda: len(hub.history(b)) > n, 10, "a sample after resuming")
        docker_api.kill(b)
        await until(lambda: hub.open_streams == 0, 15, "the stream to end after the kill")
        assert b not in hub.last_error  # ended cleanly, not an error
        assert len(hub.history(b)) > 0  # history survives for the viewer still watching
        s3.close()
        s4.close()

        # The dashboard's "all running" subscription streams every running container only.
        docker_api.start(stopped)
        store.replace_all(await client.list_containers(all=True))
        running = [c.id for c in store.all() if c.state == "running"]
        dash = hub.subscribe_all()
        assert hub.open_streams == len(running) and hub.streaming(stopped)
        dash.close()
        assert hub.open_streams == 0
        assert counts[-1] == 0
        hub.close()

    run(go())


def test_many_streams_run_concurrently(client, run, make_container):
    ids = [make_container(start=True) for _ in range(8)]

    async def go():
        store, hub = await connected_hub(client)
        seen = {cid: [] for cid in ids}
        subs = [hub.subscribe(cid, seen[cid].append) for cid in ids]
        assert hub.open_streams == 8  # all asked for at once, none waits for another's answer
        await until(lambda: all(len(v) >= 2 for v in seen.values()), 60, "two samples from every stream")
        # Measured on the engine's clock, in its own sampling ticks, so a loaded machine (slower
        # ticks, later deliveries) moves both sides alike: sequential one-shot polling would spread
        # the first samples over at least one tick per container; concurrent streams get theirs
        # from the same pass or the next couple.
        firsts = [v[0].time for v in seen.values()]
        tick = min(v[1].time - v[0].time for v in seen.values())
        spread = max(firsts) - min(firsts)
        assert spread < tick * (len(ids) - 1) / 2, (spread, tick)
        assert hub.open_streams == 8
        for s in subs:
            s.close()
        assert hub.open_streams == 0
        hub.close()

    run(go())


def test_a_missing_container_ends_its_stream_with_the_engines_sentence(client, run):
    async def go():
        await client.connect()
        ended = []
        streams = StatsStreams(client, lambda b: None, ended.append)
        streams.open("0" * 64)
        await until(lambda: bool(ended), 10, "the stream to end")
        assert "No such container" in ended[0].reason and streams.count == 0
        streams.close_all()

    run(go())


@pytest.mark.engine_restart
def test_streams_come_back_after_the_engine_restarts(restartable_engine, run, test_image):
    """A watched container with restart=always: its stream ends with the engine and reopens after."""
    import docker as sdk

    from desktop.engine.client import EngineClient
    from desktop.engine.endpoints import Endpoint
    from desktop.state.connection import ConnectionStatus
    from desktop.state.sync import EngineSync

    api = sdk.APIClient(base_url=restartable_engine.host, version="auto")
    cid = api.create_container(test_image, command=["sleep", "3600"], stop_signal="SIGKILL",
                               host_config=api.create_host_config(restart_policy={"Name": "always"}))["Id"]
    api.start(cid)
    client = EngineClient([Endpoint(restartable_engine.host, "--host")])
    store, status = ContainerStore(), ConnectionStatus()
    sync = EngineSync(client, store, status)

    async def go():
        sync.start()
        await until(lambda: status.current.loaded, 30, "the first list")
        hub = StatsHub(client, store)
        seen = []
        sub = hub.subscribe(cid, seen.append)
        await until(lambda: len(seen) >= 2, 15, "samples before the restart")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, restartable_engine.stop)
        await until(lambda: hub.open_streams == 0, 30, "the stream to end with the engine")
        await loop.run_in_executor(None, restartable_engine.start)
        n = len(seen)
        await until(lambda: len(seen) > n + 1, 60, "samples after the restart")
        assert hub.open_streams == 1
        sub.close()
        hub.close()
        await sync.aclose()
        await client.aclose()

    try:
        run(go())
    finally:
        api.remove_container(cid, force=True)
        api.close()


def test_a_table_rows_glance_stream_reads_only_the_newest_sample_every_two_ticks(client, run, make_container,
                                                                                  docker_api):
    busy = make_container(command=BURN, start=True)
    proc = psutil.Process(docker_api.inspect_container(busy)["State"]["Pid"])

    def cpu_seconds() -> float:
        t = proc.cpu_times()
        return t.user + t.system

    async def go():
        store, hub = await connected_hub(client)
        got, kernel = [], []

        def on_sample(s):
            got.append(s)
            kernel.append((time.monotonic(), cpu_seconds()))

        sub = hub.subscribe(busy, on_sample, glance=True)
        await until(lambda: len(got) >= 6, 60, "six glance samples")
        sub.close()
        hub.close()
        # On the engine's clock (it ticks once a second, later when loaded, never sooner): after
        # the first two, about one sample per GLANCE_EVERY ticks, each the newest the engine had
        # sent.
        times = [s.time for s in got]
        gaps = [b - a for a, b in zip(times[1:], times[2:])]
        assert sum(gaps) / len(gaps) > 1.4, times
        # Its CPU % is the engine's figure for its own last second, a real one from the second
        # sample on (a row scrolled into view shows one at once): as busy as the kernel counted.
        (t0, c0), (t1, c1) = kernel[1], kernel[-1]
        real = (c1 - c0) / (t1 - t0) * 100
        ours = sum(s.cpu_percent for s in got[2:]) / len(got[2:])
        assert real > 0 and got[1].cpu_percent > 0, ([s.cpu_percent for s in got], real)
        assert abs(ours - real) <= max(5.0, 0.35 * real), ([s.cpu_percent for s in got], real)

    run(go())
