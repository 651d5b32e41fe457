"""The history file: damaged or locked files moved aside, batching, roll-ups, the disk cap, times."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest

from desktop.engine.records import EngineEvent
from desktop.state.history import stats_tiers
from desktop.state.history.docker_format import TimeInputError, parse_time, rfc3339_nano_fixed
from desktop.state.history.store import HistoryStore, enforce_cap, used_bytes
from desktop.state.history.timeline import TimelineFilter, fts_query, gaps, query_events


def _ev(i: int, name: str = "web", t: int | None = None) -> EngineEvent:
    return EngineEvent("container", "start", f"{i:064x}", {"name": name, "image": "nginx"},
                       t if t is not None else 1_700_000_000_000_000_000 + i * 1_000_000, "local")


def _open(path, **kw) -> HistoryStore:
    s = HistoryStore(path, **kw)
    s.start()
    return s


def _names(store):
    return [r.name for r in store.read_blocking(query_events, TimelineFilter(limit=0))]


def test_a_damaged_file_is_moved_aside_and_a_new_one_started(tmp_path):
    path = tmp_path / "history.sqlite"
    path.write_bytes(b"this is not a database, it is garbage " * 200)
    notices = []
    store = HistoryStore(path)
    store.notices.connect(notices.append)
    store.start()
    store.add_event(_ev(1))
    store.flush().result(10)
    assert _names(store) == ["web"]
    store.close_blocking()
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("history.sqlite.corrupt-")]
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not a database")
    assert notices and "damaged" in notices[0] and aside[0].name in notices[0]
    assert store.notice == notices[0]


@pytest.mark.parametrize("wal", [False, True])
def test_a_file_locked_by_another_connection_is_moved_aside(tmp_path, wal):
    path = tmp_path / "history.sqlite"
    other = sqlite3.connect(path, isolation_level=None)
    if wal:
        other.execute("PRAGMA journal_mode=WAL")
    other.execute("CREATE TABLE theirs(x)")
    other.execute("BEGIN EXCLUSIVE")
    other.execute("INSERT INTO theirs VALUES (1)")
    try:
        store = _open(path)
        store.add_event(_ev(2, "api"))
        store.flush().result(20)
        assert _names(store) == ["api"]
        assert "locked by another program" in store.notice
        store.close_blocking()
    finally:
        try:
            other.close()
        except sqlite3.Error:
            pass  # its file moved under it; its unfinished transaction is moot
    aside = [p for p in tmp_path.iterdir()
             if p.name.startswith("history.sqlite.locked-") and not p.name.endswith(("-wal", "-shm", "-journal"))]
    assert len(aside) == 1  # the other program's file went aside whole, with what it had committed
    check = sqlite3.connect(aside[0])
    assert check.execute("SELECT COUNT(*) FROM theirs").fetchone()[0] in (0, 1)
    check.close()


def test_the_app_keeps_working_when_the_folder_cannot_hold_a_history(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = _open(blocker / "history.sqlite")  # a folder that is a file
    store.add_event(_ev(3))
    store.flush().result(10)
    assert store.broken and "History is not being kept" in store.notice
    store.close_blocking()


def test_writes_are_batched_off_the_calling_thread(tmp_path):
    store = _open(tmp_path / "h.sqlite")
    t0 = time.perf_counter()
    for i in range(20_000):
        store.add_event(_ev(i))
    queued = time.perf_counter() - t0
    store.flush().result(60)
    assert store.read_blocking(lambda c: c.execute("SELECT COUNT(*) FROM events").fetchone()[0]) == 20_000
    # One transaction per batching window (or per BATCH_MAX events), never one per event:
    # the bound follows from how long enqueueing took, so a loaded machine cannot break it.
    from desktop.state.history.store import BATCH_MAX, BATCH_SECONDS
    windows = int(queued / BATCH_SECONDS) + 1
    assert store.writes <= windows + 20_000 // BATCH_MAX + 2
    assert store.writes < 20_000 // 10
    store.close_blocking()


def test_search_filters_and_prefix_words(tmp_path):
    store = _open(tmp_path / "h.sqlite")
    store.add_events([_ev(1, "web-frontend"), _ev(2, "db"), _ev(3, "web-backend")], "local").result(10)
    found = store.read_blocking(query_events, TimelineFilter(text="web-f", limit=0))
    assert [r.name for r in found] == ["web-frontend"]
    assert fts_query('web "x') == '"web"* AND "x"*' and fts_query('web', prefix=False) == '"web"'
    assert fts_query("db 3") == '- {actor} : "db"* AND - {actor} : "3"*'  # too short to be an ID's start
    assert [r.name for r in store.read_blocking(query_events, TimelineFilter(container="db"))] == ["db"]
    store.close_blocking()


def test_gaps_between_watching_periods(tmp_path):
    now = [1000.0]
    store = _open(tmp_path / "h.sqlite", clock=lambda: now[0])
    store.watch_started("local").result(5)
    now[0] = 1010.0
    store.watch_ended("local").result(5)
    now[0] = 2000.0
    store.watch_started("local").result(5)
    store.add_events([_ev(1, t=1500 * 10**9)], "local", filled=True).result(5)
    found = store.read_blocking(gaps)
    assert [(g.start, g.end, g.filled) for g in found] == [(1010 * 10**9, 2000 * 10**9, 1)]
    store.close_blocking()


def _sample_rows(cid, t0, n, step):
    return [(cid, "web", t0 + i * step, 5.0 + (i % 10), 100_000 + i, 512 << 20, i * 10, i * 5, 0, 0, 3)
            for i in range(n)]


def test_stats_roll_up_through_the_tiers_without_losing_the_shape(tmp_path):
    conn = sqlite3.connect(":memory:", isolation_level=None)
    from desktop.state.history.schema import _DDL

    for stmt in _DDL:
        conn.execute(stmt)
    conn.execute("INSERT INTO engines(id, key) VALUES (1, 'local')")
    t0 = 1_700_000_000 // 3600 * 3600
    stats_tiers.insert_samples(conn, 1, "stats_10s", _sample_rows("c1", t0, 6 * 60 * 3, 10))  # 3 hours
    stats_tiers.roll_up(conn, t0 + 3 * 3600 + 3600 + 60)
    assert conn.execute("SELECT COUNT(*) FROM stats_1m").fetchone()[0] == 180
    assert conn.execute("SELECT COUNT(*) FROM stats_1h").fetchone()[0] == 3
    cpu, cpu_max, mem_max = conn.execute("SELECT cpu, cpu_max, mem_max FROM stats_1h ORDER BY t LIMIT 1").fetchone()
    assert 9.0 < cpu < 10.0 and cpu_max == 14.0 and mem_max == 100_000 + 359
    # Past 2 days the 10 s rows are gone; the 1 min rows still hold them.
    stats_tiers.roll_up(conn, t0 + 3 * 86400)
    assert conn.execute("SELECT COUNT(*) FROM stats_10s").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM stats_1m").fetchone()[0] == 180
    pts = stats_tiers.points(conn, "local", "c1", t0, t0 + 3 * 3600, tier="stats_1m")
    assert len(pts) == 180 and pts[0].mem_limit == 512 << 20


def test_the_disk_cap_drops_the_oldest_first(tmp_path):
    store = _open(tmp_path / "h.sqlite", cap_bytes=1 << 20)
    base = 1_700_000_000 * 10**9
    for chunk in range(10):
        store.add_events([_ev(chunk * 2000 + i, f"c{chunk}", base + (chunk * 2000 + i) * 10**9)
                          for i in range(2000)], "local").result(30)
    before = store.read_blocking(lambda c: used_bytes(c))
    assert before > 1 << 20
    store.maintain().result(60)
    after = store.call(used_bytes).result(10)
    assert after <= 1 << 20
    names = set(_names(store))
    assert "c9" in names and "c0" not in names  # the newest kept, the oldest gone
    assert store.size_bytes() <= 2 * (1 << 20)  # freed pages went back to the file system
    store.close_blocking()


def test_enforce_cap_is_a_no_op_under_the_cap(tmp_path):
    conn = sqlite3.connect(":memory:", isolation_level=None)
    assert enforce_cap(conn, 1 << 30) == 0


def test_times_as_docker_events_takes_them():
    now = 1_800_000_000.0
    assert parse_time("2h", now) == int((now - 7200) * 1e9)
    assert parse_time("1h30m", now) == int((now - 5400) * 1e9)
    assert parse_time("1700000000.5") == 1_700_000_000_500_000_000
    assert parse_time("2026-12-01T08:00:00Z") == 1_796_112_000 * 10**9
    assert parse_time("2026-12-01T09:00:00+01:00") == 1_796_112_000 * 10**9
    with pytest.raises(TimeInputError, match="is not a time"):
        parse_time("soon")


def test_rfc3339_nano_fixed_in_utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert rfc3339_nano_fixed(1_796_112_000_000_000_123) == "2026-12-01T08:00:00.000000123Z"
        monkeypatch.setenv("TZ", "Europe/Paris")
        time.tzset()
        assert rfc3339_nano_fixed(1_796_112_000_000_000_123) == "2026-12-01T09:00:00.000000123+01:00"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_reads_and_writes_from_a_loop(tmp_path):
    async def scenario():
        store = HistoryStore(tmp_path / "h.sqlite")
        store.start()
        store.add_event(_ev(1))
        await asyncio.wrap_future(store.flush())
        rows = await store.read(query_events, TimelineFilter())
        await store.aclose()
        return rows

    assert [r.name for r in asyncio.run(scenario())] == ["web"]


def test_a_file_locked_while_running_is_moved_aside_and_recording_goes_on(tmp_path):
    path = tmp_path / "history.sqlite"
    store = _open(path)
    store.add_event(_ev(1, "before"))
    store.flush().result(10)
    other = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    other.execute("BEGIN EXCLUSIVE")  # another program takes the write lock and keeps it
    try:
        store.add_event(_ev(2, "after"))
        store.flush().result(30)  # the writer waits out its lock timeout, then starts a new file
        assert "became locked by another program" in store.notice
        assert _names(store) == ["after"]
    finally:
        other.close()
        store.close_blocking()
    aside = [p for p in tmp_path.iterdir()
             if p.name.startswith("history.sqlite.locked-") and not p.name.endswith(("-wal", "-shm", "-journal"))]
    check = sqlite3.connect(aside[0])
    assert [r[0] for r in check.execute("SELECT name FROM events")] == ["before"]
    check.close()
