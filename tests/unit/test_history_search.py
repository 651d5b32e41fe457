"""The history's search on a real SQLite file: every way of answering a search (the word index,
the scan, the two in turn) gives what a plain filter over every event gives, for random event
sets written out of order, with equal times, across two engines; the word index and the
in-memory matcher agree word for word; exit codes are found as the rows say them; a history
written by the first schema is carried over."""

from __future__ import annotations

import json
import sqlite3
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.engine.records import EngineEvent
from desktop.state.history.schema import FTS_COLUMNS, HistoryUpdating
from desktop.state.history.store import HistoryStore
from desktop.state.history.timeline import PLANS, TextMatcher, TimelineFilter, matches, query_around, query_events

T0 = 1_700_000_000 * 10**9
NAMES = ("web", "web-1", "web-front", "db", "svc-01", "svc-02", "api_x")
IMAGES = ("nginx", "registry.local/team/app:v1", "redis:7", "")
PROJECTS = ("shop", "shop-2", "blog", "")
ACTIONS = ("create", "start", "die", "kill", "destroy", "exec_start: sh", "health_status: unhealthy", "oom", "stop")
IDS = tuple(p + "0" * (64 - len(p)) for p in ("abc123def456", "abc123def999", "fe01", "77aa"))
WORDS = ("we", "web", "web-f", "web-1", "svc-0", "svc-02", "db", "registry", "team/app", "registry.local", "redis",
         "shop", "shop-2", "blog", "exited", "exit", "code", "137", "0", "removed", "out of", "health", "unhealthy",
         "sh", "killed", "signal", "9", "st", "start", "abc123", "fe01", "pgdata", "zzz", "app:v1", "e")


@st.composite
def events(draw):
    kind = draw(st.sampled_from(("container",) * 6 + ("volume", "network", "image")))
    t = T0 + draw(st.integers(0, 40)) * 1000 + draw(st.sampled_from((0, 0, 1, 2)))  # equal times happen
    engine = draw(st.sampled_from(("a", "b")))
    if kind == "container":
        action = draw(st.sampled_from(ACTIONS))
        attrs = {"name": draw(st.sampled_from(NAMES)), "image": draw(st.sampled_from(IMAGES))}
        project = draw(st.sampled_from(PROJECTS))
        if project:
            attrs["com.docker.compose.project"] = project
        if action == "die":
            attrs["exitCode"] = draw(st.sampled_from(("0", "1", "137")))
        if action == "kill":
            attrs["signal"] = draw(st.sampled_from(("9", "15")))
        actor = draw(st.sampled_from(IDS))
    elif kind == "volume":
        action, actor, attrs = draw(st.sampled_from(("create", "destroy"))), draw(st.sampled_from(("pgdata", "cache"))), {
            "driver": "local"}
    elif kind == "network":
        action, actor, attrs = "connect", "n" * 64, {"name": "bridge", "container": draw(st.sampled_from(IDS))}
    else:
        action, actor, attrs = draw(st.sampled_from(("pull", "delete"))), "sha256:" + "9" * 64, {"name": "nginx:latest"}
    return EngineEvent(kind, action, actor, attrs, t, engine), draw(st.booleans())


@st.composite
def filters(draw):
    words = draw(st.lists(st.sampled_from(WORDS), max_size=2))
    container = draw(st.sampled_from((None, None, None, "web", "db", "svc-02", IDS[0][:12], IDS[1][:16], IDS[2][:12])))
    since = draw(st.sampled_from((None, None, T0 + draw(st.integers(0, 40)) * 1000)))
    until = draw(st.sampled_from((None, None, T0 + draw(st.integers(0, 40)) * 1000 + 1)))
    return TimelineFilter(engine=draw(st.sampled_from((None, None, "a", "b"))), container=container,
                          project=draw(st.sampled_from((None, None, "shop", "blog"))),
                          types=draw(st.sampled_from(((), (), ("container",), ("volume",)))),
                          text=" ".join(words), since=since, until=until, limit=draw(st.integers(1, 6)),
                          newest_first=draw(st.booleans()))


def _write(path: Path, batches) -> HistoryStore:
    store = HistoryStore(path)
    store.start()
    for n, batch in enumerate(batches):  # each batch in its own order: out of time order, as a backfill is
        if n % 2:
            for ev, filled in batch:
                store.add_events([ev], ev.engine_id, filled=filled)
        else:  # several in one insert (a read-back of the engine's buffer)
            for key in sorted({ev.engine_id for ev, _f in batch}):
                for flag in (False, True):
                    store.add_events([ev for ev, filled in batch if ev.engine_id == key and filled == flag], key,
                                     filled=flag)
    store.flush().result(30)
    return store


