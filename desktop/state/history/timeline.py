"""Reading the recorded timeline: filtered, searched (full-text index), newest first, with the
"not watching" gaps between the times Pilothouse followed each engine."""

from __future__ import annotations

import heapq
import json
import re
import sqlite3
import time
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


# How a search is answered (both ways give the same rows; tests/history check it):
# * the word index: its matches walked newest first (ids follow time: id >= t), their rows
#   checked against the other filters; quick when the words are rare, or common and nothing
#   else narrows the rows;
# * the scan: the rows the other filters select, through their index in time order, each checked
#   by TextMatcher; quick when the words are common among them. It goes first, for a bounded
#   number of rows, when another filter narrows the rows (a project, a container, a type: the
#   index would walk every match of a common word to find the few of that project) or when a
#   word is the prefix of many words ("s", "svc-0"), which FTS5 answers only after gathering
#   every such word's entries.
SCAN_EXPECTED_MAX = 16000  # more rows than this still to check, at the rate seen: the index instead
SCAN_BROAD_MAX = 40000  # a broad prefix: the scan's rows before the index's gathering is cheaper
BROAD_PAGES = 40  # a prefix whose words start this many pages of the index is broad


def _broad(conn: sqlite3.Connection, text: str) -> bool:
    """Whether a word of the search is the prefix of many indexed words. FTS5's %_idx table
    holds the first word of every page of the index (prefixed by the index number, 0): the
    pages that start within the prefix's range are what a prefix query would merge."""
    for w in _words(text):
        last = _tokens(w)[-1].encode()
        try:
            pages = conn.execute("SELECT COUNT(*) FROM events_fts_idx WHERE term >= ? AND term < ?",
                                 (b"0" + last, b"0" + last + b"\xff")).fetchone()[0]
        except sqlite3.Error:
            return False
        if pages >= BROAD_PAGES:
            return True
    return False


