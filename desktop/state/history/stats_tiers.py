"""Stats history in tiers: 1 s rows for an hour, 10 s for two days, 1 min for thirty days, 1 h
after that (until the disk cap). Older rows are rolled up into the next tier, never just dropped."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from desktop.state.history.schema import TIERS

TIER_SECONDS = dict(TIERS)
# How long each tier keeps its rows (the 1 h tier: until the disk cap takes the oldest).
RETENTION = {"stats_1s": 3600, "stats_10s": 2 * 86400, "stats_1m": 30 * 86400, "stats_1h": None}
# (source, destination): what each roll-up reads and writes.
ROLLUPS = (("stats_1s", "stats_10s"), ("stats_10s", "stats_1m"), ("stats_1m", "stats_1h"))
LATE_SECONDS = 30  # a bucket is rolled once nothing more can arrive for it
# Walks the primary key (series, t) one series at a time: a time range without an index on t.
BY_SERIES = "series IN (SELECT id FROM series)"
COLUMNS = ("cpu", "cpu_max", "mem", "mem_max", "mem_limit", "net_rx", "net_tx", "blk_r", "blk_w", "pids")


@dataclass(frozen=True)
class StatsPoint:
    t: float
    cpu: float
    cpu_max: float
    mem: int
    mem_max: int
    mem_limit: int
    net_rx: int
    net_tx: int
    blk_read: int
    blk_write: int
    pids: int


def series_id(conn: sqlite3.Connection, engine: int, container: str, name: str = "") -> int:
    conn.execute("INSERT INTO series(engine, container, name) VALUES (?,?,?) ON CONFLICT(engine, container)"
                 " DO UPDATE SET name=excluded.name WHERE excluded.name != ''", (engine, container, name))
    return conn.execute("SELECT id FROM series WHERE engine=? AND container=?", (engine, container)).fetchone()[0]


def insert_samples(conn: sqlite3.Connection, engine: int, tier: str, rows: list[tuple]) -> None:
    """rows: (container id, name, t seconds, cpu, mem, mem_limit, net_rx, net_tx, blk_r, blk_w, pids)."""
    if tier not in TIER_SECONDS:
        raise ValueError(f"no stats tier {tier}")
    ids: dict[str, int] = {}
    out = []
    step = TIER_SECONDS[tier]
    for cid, name, t, cpu, mem, limit, rx, tx, br, bw, pids in rows:
        sid = ids.get(cid)
        if sid is None:
            sid = ids[cid] = series_id(conn, engine, cid, name)
        out.append((sid, int(t) // step * step, cpu, cpu, mem, mem, limit, rx, tx, br, bw, pids))
    conn.executemany(f"INSERT OR REPLACE INTO {tier}(series, t, {', '.join(COLUMNS)}) VALUES"
                     " (?,?,?,?,?,?,?,?,?,?,?,?)", out)


def _watermark(conn: sqlite3.Connection, dst: str) -> int | None:
    row = conn.execute("SELECT value FROM meta WHERE key=?", (f"rolled:{dst}",)).fetchone()
    return int(row[0]) if row else None


def roll_up(conn: sqlite3.Connection, now: float) -> None:
    """Roll every complete bucket not rolled yet into the next tier, then drop rows past their
    tier's retention (they live on, averaged, in the next one). Call inside a transaction."""
    for src, dst in ROLLUPS:
        step = TIER_SECONDS[dst]
        cutoff = int(now - LATE_SECONDS) // step * step
        start = _watermark(conn, dst)
        if start is None:
            first = conn.execute(f"SELECT MIN(t) FROM {src}").fetchone()[0]
            if first is None:
                continue
            start = int(first) // step * step
        if cutoff <= start:
            continue
        # A 10 s row measured by the sampler beats one averaged from 1 s rows: only fill holes.
        verb = "INSERT OR IGNORE" if src == "stats_1s" else "INSERT OR REPLACE"
        conn.execute(
            f"{verb} INTO {dst}(series, t, {', '.join(COLUMNS)})"
            f" SELECT series, (t / {step}) * {step}, AVG(cpu), MAX(cpu_max), CAST(AVG(mem) AS INTEGER), MAX(mem_max),"
            f" MAX(mem_limit), MAX(net_rx), MAX(net_tx), MAX(blk_r), MAX(blk_w), MAX(pids)"
            f" FROM {src} WHERE {BY_SERIES} AND t >= ? AND t < ? GROUP BY series, t / {step}", (start, cutoff))
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (f"rolled:{dst}", str(cutoff)))
    for table, keep in RETENTION.items():
        if keep is not None:
            conn.execute(f"DELETE FROM {table} WHERE {BY_SERIES} AND t < ?", (int(now) - keep,))


