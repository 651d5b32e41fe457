"""Benchmark: what the engine's memory (the history) costs, and how fast it answers.

One run:
  * 100 running containers on a private engine, the stats-history sampler and the event recorder
    on: this process's CPU (the recorder's whole cost: sampler, writer thread) over a minute,
    against the `docker stats` CLI's own CPU on the same containers; the daemon CPU each adds
    over the engine at rest, side by side;
  * a history of 1,000,000 events (four months, two engines): every search form of the timeline
    (container name or ID, project, type, words, exit codes; with engine and time range) for its
    first screen (median of 20), against a plain indexed lookup (one container's newest events);
    the timeline around a moment in the middle (1,000 rows each side), plain and searched;
  * a year of one container's stats, rolled up (what the tiers hold after a year), against the
    same year kept as raw 10-second samples.
Prints FIGURE lines; exits 0 whether or not targets are met.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import docker  # noqa: E402
import psutil  # noqa: E402

from bench.common import bench_engine, figure  # noqa: E402
from bench.stats import cpu_seconds, engine_processes  # noqa: E402
from tests.harness.private_engine import TEST_IMAGE  # noqa: E402

N = int(os.environ.get("HISTORY_BENCH_CONTAINERS", "100"))
WINDOW = float(os.environ.get("HISTORY_BENCH_WINDOW", "60"))
EVENTS = int(os.environ.get("HISTORY_BENCH_EVENTS", "1000000"))
LABEL = "pilothouse.bench.history"
T0 = 1_790_000_000 * 10**9
STEP = 10 * 10**9  # an event every 10 s: a million over four months


def make_containers(api: docker.APIClient, n: int) -> list[str]:
    def one(i: int) -> str:
        c = api.create_container(TEST_IMAGE, command=["sleep", "3600"], name=f"bench-history-{i:03d}",
                                 labels={LABEL: "1"}, stop_signal="SIGKILL")
        api.start(c["Id"])
        return c["Id"]

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(n)))


async def measure(seconds: float, engines) -> tuple[float, float]:
    """(% of a core used by this process, by the engine's processes) over a window."""
    me = psutil.Process()
    a0, e0, t0 = sum(me.cpu_times()[:2]), cpu_seconds(engines), time.monotonic()
    await asyncio.sleep(seconds)
    dt = time.monotonic() - t0
    return (sum(me.cpu_times()[:2]) - a0) / dt * 100, (cpu_seconds(engines) - e0) / dt * 100


async def recorder_costs(host: str, tmp: Path) -> None:
    from desktop.engine.endpoints import Endpoint
    from desktop.metrics.stats_history import StatsHistorySampler
    from desktop.state.engines import EngineRegistry
    from desktop.state.history.recorder import EventRecorder
    from desktop.state.history.store import HistoryStore

    engines = engine_processes(host)
    registry = EngineRegistry()
    session = registry.add("bench", [Endpoint(host, "--host")])
    loaded = asyncio.get_running_loop().create_future()

    async def hook() -> None:
        if not loaded.done():
            loaded.set_result(None)

    session.sync.add_resync_hook(hook)
    session.start()
    await asyncio.wait_for(loaded, 60)
    running = sum(1 for c in session.containers.all() if c.state == "running")
    await asyncio.sleep(3)
    _app_rest, engine_rest = await measure(WINDOW / 2, engines)

    store = HistoryStore(tmp / "history.sqlite")
    store.start()
    recorder = EventRecorder(store, registry)
    sampler = StatsHistorySampler(store, registry)
    sampler.start()
    await asyncio.sleep(2)
    app_rec, engine_rec = await measure(WINDOW, engines)
    calls = sampler.calls
    await sampler.aclose()
    await recorder.aclose()
    await store.aclose()
    await asyncio.sleep(2)

    cli = subprocess.Popen(["docker", "--host", host, "stats", "--format", "{{.ID}} {{.CPUPerc}} {{.MemUsage}}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    await asyncio.sleep(4)
    cli_proc = psutil.Process(cli.pid)
    c0, t0 = sum(cli_proc.cpu_times()[:2]), time.monotonic()
    _a, engine_cli = await measure(WINDOW / 2, engines)
    cli_cpu = (sum(cli_proc.cpu_times()[:2]) - c0) / (time.monotonic() - t0) * 100
    cli.terminate()
    cli.wait(10)
    await registry.aclose()

    print(f"note: {running} running containers; {calls} one-shot stats calls in {WINDOW:.0f} s "
          f"(at most {running * (WINDOW / 10 + 1):.0f} allowed)", flush=True)
    figure("history_recorder_app_cpu_100_containers", app_rec, cli_cpu, "<=1%", "%")
    added_rec, added_cli = max(0.0, engine_rec - engine_rest), max(1e-6, engine_cli - engine_rest)
    figure("history_recorder_daemon_cpu_vs_docker_stats", added_rec, added_cli, "<=0.3", "%")


def build_events(path: Path, n: int) -> None:
    """A history of `n` events over ~4 months of 1,000 containers in 50 Compose projects on two
    engines (one in ten events on the second); every 500th event a volume's; dying containers
    leave exit codes, killed ones signals."""
    from desktop.engine.records import EngineEvent
    from desktop.state.history.store import HistoryStore

    store = HistoryStore(path)
    store.start()
    t0 = T0
    actions = ("create", "start", "die", "destroy", "kill", "exec_start: sh", "health_status: healthy", "stop")
    chunk = 50_000
    for base in range(0, n, chunk):
        by_engine: dict[str, list] = {"local": [], "remote": []}
        for i in range(base, min(n, base + chunk)):
            t = t0 + i * STEP
            if i % 500 == 499:
                by_engine["local"].append(EngineEvent("volume", "create", f"vol-{i % 40:02d}", {"driver": "local"},
                                                      t, "local"))
                continue
            c = i % 1000
            action = actions[(i + i // 1000) % len(actions)]
            attrs = {"name": f"svc-{c:04d}", "image": f"registry.local/team/app{c % 37}:v{c % 5}",
                     "com.docker.compose.project": f"proj{c % 50}"}
            if action == "die":
                attrs["exitCode"] = ("0", "1", "137", "143", "2")[(i // 8) % 5]
            elif action == "kill":
                attrs["signal"] = ("9", "15")[(i // 8) % 2]
            key = "remote" if i % 10 == 3 else "local"
            actor = f"{(c * 2654435761) % 2**64:016x}".ljust(64, "e")  # IDs that share no prefix
            by_engine[key].append(EngineEvent("container", action, actor, attrs, t, key))
        for key, evs in by_engine.items():
            store.add_events(evs, key).result(600)
    store.close_blocking()


def search_costs(tmp: Path) -> None:
    from desktop.state.history.store import HistoryStore
    from desktop.state.history.timeline import TimelineFilter, query_around, query_events
    from desktop.ui.history.timeline_page import FIRST_SCREEN, PAGE_ROWS

    path = Path(os.environ.get("HISTORY_BENCH_EVENTS_DB") or tmp / "events.sqlite")  # (set: kept between runs)
    t0 = time.perf_counter()
    if not path.exists():
        build_events(path, EVENTS)
    print(f"note: {EVENTS:,} events written in {time.perf_counter() - t0:.1f} s "
          f"({(time.perf_counter() - t0) / EVENTS * 1e6:.1f} µs each, batched on the writer thread)", flush=True)
    store = HistoryStore(path)
    store.start()
    store.flush().result(60)

    def timed(fn, *args, n: int = 20) -> float:
        ts = []
        for _ in range(n):
            s = time.perf_counter()
            store.read_blocking(fn, *args)
            ts.append(time.perf_counter() - s)
        return statistics.median(ts) * 1000

    middle = T0 + EVENTS // 2 * STEP
    day = 86400 * 10**9
    first = FIRST_SCREEN
    svc = f"{(421 * 2654435761) % 2**64:016x}"[:12]  # the ID of svc-0421, as typed in the container filter
    # Every search form the timeline offers, for its first screen; the baseline is a plain
    # indexed lookup (one container's newest events through the name index).
    forms = {
        "container_name_engine_week": TimelineFilter(container="svc-0421", engine="local", since=middle - 7 * day,
                                                     until=middle, limit=first),
        "container_id": TimelineFilter(container=svc, limit=first),
        "project_and_type": TimelineFilter(project="proj7", types=("container",), limit=first),
        "rare_type": TimelineFilter(types=("volume",), limit=first),
        "name_words": TimelineFilter(text="svc-0421", limit=first),
        "two_common_words": TimelineFilter(text="proj7 start", limit=first),
        "broad_prefix": TimelineFilter(text="svc-0", limit=first),
        "wording": TimelineFilter(text="exited", engine="local", limit=first),
        "exit_code_other_engine": TimelineFilter(text="exit 137", engine="remote", limit=first),
        "common_word_and_project": TimelineFilter(text="start", project="proj7", limit=first),
        "common_word_and_rare_type": TimelineFilter(text="start", types=("volume",), limit=first),
        "common_word_day_in_the_middle": TimelineFilter(text="start", since=middle - day, until=middle, limit=first),
    }
    got = store.read_blocking(query_events, forms["name_words"])
    assert got and all(r.name == "svc-0421" for r in got), "the search found the wrong rows"
    got = store.read_blocking(query_events, forms["exit_code_other_engine"])
    assert got and all(r.action == "die" and r.attributes.get("exitCode") == "137" and r.engine == "remote"
                       for r in got), "the exit code search found the wrong rows"

    def like(conn, word):
        w = f"%{word}%"
        return conn.execute("SELECT * FROM events WHERE name LIKE ? OR image LIKE ? OR project LIKE ? OR action LIKE ?"
                            " ORDER BY t DESC LIMIT ?", (w, w, w, w, first)).fetchall()

    baseline = timed(query_events, TimelineFilter(container="svc-0421", limit=first))
    results = {name: timed(query_events, f) for name, f in forms.items()}
    like_rare = timed(like, "svc-0421")
    # The Activity timeline around a moment pointed at (a graph's point): 1,000 rows each side of
    # the middle of the history, against the newest 2,000 (what the page reads when opened); a
    # search around it shows its first screen (50 each side) first.
    around = timed(query_around, TimelineFilter(limit=PAGE_ROWS), middle, PAGE_ROWS // 2)
    newest = timed(query_events, TimelineFilter(limit=PAGE_ROWS))
    around_rare = timed(query_around, TimelineFilter(text="svc-0421", limit=first), middle, first // 2)
    around_common = timed(query_around, TimelineFilter(text="start", limit=first), middle, first // 2)
    around_common_page = timed(query_around, TimelineFilter(text="start", limit=PAGE_ROWS), middle, PAGE_ROWS // 2)
    full = {name: timed(query_events, replace(f, limit=PAGE_ROWS), n=5) for name, f in forms.items()}
    from desktop.state.history.timeline_sort import SORT_WINDOW, query_sorted

    sorted_by = {col: timed(query_sorted, TimelineFilter(limit=PAGE_ROWS), col, False, n=5) for col in ("object", "what")}
    store.close_blocking()
    print(f"note: the timeline sorted by a column (the newest {SORT_WINDOW:,} events, read off the UI thread): "
          + ", ".join(f"{k} {v:.0f} ms" for k, v in sorted_by.items()), flush=True)
    print("note: the rest of a search's page (2,000 rows), read after its first screen: "
          + ", ".join(f"{k} {v:.0f} ms" for k, v in full.items()), flush=True)
    print(f"note: a common word around a moment, the whole page (1,000 each side): {around_common_page:.0f} ms; "
          f"the same word as a LIKE scan's first screen: {like_rare:.0f} ms", flush=True)
    figure("history_timeline_around_a_moment_1m_events", around, newest, "<=200ms", "ms")
    figure("history_timeline_around_a_moment_1m_events_name_search", around_rare, baseline, "<=200ms", "ms")
    figure("history_timeline_around_a_moment_1m_events_common_word", around_common, baseline, "<=200ms", "ms")
    for name, value in results.items():
        figure(f"history_search_1m_events_{name}", value, baseline, "<=200ms", "ms")
    figure("history_search_1m_events_slowest_form", max(results.values()), baseline, "<=200ms", "ms")


def year_size(tmp: Path) -> None:
    """A year of one container: what the tiers hold then (2 days of 10 s rows, 30 days of 1 min
    rows, a year of 1 h rows, an hour of 1 s rows), against a year of raw 10 s samples."""
    from desktop.state.history import stats_tiers
    from desktop.state.history.schema import open_history

    def db(name):
        conn, _ = open_history(tmp / name)
        conn.execute("INSERT INTO engines(id, key) VALUES (1, 'local')")
        return conn

    now = 1_800_000_000
    cid = "c" * 64

    def rows(start, count, step):
        return [(cid, "web", start + i * step, 3.5 + (i % 17) * 0.25, 50_000_000 + (i % 1000) * 4096, 512 << 20,
                 i * 1500, i * 900, i * 4096, i * 8192, 12) for i in range(count)]

    rolled = db("year-rolled.sqlite")
    rolled.execute("BEGIN")
    for tier, step, span in (("stats_1s", 1, 3600), ("stats_10s", 10, 2 * 86400), ("stats_1m", 60, 30 * 86400),
                             ("stats_1h", 3600, 365 * 86400)):
        stats_tiers.insert_samples(rolled, 1, tier, rows(now - span, span // step, step))
    rolled.execute("COMMIT")
    rolled.execute("VACUUM")
    rolled.close()
    rolled_size = os.path.getsize(tmp / "year-rolled.sqlite")

    raw = db("day-raw.sqlite")  # one day of raw 10 s rows, times 365
    raw.execute("BEGIN")
    stats_tiers.insert_samples(raw, 1, "stats_10s", rows(now - 86400, 8640, 10))
    raw.execute("COMMIT")
    raw.execute("VACUUM")
    raw.close()
    empty = db("empty.sqlite")
    empty.execute("VACUUM")
    empty.close()
    base = os.path.getsize(tmp / "empty.sqlite")
    raw_year = base + (os.path.getsize(tmp / "day-raw.sqlite") - base) * 365
    figure("history_one_container_year_rolled_up", rolled_size / 1e6, raw_year / 1e6, "<=5mb", "MB")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="pilothouse-bench-history-") as d:
        tmp = Path(d)
        parts = os.environ.get("HISTORY_BENCH_PARTS", "year,search,recorder").split(",")
        if "year" in parts:
            year_size(tmp)
        if "search" in parts:
            search_costs(tmp)
        if "recorder" not in parts:
            return 0
        with bench_engine() as host:
            api = docker.APIClient(base_url=host, version="auto", timeout=120)
            try:
                make_containers(api, N)
                asyncio.run(recorder_costs(host, tmp))
            finally:
                for c in api.containers(all=True, filters={"label": LABEL}):
                    api.remove_container(c["Id"], force=True)
                api.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
