"""Reading the recorded timeline: filtered, searched (full-text index), newest first, with the
"not watching" gaps between the times Pilothouse followed each engine."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping

from desktop.engine.records import COMPOSE_PROJECT, EngineEvent


@dataclass(frozen=True)
class TimelineFilter:
    """What to show. Times are nanoseconds since the epoch; None means unbounded."""

    engine: str | None = None  # engine key (the name in the switcher)
    host: str | None = None  # or the engine's endpoint, as `pilothouse events --host` names it
    container: str | None = None  # name, or id (or its first 12+ characters)
    project: str | None = None
    types: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    text: str = ""  # words, each a prefix of a word in a name, image, project or action
    since: int | None = None
    until: int | None = None
    limit: int = 1000
    newest_first: bool = True


@dataclass(frozen=True)
class TimelineEvent:
    id: int
    engine: str
    time_nano: int
    type: str
    action: str
    actor: str
    name: str
    image: str
    project: str
    attributes: Mapping[str, str] = field(compare=False, hash=False)
    scope: str = "local"
    filled: bool = False  # read back from the engine's buffer after Pilothouse was not watching

    def to_engine_event(self) -> EngineEvent:
        return EngineEvent(self.type, self.action, self.actor, self.attributes, self.time_nano, self.engine)


@dataclass(frozen=True)
class Gap:
    """A time Pilothouse did not follow an engine (the app closed, or the engine unreachable)."""

    engine: str
    start: int  # ns: the last moment watched before
    end: int  # ns: when watching began again (or now, for a gap still open)
    filled: int = 0  # events read back from the engine's own buffer for this span


_WORD = re.compile(r"[\w\-.:/]+", re.UNICODE)


def fts_query(text: str, prefix: bool = True) -> str:
    """The user's words as an FTS5 query: every word must match (as a prefix, by default)."""
    words = _WORD.findall(text)
    star = "*" if prefix else ""
    return " ".join('"' + w.replace('"', '""') + '"' + star for w in words)


def _where(f: TimelineFilter) -> tuple[str, list]:
    conds, args = [], []
    if f.engine is not None:
        conds.append("engines.key = ?")
        args.append(f.engine)
    if f.host is not None:
        conds.append("engines.host = ?")
        args.append(f.host)
    if f.container:
        c = f.container.lstrip("/")
        if re.fullmatch(r"[0-9a-f]{12,64}", c):
            conds.append("(events.name = ? OR events.actor LIKE ?)")
            args += [c, c + "%"]
        else:
            conds.append("events.name = ?")
            args.append(c)
    if f.project:
        conds.append("events.project = ?")
        args.append(f.project)
    if f.types:
        conds.append(f"events.type IN ({','.join('?' * len(f.types))})")
        args += list(f.types)
    if f.actions:
        conds.append(f"events.action IN ({','.join('?' * len(f.actions))})")
        args += list(f.actions)
    if f.since is not None:
        conds.append("events.t >= ?")
        args.append(f.since)
    if f.until is not None:
        conds.append("events.t <= ?")
        args.append(f.until)
    q = fts_query(f.text)
    if q:
        conds.append("events.id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)")
        args.append(q)
    return (" WHERE " + " AND ".join(conds)) if conds else "", args


_COLS = ("events.id, engines.key, events.t, events.type, events.action, events.actor, events.name,"
         " events.image, events.project, events.attrs, events.scope, events.filled")


def attributes_of(attrs_json: str, name: str, image: str, project: str) -> dict:
    """The event's attributes as the engine sent them (store.event_row keeps three in columns)."""
    a = json.loads(attrs_json or "{}")
    present = a.pop("\0", "111")
    for flag, key, value in zip(present, ("name", "image", COMPOSE_PROJECT), (name, image, project)):
        if flag == "1":
            a[key] = value
    return a


def _row(r) -> TimelineEvent:
    return TimelineEvent(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8],
                         MappingProxyType(attributes_of(r[9], r[6], r[7], r[8])), r[10], bool(r[11]))


def _query_text_newest(conn: sqlite3.Connection, f: TimelineFilter) -> list[TimelineEvent]:
    """Newest matches of a search. Whole words first: the index streams those newest first,
    while a prefix query gathers every matching word's entries before the first row (a million
    for a word in every event); the prefix query runs only when whole words fall short."""
    seen: dict[int, tuple] = {}  # rows read by the first pass are not read again by the second
    exact = _query_text_chunks(conn, f, fts_query(f.text, prefix=False), seen)
    if len(exact) >= f.limit:
        return exact
    return _query_text_chunks(conn, f, fts_query(f.text), seen)