def tier_for(span_seconds: float) -> str:
    """The finest tier that still holds the whole of a range ending now."""
    if span_seconds <= 3600:
        return "stats_1s"
    if span_seconds <= 2 * 86400:
        return "stats_10s"
    if span_seconds <= 30 * 86400:
        return "stats_1m"
    return "stats_1h"


def window_at(t: float, now: float) -> tuple[float, float, str]:
    """(since, until, tier) of a window centred on a past moment: the finest tier that still
    holds that moment, and a window wide enough for that tier to draw a curve."""
    age = max(0.0, now - t)
    for tier, keep, half in (("stats_1s", 3600, 900), ("stats_10s", 2 * 86400, 900),
                             ("stats_1m", 30 * 86400, 3 * 3600), ("stats_1h", None, 2 * 86400)):
        if keep is None or age + half <= keep:
            return t - half, t + half, tier
    raise AssertionError("unreachable")


def points(conn: sqlite3.Connection, engine_key: str, container: str, since: float, until: float,
           tier: str | None = None) -> list[StatsPoint]:
    """A container's history between two times (epoch seconds), from the tier that fits the
    range; the recent part not rolled up yet comes from the finer tiers, and a range of an hour
    or less mixes in 10 s rows where no 1 s rows were streamed."""
    tier = tier or tier_for(max(0.0, until - since))
    sql = (f"SELECT t, {', '.join(COLUMNS)} FROM {{table}} JOIN series ON series.id = {{table}}.series"
           " JOIN engines ON engines.id = series.engine"
           " WHERE engines.key=? AND (series.container=? OR series.container LIKE ?) AND t >= ? AND t <= ?"
           " ORDER BY t")
    like = container + "%" if len(container) >= 12 else container

    def fetch(table: str, start: float) -> list:
        return conn.execute(sql.format(table=table), (engine_key, container, like, int(start), int(until))).fetchall()

    order = [name for name, _ in TIERS]
    rows = fetch(tier, since)
    covered = (rows[-1][0] + TIER_SECONDS[tier]) if rows else since
    for finer in reversed(order[:order.index(tier)]):
        # (1 s rows only where nothing coarser exists yet: a streamed container's last minute
        # or two, before its roll-up into 10 s rows.)
        more = fetch(finer, covered)
        rows += more
        if more:
            covered = more[-1][0] + TIER_SECONDS[finer]
    if tier == "stats_1s":
        have = {r[0] // 10 for r in rows}
        rows += [r for r in fetch("stats_10s", since) if r[0] // 10 not in have]
        rows.sort(key=lambda r: r[0])
    return [StatsPoint(float(r[0]), *r[1:]) for r in rows]


def engine_totals(conn: sqlite3.Connection, engine_key: str, since: float, until: float,
                  tier: str | None = None) -> list[tuple[float, float, int]]:
    """(t, total CPU %, total memory) of every container of an engine, from the sampled tiers
    (the 1 s rows cover only what someone watched, so they would not add up)."""
    span = until - since
    if tier is None or tier == "stats_1s":
        tier = "stats_10s" if span <= 2 * 86400 else ("stats_1m" if span <= 30 * 86400 else "stats_1h")
    sql = ("SELECT t, SUM(cpu), SUM(mem) FROM {table} JOIN series ON series.id = {table}.series"
           " JOIN engines ON engines.id = series.engine WHERE engines.key = ? AND t >= ? AND t <= ?"
           " GROUP BY t ORDER BY t")
    rows = conn.execute(sql.format(table=tier), (engine_key, int(since), int(until))).fetchall()
    if tier != "stats_10s":  # the recent part not rolled up yet
        start = rows[-1][0] + TIER_SECONDS[tier] if rows else since
        rows += conn.execute(sql.format(table="stats_10s"), (engine_key, int(start), int(until))).fetchall()
    return [(float(t), float(c or 0.0), int(m or 0)) for t, c, m in rows]