def _expected(every, f: TimelineFilter) -> list[int]:
    found = sorted((e for e in every if matches(f, e)), key=lambda e: (e.time_nano, e.id), reverse=f.newest_first)
    return [e.id for e in found[:f.limit]]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(events(), min_size=1, max_size=12), min_size=1, max_size=4),
       st.lists(filters(), min_size=1, max_size=8))
def test_every_way_of_searching_finds_what_a_plain_filter_finds(batches, fs):
    with tempfile.TemporaryDirectory() as d:
        store = _write(Path(d) / "h.sqlite", batches)
        try:
            every = store.read_blocking(query_events, TimelineFilter(limit=0))
            assert all(e.id >= e.time_nano for e in every)  # what the word index's walk relies on
            for f in fs:
                want = _expected(every, f)
                for plan in (None, *PLANS):
                    got = [e.id for e in store.read_blocking(query_events, f, plan)]
                    assert got == want, (plan, f)
                # All of them, and both sides of a moment, as the timeline reads them.
                every_match = [e.id for e in store.read_blocking(query_events, TimelineFilter(
                    **{**f.__dict__, "limit": 0}))]
                assert sorted(every_match) == sorted(_expected(every, TimelineFilter(**{**f.__dict__, "limit": 10**6})))
                rows, _newest = store.read_blocking(query_around, f, T0 + 20_000, f.limit)
                older = _expected(every, TimelineFilter(**{**f.__dict__, "since": None, "until": T0 + 20_000,
                                                          "newest_first": True}))
                newer = _expected(every, TimelineFilter(**{**f.__dict__, "since": T0 + 20_001, "until": None,
                                                          "newest_first": False}))
                assert [e.id for e in rows] == list(reversed(newer)) + older
        finally:
            store.close_blocking()


_VALUE = st.text(alphabet="abcdeswb01379-_.:/ @", max_size=14)


@settings(max_examples=300, deadline=None)
@given(st.lists(_VALUE, min_size=6, max_size=6), st.text(alphabet="abcdeswb0137-_.:/ ", max_size=10),
       st.sampled_from(("create", "die", "kill", "destroy", "exec_start: sh", "health_status: unhealthy", "oom")))
def test_the_word_index_and_the_in_memory_matcher_agree(values, text, action):
    values[3] = action  # the action column, as the rows' wording reads it
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE f USING fts5({', '.join(FTS_COLUMNS)}, tokenize=\"unicode61 tokenchars '-_'\")")
    conn.execute(f"INSERT INTO f(rowid, {', '.join(FTS_COLUMNS)}) VALUES (1, ?, ?, ?, ?, ?, ?)", values)
    from desktop.state.history.timeline import fts_query

    q = fts_query(text)
    if not q:
        assert TextMatcher(text).matches(tuple(values), action)  # no words: everything
        return
    indexed = conn.execute("SELECT COUNT(*) FROM f WHERE f MATCH ?", (q,)).fetchone()[0] == 1
    assert TextMatcher(text).matches(tuple(values), action) == indexed, (values, text, q)


def test_exit_codes_are_found_as_the_rows_say_them(tmp_path):
    died = [EngineEvent("container", "die", "abcd"[i] * 64, {"name": f"job-{i}", "exitCode": code}, T0 + i, "local")
            for i, code in enumerate(("137", "1", "0", "137"))]
    killed = EngineEvent("container", "kill", "f" * 64, {"name": "job-k", "signal": "137"}, T0 + 10, "local")
    store = _write(tmp_path / "h.sqlite", [[(e, False) for e in [*died, killed]]])
    try:
        def names(text):
            return sorted(e.name for e in store.read_blocking(query_events, TimelineFilter(text=text, limit=100)))

        assert names("exit 137") == names("code 137") == names("exited with code 137") == ["job-0", "job-3"]
        assert names("137") == ["job-0", "job-3", "job-k"]  # "killed with signal 137" says it too
        assert names("signal 137") == ["job-k"]
        assert names("exit 0") == ["job-2"]
    finally:
        store.close_blocking()


def test_a_short_number_is_not_searched_as_the_start_of_an_id(tmp_path):
    """"3" and "137" are a count, an exit code or part of a name far more often than an ID's start:
    only a word of four characters or more finds a container by the first characters of its ID,
    on the word index and in memory alike."""
    events = [EngineEvent("container", "start", "3" + "a" * 63, {"name": "web"}, T0, "local"),
              EngineEvent("container", "die", "b" * 64, {"name": "job", "exitCode": "3"}, T0 + 1, "local"),
              EngineEvent("container", "start", "137c" + "0" * 60, {"name": "api"}, T0 + 2, "local")]
    store = _write(tmp_path / "h.sqlite", [[(e, False) for e in events]])
    try:
        for plan in PLANS:
            def names(text):
                return sorted(e.name for e in store.read_blocking(
                    query_events, TimelineFilter(text=text, limit=100), plan))

            assert names("3") == ["job"], plan  # its exit code, not web's ID
            assert names("137") == [], plan
            assert names("3aaa") == ["web"] and names("137c") == ["api"], plan
    finally:
        store.close_blocking()
    values = ("web", "", "", "start", "", "3" + "a" * 63)
    assert not TextMatcher("3").matches(values, "start")
    assert TextMatcher("3aaa").matches(values, "start")


