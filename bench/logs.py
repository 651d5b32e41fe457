"""Benchmarks for the container log viewer, the merged Logs page view, and the terminal.

Run: python bench/logs.py [--lines 10000000] [--follow-seconds 60] [--flood-seconds 10]
     python bench/logs.py --parts merged,follow_many [--scale small]
The merged parts measure one view over many containers, each figure against `docker logs` of the
same containers run in the same moment (the machine is shared, so absolute times are noisy and
the ratios are what to read): 50 containers x 100,000 lines (first screen, exited and running, whole merge, regex
search over all 5 million lines with part of them spilled to disk, memory), then 20 containers
writing 1,000 lines/s each followed live (UI stalls). `--scale small` is a quick check at a tenth.
Uses PILOTHOUSE_TEST_DOCKER_HOST, or starts (and destroys) a private engine. The big log
container is kept between runs (by line count) because writing 10M lines takes minutes.
Prints one FIGURE line per figure; exits 0 whether or not targets are met.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import docker  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402

from desktop.state.log_buffer import iter_log_bytes  # noqa: E402
from desktop.state.log_spill import loaded  # noqa: E402

from tests.harness.private_engine import TEST_IMAGE, PrivateEngine, ensure_test_image  # noqa: E402

BENCH_LABEL = "pilothouse.bench"
# ~60-byte lines like a web service's; every 50th is a coloured warning, every 97th a 503.
GEN = ("awk 'BEGIN{for(i=1;i<=%d;i++){ if(i%%50==0) lvl=\"\\033[33mWARN\\033[0m\"; else lvl=\"INFO\";"
       " printf \"%%09d %%s [w%%02d] GET /api/items/%%d status=%%d t=%%dms\\n\", i, lvl, i%%16, i%%100000,"
       " (i%%97==0)?503:200, i%%250}}'")
FOLLOW = "i=0; while true; do seq $i $((i+999)); i=$((i+1000)); usleep 48000; done"
# ~1,000 lines/s: 100 lines every 100 ms
FOLLOW_1K = "i=0; while true; do seq $i $((i+99)); i=$((i+100)); usleep 100000; done"


def figure(name: str, value: float, baseline: float, op: str, target: float, unit: str = "") -> None:
    ratio = value / baseline if baseline else float("inf")
    ok = value <= target if op == "<=" else value >= target
    print(f"FIGURE {name} value={value:.4g}{unit} baseline={baseline:.4g}{unit} ratio={ratio:.3g} "
          f"target={op}{target:g}{unit} {'PASS' if ok else 'MISS'}", flush=True)


class StallMonitor:
    """Measures how late a 4 ms repeating timer fires on the UI thread."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(4)
        self.timer.timeout.connect(self._tick)
        self.stamps: list[float] = []

    def _tick(self) -> None:
        self.stamps.append(time.perf_counter())

    def start(self) -> None:
        self.stamps = [time.perf_counter()]
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return [max(0.0, (b - a) - 0.004) * 1000 for a, b in zip(self.stamps, self.stamps[1:])]


async def wait_for(cond, timeout: float, step: float = 0.002) -> float:
    t0 = time.perf_counter()
    while not cond():
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("condition not met")
        await asyncio.sleep(step)
    return time.perf_counter() - t0


def big_log_container(api: docker.APIClient, lines: int) -> str:
    name = f"pilothouse-bench-logs-{lines}"
    try:
        info = api.inspect_container(name)
        if info["State"]["Status"] == "exited" and info["State"]["ExitCode"] == 0:
            return info["Id"]
        api.remove_container(name, force=True)
    except docker.errors.NotFound:
        pass
    t0 = time.time()
    print(f"# writing a {lines:,}-line log (kept for later runs)…", flush=True)
    c = api.create_container(TEST_IMAGE, command=["sh", "-c", GEN % lines], name=name, labels={BENCH_LABEL: "logs"})
    api.start(c["Id"])
    api.wait(c["Id"], timeout=3600)
    print(f"# written in {time.time() - t0:.0f} s", flush=True)
    return c["Id"]