def _query_text_chunks(conn: sqlite3.Connection, f: TimelineFilter, q: str,
                       seen: dict[int, tuple]) -> list[TimelineEvent]:
    """Walk the full-text index newest first (its rowids follow the order events were recorded)
    a chunk at a time, instead of collecting every match and sorting them."""
    where, args = _where(replace(f, text=""))
    out: list = []
    last = None
    chunk = max(f.limit, 200)  # no other filter: one chunk is the answer; each miss doubles it
    while len(out) < f.limit:
        if last is None:
            ids = [r[0] for r in conn.execute("SELECT rowid FROM events_fts WHERE events_fts MATCH ?"
                                              " ORDER BY rowid DESC LIMIT ?", (q, chunk))]
        else:
            ids = [r[0] for r in conn.execute("SELECT rowid FROM events_fts WHERE events_fts MATCH ? AND rowid < ?"
                                              " ORDER BY rowid DESC LIMIT ?", (q, last, chunk))]
        if not ids:
            break
        last = ids[-1]
        new = [i for i in ids if i not in seen]
        out += [seen[i] for i in ids if i in seen]
        if new:
            in_ids = "events.id IN (" + ",".join(str(int(i)) for i in new) + ")"
            cond = f"{where} AND {in_ids}" if where else f" WHERE {in_ids}"
            rows = conn.execute(f"SELECT {_COLS} FROM events JOIN engines ON engines.id = events.engine{cond}",
                                args).fetchall()
            for r in rows:
                seen[r[0]] = r
            out += rows
        if len(ids) < chunk:
            break
        chunk = min(chunk * 2, 50_000)
        if f.since is not None:
            oldest = conn.execute("SELECT t FROM events WHERE id = ?", (last,)).fetchone()
            if oldest is not None and oldest[0] < f.since:
                break  # recorded before the range begins: older chunks are older still
    out.sort(key=lambda r: (r[2], r[0]), reverse=True)
    return [_row(r) for r in out[:f.limit]]


def query_events(conn: sqlite3.Connection, f: TimelineFilter) -> list[TimelineEvent]:
    """Events matching the filter (run it on the history's reader thread)."""
    q = fts_query(f.text)
    if q and f.newest_first and f.limit and not f.container and not f.project:
        # (A container or project filter narrows through its own index; the search is checked
        # against that short list instead.)
        return _query_text_newest(conn, f)
    where, args = _where(f)
    order = "DESC" if f.newest_first else "ASC"
    sql = (f"SELECT {_COLS} FROM events JOIN engines ON engines.id = events.engine{where}"
           f" ORDER BY events.t {order}, events.id {order}")
    if f.limit:
        sql += f" LIMIT {int(f.limit)}"
    return [_row(r) for r in conn.execute(sql, args)]


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


_TOKEN = re.compile(r"[\w\-]+", re.UNICODE)  # the index's tokenizer: unicode61, '-' and '_' kept in words


def _tokens(s: str) -> list[str]:
    return _TOKEN.findall(s.casefold())


def text_matches(text: str, values: tuple[str, ...]) -> bool:
    """The full-text search of `query_events` over one event's values, in memory: every word of
    `text` is a phrase of consecutive tokens in one value, its last token a prefix."""
    columns = [_tokens(v) for v in values if v]
    for word in _WORD.findall(text):
        phrase = _tokens(word)
        if not phrase:
            continue
        n = len(phrase)
        if not any(col[i:i + n - 1] == phrase[:-1] and col[i + n - 1].startswith(phrase[-1])
                   for col in columns for i in range(len(col) - n + 1)):
            return False
    return True


def matches(f: TimelineFilter, ev: TimelineEvent) -> bool:
    """Whether one event passes the filter, as `query_events` decides (host aside: events seen
    live carry their engine's key)."""
    if f.engine is not None and ev.engine != f.engine:
        return False
    if f.container:
        c = f.container.lstrip("/")
        if not (ev.name == c or (re.fullmatch(r"[0-9a-f]{12,64}", c) and ev.actor.startswith(c))):
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
    return not f.text or text_matches(f.text, (ev.name, ev.image, ev.project, ev.action))