_V1_EVENTS = ("CREATE TABLE events(id INTEGER PRIMARY KEY, engine INTEGER NOT NULL, t INTEGER NOT NULL,"
              " type TEXT NOT NULL, action TEXT NOT NULL, actor TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',"
              " image TEXT NOT NULL DEFAULT '', project TEXT NOT NULL DEFAULT '', attrs TEXT NOT NULL DEFAULT '{}',"
              " scope TEXT NOT NULL DEFAULT 'local', filled INTEGER NOT NULL DEFAULT 0)")


def _first_schema_file(path) -> None:
    """A history file as the first schema wrote it: four events, numbered in the order seen."""
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("PRAGMA journal_mode=WAL")
    old.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    old.execute("INSERT INTO meta VALUES ('schema', '1')")
    old.execute("CREATE TABLE engines(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, host TEXT NOT NULL DEFAULT '',"
                " daemon_id TEXT NOT NULL DEFAULT '')")
    old.execute("INSERT INTO engines(id, key) VALUES (1, 'local')")
    old.execute(_V1_EVENTS)
    old.execute("CREATE UNIQUE INDEX events_key ON events(engine, t, substr(actor, 1, 16), action)")
    old.execute("CREATE INDEX events_t ON events(t)")
    old.execute("CREATE VIRTUAL TABLE events_fts USING fts5(name, image, project, action, content='events',"
                " content_rowid='id', tokenize=\"unicode61 tokenchars '-_'\")")
    # Written in the order they were seen: a read-back of the engine's buffer after newer ones.
    rows = [(1, T0 + 50, "start", "web", "{}"), (2, T0 + 60, "die", "web", json.dumps({"exitCode": "137"})),
            (3, T0 + 10, "create", "web", "{}"), (4, T0 + 10, "create", "db", "{}")]
    for i, t, action, name, attrs in rows:
        old.execute("INSERT INTO events(id, engine, t, type, action, actor, name, attrs) VALUES (?,1,?,?,?,?,?,?)",
                    (i, t, "container", action, str(i) * 64, name, attrs))
    old.execute("INSERT INTO events_fts(events_fts) VALUES ('rebuild')")
    old.close()



def test_a_history_of_the_first_schema_is_carried_over(tmp_path):
    path = tmp_path / "h.sqlite"
    _first_schema_file(path)
    store = HistoryStore(path)
    store.start()
    store.add_events([EngineEvent("container", "stop", "f" * 64, {"name": "web"}, T0 + 10, "local")], "local")
    store.flush().result(30)
    try:
        every = store.read_blocking(query_events, TimelineFilter(limit=0, newest_first=False))
        assert [(e.name, e.action) for e in every] == [("web", "create"), ("db", "create"), ("web", "stop"),
                                                       ("web", "start"), ("web", "die")]
        assert all(e.id >= e.time_nano for e in every) and len({e.id for e in every}) == 5
        assert [e.action for e in store.read_blocking(query_events, TimelineFilter(text="code 137"))] == ["die"]
        assert store.read_blocking(lambda c: c.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0]) == "2"
    finally:
        store.close_blocking()


def test_reads_during_the_format_update_say_why_and_updated_follows(tmp_path):
    """A long history takes minutes to bring up to date: reads meanwhile fail at once with a sentence
    (not after a wait, not with an SQL error), and `updated` says when the file can be read."""
    path = tmp_path / "h.sqlite"
    _first_schema_file(path)
    entered, gate = threading.Event(), threading.Event()

    class Held(HistoryStore):
        def _on_update(self) -> None:  # the update starts, and is held until the test has read
            super()._on_update()
            entered.set()
            gate.wait(30)

    store = Held(path)
    announced = []
    store.updated.connect(lambda: announced.append(True))
    store.start()
    try:
        assert entered.wait(30)
        with pytest.raises(HistoryUpdating, match="brought up to this version's format"):
            store.read_blocking(query_events, TimelineFilter(limit=0))
        assert announced == []
        gate.set()
        store.flush().result(30)
        assert announced == [True]
        assert len(store.read_blocking(query_events, TimelineFilter(limit=0))) == 4
    finally:
        gate.set()
        store.close_blocking()
