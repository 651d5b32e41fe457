"""Reading the recorded timeline: filtered, searched (full-text index), newest first, with the
"not watching" gaps between the times Pilothouse followed each engine."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from desktop.state.history.timeline_rows import (  # noqa: F401 - the timeline's names, as before
    Gap, PLANS, TextMatcher, TimelineEvent, TimelineFilter, _COLS, _FROM, _HEX_ID, _TOKEN, _WORD, _container_fts, _row,
    _searched_values, _tokens, _where, _words, attributes_of, fts_query,
)
from desktop.state.history.timeline_search import query_events
from desktop.state.history.wording import detail_of


def count_events(conn: sqlite3.Connection, f: TimelineFilter) -> int:
    where, args = _where(f)
    return conn.execute(f"SELECT COUNT(*) FROM events JOIN engines ON engines.id = events.engine{where}",
                        args).fetchone()[0]


def gaps(conn: sqlite3.Connection, since: int | None = None, until: int | None = None,
         engine: str | None = None, host: str | None = None) -> list[Gap]:
    """Spans between consecutive watching periods of each engine that overlap [since, until]."""
    conds, args = [], []
    if engine is not None:
        conds.append("engines.key = ?")
        args.append(engine)
    if host is not None:
        conds.append("engines.host = ?")
        args.append(host)
    where = (" WHERE " + " AND ".join(conds)) if conds else ""
    rows = conn.execute("SELECT engines.key, watching.start, watching.end, engines.id FROM watching"
                        f" JOIN engines ON engines.id = watching.engine{where}"
                        " ORDER BY watching.engine, watching.start", args).fetchall()
    out: list[Gap] = []
    prev: dict[str, tuple[int, int]] = {}
    for key, start, end, eid in rows:
        if key in prev and start > prev[key][0]:
            g_start, g_end = prev[key][0], start
            if (since is None or g_end >= since) and (until is None or g_start <= until):
                filled = conn.execute("SELECT COUNT(*) FROM events WHERE engine=? AND filled=1 AND t>=? AND t<=?",
                                      (eid, g_start, g_end)).fetchone()[0]
                out.append(Gap(key, g_start, g_end, filled))
        if key not in prev or end > prev[key][0]:
            prev[key] = (end, eid)
    out.sort(key=lambda g: g.start)
    return out


def last_event_time(conn: sqlite3.Connection, engine: str) -> int | None:
    """When the newest recorded event of an engine happened (ns), or when it was last watched."""
    row = conn.execute("SELECT MAX(t) FROM events WHERE engine=(SELECT id FROM engines WHERE key=?)",
                       (engine,)).fetchone()
    w = conn.execute("SELECT MAX(end) FROM watching WHERE engine=(SELECT id FROM engines WHERE key=?)",
                     (engine,)).fetchone()
    values = [v for v in (row[0], w[0]) if v is not None]
    return max(values) if values else None


def engines(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(key, host) of every engine in the history."""
    return [(k, h) for k, h in conn.execute("SELECT key, host FROM engines ORDER BY id")]


def distinct_values(conn: sqlite3.Connection, column: str, limit: int = 500) -> list[str]:
    """Names or projects for the timeline's filter menus."""
    if column not in ("name", "project", "type"):
        raise ValueError(column)
    return [r[0] for r in conn.execute(
        f"SELECT DISTINCT {column} FROM events WHERE {column} != '' ORDER BY {column} LIMIT ?", (limit,))]


def rows_around(query, f: TimelineFilter, t_ns: int, each: int = 1000) -> tuple[list, bool]:
    """The events matching the filter on both sides of a moment, newest first: up to `each`
    after it and `each` before it (the filter's own since/until are replaced). `query(filter)`
    runs one filter. Returns the rows and whether they reach the newest matching event."""
    newer = query(replace(f, since=t_ns + 1, until=None, limit=each + 1, newest_first=False))
    older = query(replace(f, since=None, until=t_ns, limit=each, newest_first=True))
    return list(reversed(newer[:each])) + list(older), len(newer) <= each


def query_around(conn: sqlite3.Connection, f: TimelineFilter, t_ns: int,
                 each: int = 1000) -> tuple[list[TimelineEvent], bool]:
    """`rows_around` in the history (run it on the history's reader thread)."""
    return rows_around(lambda g: query_events(conn, g), f, t_ns, each)


def event_key(ev: TimelineEvent) -> tuple:
    """What makes an event one row of the history (its unique index): seen live and read back once."""
    return ev.engine, ev.time_nano, ev.actor[:16], ev.action


def text_matches(text: str, values: tuple[str, ...], action: str = "") -> bool:
    """The full-text search of `query_events` over one event's values, in memory (TextMatcher)."""
    return TextMatcher(text).matches(tuple(values), action)


def matches(f: TimelineFilter, ev: TimelineEvent) -> bool:
    """Whether one event passes the filter, as `query_events` decides (host aside: events seen
    live carry their engine's key)."""
    if f.engine is not None and ev.engine != f.engine:
        return False
    if f.container:
        c = f.container.lstrip("/")
        if not (ev.name == c or (_HEX_ID.fullmatch(c) and ev.actor.startswith(c))):
            return False
    if f.project and ev.project != f.project:
        return False
    if f.types and ev.type not in f.types:
        return False
    if f.actions and ev.action not in f.actions:
        return False
    if f.since is not None and ev.time_nano < f.since:
        return False
    if f.until is not None and ev.time_nano > f.until:
        return False
    return not f.text or text_matches(f.text, searched_values(ev), ev.action)


def searched_values(ev: TimelineEvent) -> tuple[str, ...]:
    """An event's values in the index's columns (schema.FTS_COLUMNS)."""
    return ev.name, ev.image, ev.project, ev.action, detail_of(ev.type, ev.action, ev.attributes), ev.actor