async def run(host: str, args) -> None:
    from desktop.engine.client import EngineClient
    from desktop.engine.endpoints import Endpoint

    api = docker.APIClient(base_url=host, version="auto", timeout=600)
    client = EngineClient([Endpoint(host, "--host")])
    await client.connect()
    parts = set(args.parts.split(","))
    idle = StallMonitor()
    idle.start()
    await asyncio.sleep(2)
    idle_stalls = idle.stop()
    stalls = StallMonitor()
    if "load" in parts:
        await bench_load(api, client, host, args, stalls)
    if "follow" in parts:
        await bench_follow(api, client, args, stalls, idle_stalls)
    if "terminal" in parts:
        await bench_terminal(api, client, args, stalls, idle_stalls)
    if "merged" in parts:
        await bench_merged(api, client, host, args, stalls)
    if "follow_many" in parts:
        await bench_follow_many(api, client, args, stalls, idle_stalls)
    await client.aclose()
    api.close()


async def bench_load(api, client, host, args, stalls) -> None:
    from PySide6.QtWidgets import QApplication

    from desktop.state.log_search import LogSearch
    from desktop.ui.containers.detail.logs_tab import LogsTab

    proc = psutil.Process()
    cid = big_log_container(api, args.lines)
    docker_cli = shutil.which("docker")

    # -- baseline: the engine's own speed, `docker logs ID > /dev/null`
    t0 = time.perf_counter()
    subprocess.run([docker_cli, "--host", host, "logs", cid], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    baseline_load = time.perf_counter() - t0

    # -- open: last screenful, then the whole log
    rss0 = proc.memory_info().rss
    tab = LogsTab(client, [(cid, "bench")])
    tab.resize(1100, 700)
    tab.show()
    QApplication.processEvents()
    t0 = time.perf_counter()
    tab.start()
    buf, view = tab.buffer, tab.view
    first = await wait_for(lambda: len(buf) > 0 and view._painted and view._painted[-1][0] == len(buf) - 1, 30)
    print(f"# first screen shows {len(buf):,} lines", flush=True)
    stalls.start()
    await wait_for(lambda: tab.is_loaded, 3600, 0.05)
    load = time.perf_counter() - t0
    load_stalls = stalls.stop()
    raw = sum(len(c.data) for _, c in buf.chunks())
    rss = proc.memory_info().rss - rss0
    figure("logs_first_screen_ms", first * 1000, 300, "<=", 300, "")
    figure("logs_full_load_s", load, baseline_load, "<=", baseline_load * 1.2)
    print(f"# loaded {len(buf):,} lines; UI stall during load p99={statistics.quantiles(load_stalls, n=100)[98]:.1f} ms"
          f" max={max(load_stalls):.1f} ms", flush=True)
    figure("logs_memory_ratio", buf.nbytes() / raw, 1.0, "<=", 1.3)
    figure("logs_rss_growth_ratio", rss / raw, 1.0, "<=", 1.3)

    # -- regex search over 1,000,000 lines
    chunks, n = [], 0
    for start, c in buf.chunks():
        take = min(len(c), 1_000_000 - n)
        chunks.append((n, c.slice(0, take)))
        n += take
        if n >= 1_000_000:
            break
    s = LogSearch(r"status=5\d\d", regex=True, case_sensitive=True)
    t0 = time.perf_counter()
    res = s.scan_snapshot((chunks, []))
    search = time.perf_counter() - t0
    with tempfile.NamedTemporaryFile() as f:
        for _, c in chunks:
            f.write(c.data)
        f.flush()
        t0 = time.perf_counter()
        out = subprocess.run(["grep", "-cE", r"status=5[0-9][0-9]", f.name], capture_output=True, text=True)
        grep = time.perf_counter() - t0
    assert int(out.stdout) == len(res[0]), (out.stdout, len(res[0]))
    figure("logs_regex_search_1M_ms", search * 1000, grep * 1000, "<=", 200)
    await tab.aclose()
    tab.close()
    tab.deleteLater()


async def bench_follow(api, client, args, stalls, idle_stalls) -> None:
    """Following a container that writes ~20,000 lines/s."""
    from desktop.ui.containers.detail.logs_tab import LogsTab

    fc = api.create_container(TEST_IMAGE, command=["sh", "-c", FOLLOW], labels={BENCH_LABEL: "follow"})
    try:
        api.start(fc["Id"])
        tab = LogsTab(client, [(fc["Id"], "follow")])
        tab.resize(1100, 700)
        tab.show()
        arrivals: list[tuple[float, int]] = []
        tab.buffer.changed.connect(lambda o, n: arrivals.append((time.perf_counter(), len(tab.buffer))))
        tab.start()
        await wait_for(lambda: len(tab.buffer) > 0, 30)
        stalls.start()
        t_start, n_start = time.perf_counter(), len(tab.buffer)
        await asyncio.sleep(args.follow_seconds)
        follow_stalls = stalls.stop()
        rate = (len(tab.buffer) - n_start) / (time.perf_counter() - t_start)
        api.kill(fc["Id"])
        api.wait(fc["Id"])
        t_kill = time.perf_counter()
        engine_lines = await asyncio.get_running_loop().run_in_executor(
            None, lambda: api.logs(fc["Id"], stdout=True, stderr=True).count(b"\n"))
        behind = engine_lines - len(tab.buffer)
        await wait_for(lambda: len(tab.buffer) >= engine_lines, 60, 0.005)
        # when did the engine's last line reach the view, counted from the moment the writer died
        catch_up = max(0.0, next(t for t, n in arrivals if n >= engine_lines) - t_kill)
        p99 = statistics.quantiles(follow_stalls, n=100)[98]
        print(f"# followed {rate:,.0f} lines/s for {args.follow_seconds} s; {behind:,} lines behind when the engine "
              f"had {engine_lines:,}", flush=True)
        idle_p99 = statistics.quantiles(idle_stalls, n=100)[98]
        figure("logs_follow_stall_p99_ms", p99, idle_p99, "<=", 16)
        figure("logs_follow_stall_max_ms", max(follow_stalls), max(idle_stalls), "<=", 50)
        figure("logs_follow_catch_up_s", catch_up, 0.001, "<=", 1.0)
        await tab.aclose()
        tab.close()
    finally:
        api.remove_container(fc["Id"], force=True)



async def bench_terminal(api, client, args, stalls, idle_stalls) -> None:
    """A terminal flooded with output."""
    from desktop.engine.records import Container
    from desktop.ui.containers.detail.terminal_tab import TerminalTab

    tc = api.create_container(TEST_IMAGE, command=["sleep", "3600"], labels={BENCH_LABEL: "term"})
    try:
        api.start(tc["Id"])
        c = Container.from_api({"Id": tc["Id"], "Names": ["/term"], "State": "running"})
        term = TerminalTab(client, c)
        term.resize(1100, 700)
        term.show()
        term.activate()
        await wait_for(lambda: term.session is not None and term.session.running, 30)
        stalls.start()
        term.session.write(b"yes 'flooding the terminal with a long line of text, again and again'\r")
        await asyncio.sleep(args.flood_seconds)
        flood_stalls = stalls.stop()
        term.session.write(b"\x03")
        figure("terminal_flood_stall_max_ms", max(flood_stalls), max(idle_stalls), "<=", 50)
        print(f"# terminal flood stall p99={statistics.quantiles(flood_stalls, n=100)[98]:.1f} ms", flush=True)
        await term.aclose()
        term.close()
    finally:
        api.remove_container(tc["Id"], force=True)


def merged_containers(api: docker.APIClient, n: int, lines: int, running: bool = False) -> list[str]:
    """n containers with `lines` lines of log each, kept between runs (by count): exited, or
    (running) still running, quiet after writing them."""
    from concurrent.futures import ThreadPoolExecutor

    def written(cid: str) -> bool:
        return api.logs(cid, tail=1).startswith(b"%09d" % lines)

    def one(i: int) -> str:
        name = f"pilothouse-bench-merged-{'run-' if running else ''}{lines}-{i:03d}"
        try:
            info = api.inspect_container(name)
            if running and info["State"]["Status"] == "running" and written(info["Id"]):
                return info["Id"]
            if not running and info["State"]["Status"] == "exited" and info["State"]["ExitCode"] == 0:
                return info["Id"]
            api.remove_container(name, force=True)
        except docker.errors.NotFound:
            pass
        c = api.create_container(TEST_IMAGE, command=["sh", "-c", GEN % lines + ("; exec sleep 1000000" if running else "")],
                                 name=name, labels={BENCH_LABEL: "merged"},
                                 host_config=api.create_host_config(network_mode="none"))
        api.start(c["Id"])
        if running:
            deadline = time.time() + 3600
            while not written(c["Id"]) and time.time() < deadline:
                time.sleep(0.5)
        else:
            api.wait(c["Id"], timeout=3600)
        return c["Id"]

    t0 = time.time()
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(one, range(n)))
    print(f"# {n} containers x {lines:,} lines ready in {time.time() - t0:.0f} s", flush=True)
    return ids


