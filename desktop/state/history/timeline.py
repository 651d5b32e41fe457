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
from desktop.state.history.wording import actions_for, detail_of


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
_TOKEN = re.compile(r"[\w\-]+", re.UNICODE)  # the index's tokenizer: unicode61, '-' and '_' kept in words
_HEX_ID = re.compile(r"[0-9a-f]{12,64}")


def _tokens(s: str) -> list[str]:
    return _TOKEN.findall(s.casefold())


def _words(text: str) -> list[str]:
    """The user's words that hold something the index can find (a lone "." holds nothing)."""
    return [w for w in _WORD.findall(text) if _TOKEN.search(w)]


def fts_query(text: str, prefix: bool = True) -> str:
    """The user's words as an FTS5 query: every word must match (as a prefix, by default)."""
    star = "*" if prefix else ""
    out = []
    for w in _words(text):
        phrase = '"' + w.replace('"', '""') + '"' + star
        said = actions_for(w, prefix)  # the row's wording ("exited", "removed") names these actions
        out.append("(" + " OR ".join([phrase, *(f'action:"{a}"' for a in said)]) + ")" if said else phrase)
    return " AND ".join(out)  # (FTS5 reads no implicit AND between parenthesised groups)


class TextMatcher:
    """The index's search of one text, over one event's values in memory: every word is a phrase
    of consecutive words in one value, its last one a prefix, or a word of the row's wording for
    the event's action. Compiled once for the many rows a search checks."""

    def __init__(self, text: str) -> None:
        self.words = []
        for w in _words(text):
            phrase = _tokens(w)
            parts = [re.escape(t) + r"(?![\w\-])" for t in phrase[:-1]] + [re.escape(phrase[-1])]
            pattern = re.compile(r"(?<![\w\-])" + r"[^\w\-\x00]+".join(parts), re.UNICODE)
            self.words.append((pattern, frozenset(actions_for(w))))

    def __bool__(self) -> bool:
        return bool(self.words)

    def matches(self, values: tuple[str, ...], action: str = "") -> bool:
        joined = "\x00".join(values).casefold()
        said = None
        for pattern, actions in self.words:
            if pattern.search(joined):
                continue
            if actions:
                if said is None:
                    said = set(_tokens(action))
                if said & actions:
                    continue
            return False
        return True


def _container_fts(c: str) -> str:
    """The index's part of a container filter typed as an ID: its name or the prefix of its ID."""
    return f'(name:"{c}" OR actor:"{c}"*)'


def _where(f: TimelineFilter, with_text: bool = True) -> tuple[str, list]:
    conds, args = [], []
    if f.engine is not None:
        conds.append("engines.key = ?")
        args.append(f.engine)
    if f.host is not None:
        conds.append("engines.host = ?")
        args.append(f.host)
    if f.container:
        c = f.container.lstrip("/")
        if _HEX_ID.fullmatch(c):
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
    q = fts_query(f.text) if with_text else ""
    if q:
        conds.append("events.id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)")
        args.append(q)
    return (" WHERE " + " AND ".join(conds)) if conds else "", args


_COLS = ("events.id, engines.key, events.t, events.type, events.action, events.actor, events.name,"
         " events.image, events.project, events.attrs, events.scope, events.filled, events.detail")
_FROM = " FROM events JOIN engines ON engines.id = events.engine"


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


def _searched_values(r) -> tuple[str, ...]:
    """A fetched row's values in the index's columns (schema.FTS_COLUMNS)."""
    return r[6], r[7], r[8], r[4], r[12], r[5]


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


PLANS = ("scan", "index", "race", "probe")  # how a search may be answered (timeline_search; tests try each)


def query_events(conn: sqlite3.Connection, f: TimelineFilter, plan: str | None = None) -> list[TimelineEvent]:
    """Events matching the filter (run it on the history's reader thread). `plan`: one of
    PLANS to answer a search that way (the same rows; chosen by the search when None)."""
    # The planner lives beside this module (it is most of the reading) and needs its pieces.
    from desktop.state.history.timeline_search import query_events as answer

    return answer(conn, f, plan)