def _slack(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key='id_slack'").fetchone()
    return int(row[0]) if row else 0


def _order_key(r) -> tuple[int, int]:
    return r[2], r[0]


PLANS = ("scan", "index", "race", "probe")  # how a search may be answered (tests try each)


def _search(conn: sqlite3.Connection, f: TimelineFilter, plan: str | None = None) -> list[TimelineEvent]:
    matcher = TextMatcher(f.text)
    where, args = _where(f, with_text=False)
    c = (f.container or "").lstrip("/")
    by_id = bool(_HEX_ID.fullmatch(c))
    parts = [q for q in (fts_query(f.text),) if q]
    if by_id:
        parts.append(_container_fts(c))
    q = " AND ".join(parts)
    if plan is None:
        # (A container's ID is no index's key but the word index's: no scan for it.)
        narrowed = (bool(f.container) and not by_id) or bool(f.project or f.types or f.actions)
        plan = "index" if not matcher else "scan" if _broad(conn, f.text) else "race" if narrowed else "probe"
    if plan == "scan":  # then the index, if the words turn out rare among the rows
        found, complete = _run(_scan(conn, f, where, args, matcher, SCAN_BROAD_MAX))
        if complete:
            return [_row(r) for r in found]
    elif plan == "race":  # whichever of the two finishes first, a step each in turn
        return [_row(r) for r in _race(_scan(conn, f, where, args, matcher, None),
                                       _walk_steps(conn, f, where, args, q))]
    elif plan == "probe":  # one step of the scan finds a word in most rows ("registry" in every image)
        found, complete = _run(_scan(conn, f, where, args, matcher, 0))
        if complete:
            return [_row(r) for r in found]
    return [_row(r) for r in _walk_index(conn, f, where, args, q)]


def _run(steps):
    """Drive a step generator to its end; its return value."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


RACE_SHARE = 2.0  # the scan's time for each unit of the index's, while both run


def _race(scan, walk) -> list:
    """Step two generators that answer the same question, the scan given RACE_SHARE times the
    index's time (its steps' costs are the steadier); the first complete answer."""
    spent = {id(scan): 0.0, id(walk): 0.0}
    while True:
        g = scan if spent[id(scan)] <= RACE_SHARE * spent[id(walk)] else walk
        t0 = time.perf_counter()
        try:
            next(g)
        except StopIteration as done:
            rows, complete = done.value
            return rows if complete else _run(walk if g is scan else scan)[0]
        spent[id(g)] += time.perf_counter() - t0


def _scan(conn, f: TimelineFilter, where: str, args: list, matcher: TextMatcher, give_up_after: int | None):
    """Steps (a generator) of the scan; returns (rows, complete): the answer, or, after checking
    `give_up_after` rows at a rate that would need many more, what it found (0: after one step
    whatever the rate; None: never)."""
    desc = f.newest_first
    order = "DESC" if desc else "ASC"
    cmp, eq = ("<", "<=") if desc else (">", ">=")
    found: list = []
    checked = 0
    last = None
    chunk = min(f.limit * 2, 2000)  # (then sized by the rate seen: a handful where a screenful is asked)
    while True:
        cond, a = where, list(args)
        if last is not None:
            keyset = f"events.t {eq} ? AND (events.t {cmp} ? OR events.id {cmp} ?)"
            cond = f"{cond} AND {keyset}" if cond else f" WHERE {keyset}"
            a += [last[2], last[2], last[0]]
        rows = conn.execute(f"SELECT {_COLS}{_FROM}{cond} ORDER BY events.t {order}, events.id {order} LIMIT ?",
                            [*a, chunk]).fetchall()
        checked += len(rows)
        found += [r for r in rows if not matcher or matcher.matches(_searched_values(r), r[4])]
        if len(found) >= f.limit:
            return found[:f.limit], True
        if len(rows) < chunk:
            return found, True
        last = rows[-1]
        if give_up_after is not None and checked >= give_up_after:
            need = f.limit - len(found)
            if not give_up_after or not found or need * checked / len(found) > SCAN_EXPECTED_MAX:
                return found, False
        yield
        chunk = _next_chunk(chunk, f.limit - len(found), len(found), checked)


def _next_chunk(chunk: int, need: int, found: int, checked: int) -> int:
    """The next step's size: what the rate so far says the rest needs (a little more), or twice
    the last while nothing was found."""
    if not found:
        return min(chunk * 2, 20000)
    return max(2, min(int(need * checked / found * 1.25) + 1, 20000))


def _walk_steps(conn, f: TimelineFilter, where: str, args: list, q: str):
    """`_walk_index` in steps of a bounded number of the index's matches (a generator for
    `_race`); returns (rows, True)."""
    desc = f.newest_first
    slack = _slack(conn)
    bounds, bound_args = [], []
    if f.since is not None:
        bounds.append("rowid >= ?")
        bound_args.append(f.since)
    if f.until is not None:
        bounds.append("rowid <= ?")
        bound_args.append(f.until + slack)
    step, order = ("<", "DESC") if desc else (">", "ASC")
    found: dict[int, tuple] = {}
    last = None
    chunk = f.limit * 2
    walked = 0
    while True:
        conds = ["events_fts MATCH ?", *bounds] + ([f"rowid {step} ?"] if last is not None else [])
        ids = [r[0] for r in conn.execute(f"SELECT rowid FROM events_fts WHERE {' AND '.join(conds)}"
                                          f" ORDER BY rowid {order} LIMIT ?",
                                          [q, *bound_args, *([last] if last is not None else []), chunk])]
        if ids:
            in_ids = "events.id IN (" + ",".join(str(int(i)) for i in ids) + ")"
            cond = f"{where} AND {in_ids}" if where else f" WHERE {in_ids}"
            # (NOT INDEXED: each id looked up, not a filter's index scanned for them.)
            for r in conn.execute(f"SELECT {_COLS} FROM events NOT INDEXED JOIN engines ON engines.id = events.engine"
                                  f"{cond}", args):
                found[r[0]] = r
            last = ids[-1]
            walked += len(ids)
        if len(ids) < chunk:
            break
        if len(found) >= f.limit:
            page = sorted(found.values(), key=_order_key, reverse=desc)[:f.limit]
            if (page[-1][2] >= last) if desc else (page[-1][2] <= last - slack):
                break
        yield
        chunk = max(_next_chunk(chunk, f.limit - len(found), len(found), walked), f.limit)
    return sorted(found.values(), key=_order_key, reverse=desc)[:f.limit], True


def _walk_index(conn, f: TimelineFilter, where: str, args: list, q: str) -> list:
    """The newest (or, ascending, oldest) `f.limit` rows whose words match `q`: one statement
    that walks the word index in id order and looks each match up, streamed. Every event's id
    is at least its time and at most `slack` more, so once the rows found fill the page with
    times past the id reached, no row not yet seen can come before them."""
    desc = f.newest_first
    slack = _slack(conn)
    conds, cond_args = ["events_fts MATCH ?"], [q]
    if f.since is not None:  # t >= since gives id >= since
        conds.append("events_fts.rowid >= ?")
        cond_args.append(f.since)
    if f.until is not None:  # t <= until gives id <= until + slack
        conds.append("events_fts.rowid <= ?")
        cond_args.append(f.until + slack)
    if where:
        conds.append(where[len(" WHERE "):])
        cond_args += args
    order = "DESC" if desc else "ASC"
    # CROSS JOIN keeps the index's walk outermost (in its order); NOT INDEXED, each match looked up.
    cur = conn.execute(f"SELECT {_COLS} FROM events_fts CROSS JOIN events NOT INDEXED ON events.id = events_fts.rowid"
                       f" JOIN engines ON engines.id = events.engine WHERE {' AND '.join(conds)}"
                       f" ORDER BY events_fts.rowid {order}", cond_args)
    found: list = []
    edge: list[int] = []  # the page's times, as a heap whose top is its last row's
    try:
        while True:
            rows = cur.fetchmany(f.limit)
            if not rows:
                break
            found += rows
            for r in rows:
                t = r[2] if desc else -r[2]
                if len(edge) < f.limit:
                    heapq.heappush(edge, t)
                elif t > edge[0]:
                    heapq.heapreplace(edge, t)
            if len(edge) >= f.limit:
                reached = rows[-1][0]  # unseen rows: t < reached (descending); t > reached - slack
                if (edge[0] >= reached) if desc else (-edge[0] <= reached - slack):
                    break
    finally:
        cur.close()
    return sorted(found, key=_order_key, reverse=desc)[:f.limit]


def query_events(conn: sqlite3.Connection, f: TimelineFilter, plan: str | None = None) -> list[TimelineEvent]:
    """Events matching the filter (run it on the history's reader thread). `plan`: one of
    PLANS to answer a search that way (the same rows; chosen by the search when None)."""
    c = (f.container or "").lstrip("/")
    if f.limit and (_words(f.text) or _HEX_ID.fullmatch(c)):
        return _search(conn, f, plan)
    where, args = _where(f)
    order = "DESC" if f.newest_first else "ASC"
    sql = f"SELECT {_COLS}{_FROM}{where} ORDER BY events.t {order}, events.id {order}"
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