def docker_logs_parallel(host: str, ids: list[str], extra: tuple[str, ...] = ()) -> float:
    """Seconds for `docker logs [extra] ID > /dev/null` of every container at once."""
    docker_cli = shutil.which("docker")
    t0 = time.perf_counter()
    procs = [subprocess.Popen([docker_cli, "--host", host, "logs", *extra, cid], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for cid in ids]
    for p in procs:
        p.wait()
    return time.perf_counter() - t0


async def bench_merged(api, client, host, args, stalls) -> None:
    """One merged view over many containers' whole logs."""
    from PySide6.QtWidgets import QApplication

    from desktop.state.log_search import LogSearch
    from desktop.ui.containers.detail.logs_tab import LogsTab

    n, each = args.containers, args.lines_each
    ids = merged_containers(api, n, each)
    proc = psutil.Process()
    first_base = docker_logs_parallel(host, ids, ("--tail", "60"))  # one screenful of each
    load_base = docker_logs_parallel(host, ids)

    async def open_merged(cids: list[str], prefix: str, memory_limit: int | None = None):
        """A merged view over `cids`, shown and started: (view, when it started, seconds to the
        first screen painted down to its newest line)."""
        tab = LogsTab(client, [(cid, f"{prefix}{i:03d}") for i, cid in enumerate(cids)], merged=True)
        if memory_limit is not None:
            tab.buffer.memory_limit = memory_limit
        tab.resize(1100, 700)
        tab.show()
        QApplication.processEvents()
        b, v = tab.buffer, tab.view
        started = time.perf_counter()
        tab.start()
        shown = await wait_for(lambda: len(b) > 0 and v._painted and v._painted[-1][0] == len(b) - 1, 60)
        return tab, started, shown

    rss0 = proc.memory_info().rss
    tab, t0, first = await open_merged(ids, "svc", args.memory_limit_mb << 20)
    buf = tab.buffer
    stalls.start()
    await wait_for(lambda: tab.is_loaded, 3600, 0.02)
    load = time.perf_counter() - t0
    load_stalls = stalls.stop()
    total = n * each
    print(f"# merged {len(buf):,} of {total:,} lines; {buf.disk_bytes() / 1e6:,.0f} MB spilled to disk, "
          f"{buf.memory_raw_bytes() / 1e6:,.0f} MB in memory; UI stall during load "
          f"p99={statistics.quantiles(load_stalls, n=100)[98]:.1f} ms", flush=True)
    pending = sum(1 for _, c in buf.chunks() if getattr(c, "pending", False))
    print(f"# chunks still being written to disk when the load ended: {pending}", flush=True)
    ts = np.concatenate([loaded(c).ts for _, c in buf.chunks()])
    print(f"# time-ordered: {bool(np.all(ts[1:] >= ts[:-1]))}", flush=True)
    figure("logs_merged_first_screen_ms", first * 1000, first_base * 1000, "<=", 300)
    figure("logs_merged_full_load_s", load, load_base, "<=", load_base * 1.3)
    figure("logs_merged_memory_ratio", buf.nbytes() / max(1, buf.memory_raw_bytes()), 1.0, "<=", 1.3)
    print(f"# sealed chunks: {len(buf.older.sealed) + len(buf.newer.sealed)}, the largest "
          f"{max((len(c.data) if hasattr(c, 'load') is False else c.data_len for _, c in buf.chunks()), default=0) / 1e6:.1f} MB",
          flush=True)
    rss = proc.memory_info().rss - rss0
    print(f"# RSS grew {rss / 1e6:,.0f} MB for {buf.memory_raw_bytes() / 1e6:,.0f} MB of log text in memory", flush=True)

    # the same first screen over running containers (quiet now): their follow streams stay open
    run_ids = merged_containers(api, n, each, running=True)
    run_base = docker_logs_parallel(host, run_ids, ("--tail", "60"))
    rtab, _, rfirst = await open_merged(run_ids, "run")
    figure("logs_merged_running_first_screen_ms", rfirst * 1000, run_base * 1000, "<=", 300)
    await rtab.aclose()
    rtab.close()

    # regex search over every line, in memory and on disk, as the search bar runs it (a worker)
    s = LogSearch(r"status=5\d\d", regex=True, case_sensitive=True)
    snap = s.snapshot(buf)
    t0 = time.perf_counter()
    res = await asyncio.get_running_loop().run_in_executor(None, s.scan_snapshot, snap)
    search = time.perf_counter() - t0
    with tempfile.NamedTemporaryFile(dir=os.path.dirname(os.path.abspath(__file__))) as f:
        for piece in iter_log_bytes(buf.chunks()):
            f.write(piece)
        f.flush()
        t0 = time.perf_counter()
        out = subprocess.run(["grep", "-cE", r"status=5[0-9][0-9]", f.name], capture_output=True, text=True)
        grep = time.perf_counter() - t0
    found = len(res[0]) + len(res[2])
    print(f"# search found {found:,} lines (grep: {out.stdout.strip()})", flush=True)
    figure(f"logs_merged_regex_search_{total // 1_000_000 or total / 1e6:g}M_ms", search * 1000, grep * 1000, "<=", 1000)
    await tab.aclose()
    tab.close()
    tab.deleteLater()


async def bench_follow_many(api, client, args, stalls, idle_stalls) -> None:
    """Following many containers at ~1,000 lines/s each in one merged view."""
    from concurrent.futures import ThreadPoolExecutor

    from desktop.ui.containers.detail.logs_tab import LogsTab

    k = args.followed

    def make(i: int) -> str:
        c = api.create_container(TEST_IMAGE, command=["sh", "-c", FOLLOW_1K], labels={BENCH_LABEL: "follow-many"},
                                 host_config=api.create_host_config(network_mode="none"))
        api.start(c["Id"])
        return c["Id"]

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(make, range(k)))
    try:
        tab = LogsTab(client, [(cid, f"busy{i:02d}") for i, cid in enumerate(ids)], merged=True)
        tab.resize(1100, 700)
        tab.show()
        tab.start()
        await wait_for(lambda: len(tab.buffer) > 0 and tab.is_loaded, 60)
        stalls.start()
        t_start, n_start = time.perf_counter(), len(tab.buffer)
        await asyncio.sleep(args.follow_seconds)
        follow_stalls = stalls.stop()
        rate = (len(tab.buffer) - n_start) / (time.perf_counter() - t_start)
        p99 = statistics.quantiles(follow_stalls, n=100)[98]
        idle_p99 = statistics.quantiles(idle_stalls, n=100)[98]
        print(f"# followed {k} containers: {rate:,.0f} lines/s in the view (written: ~{k * 1000:,}/s)", flush=True)
        figure("logs_follow_many_stall_p99_ms", p99, idle_p99, "<=", 16)
        figure("logs_follow_many_rate_ratio", rate, k * 1000.0, ">=", k * 1000.0 * 0.9)
        await tab.aclose()
        tab.close()
    finally:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda cid: api.remove_container(cid, force=True), ids))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--follow-seconds", type=float, default=60)
    ap.add_argument("--flood-seconds", type=float, default=10)
    ap.add_argument("--parts", default="load,follow,terminal,merged,follow_many", help="comma-separated subset to run")
    ap.add_argument("--containers", type=int, default=50, help="merged view: how many containers")
    ap.add_argument("--lines-each", type=int, default=100_000, help="merged view: lines per container")
    ap.add_argument("--memory-limit-mb", type=int, default=128,
                    help="merged view: log bytes kept in memory before spilling (the rest goes to disk)")
    ap.add_argument("--followed", type=int, default=20, help="containers followed at 1,000 lines/s each")
    ap.add_argument("--scale", choices=("full", "small"), default="full", help="small: a quick check at a tenth")
    args = ap.parse_args()
    if args.scale == "small":
        args.containers, args.lines_each, args.followed = 10, 10_000, 5
        args.follow_seconds = min(args.follow_seconds, 10)
        args.memory_limit_mb = min(args.memory_limit_mb, 2)
    host = os.environ.get("PILOTHOUSE_TEST_DOCKER_HOST")
    engine = None
    if not host:
        engine = PrivateEngine()
        engine.start()
        host = engine.host
    try:
        ensure_test_image(host)
        from desktop.state.memory import tune_allocator

        tune_allocator()  # as run_gui does
        import qasync
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication(sys.argv)
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            loop.run_until_complete(run(host, args))
    except Exception as exc:  # noqa: BLE001 - a bench reports, it does not fail the build
        print(f"# bench failed: {exc!r}", flush=True)
    finally:
        if engine is not None:
            engine.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
