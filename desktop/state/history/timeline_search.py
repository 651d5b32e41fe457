"""Answering a timeline query: plain filters through SQLite's indexes, and searches (words, a
container's ID) by whichever of two ways is quick for them, with the same rows either way."""

from __future__ import annotations

import heapq
import sqlite3
import time

from desktop.state.history.timeline_rows import (_COLS, _FROM, _HEX_ID, PLANS, TextMatcher, TimelineEvent, TimelineFilter,
                                            _container_fts, _row, _searched_values, _tokens, _where, _words,
                                            fts_query)


# How a search is answered (both ways give the same rows; tests/unit/test_history_search.py checks it):
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
    elif plan == "race":  # whichever of the two finishes first, stepped in turn
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
    """timeline.query_events: the events matching the filter; `plan` one of PLANS, or None."""
    if plan is not None and plan not in PLANS:
        raise ValueError(plan)
    c = (f.container or "").lstrip("/")
    if f.limit and (_words(f.text) or _HEX_ID.fullmatch(c)):
        return _search(conn, f, plan)
    where, args = _where(f)
    order = "DESC" if f.newest_first else "ASC"
    sql = f"SELECT {_COLS}{_FROM}{where} ORDER BY events.t {order}, events.id {order}"
    if f.limit:
        sql += f" LIMIT {int(f.limit)}"
    return [_row(r) for r in conn.execute(sql, args)]


