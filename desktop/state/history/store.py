"""HistoryStore: the one way into the history file. Writes are queued and written in batches by
one writer thread; reads run on a reader thread; callers (the UI thread) only ever enqueue or
await. A database that fails mid-run is moved aside and a new one started, as at open."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from desktop.engine.records import COMPOSE_PROJECT, EngineEvent
from desktop.state.history import stats_tiers
from desktop.state.history.schema import (FTS_COLUMNS, HistoryOpenError, HistoryUpdating, connect, move_aside,
                                          open_history)
from desktop.state.history.wording import detail_of
from desktop.state.observable import Listeners

log = logging.getLogger(__name__)

DEFAULT_CAP_BYTES = 500 * 1024 * 1024
BATCH_SECONDS = 0.25  # events of a burst go in one transaction
BATCH_MAX = 5000
HEARTBEAT_SECONDS = 30.0  # how stale a "watching until" can be after a crash of the app
MAINTAIN_SECONDS = 60.0  # roll-ups, retention, the disk cap
_STOP = object()


def default_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("pilothouse", appauthor=False)) / "history.sqlite"


def event_row(ev: EngineEvent) -> tuple:
    """(t, type, action, actor, name, image, project, attrs json, scope, detail) of one event."""
    a = dict(ev.attributes)
    detail = detail_of(ev.type, ev.action, a)
    # The columns hold these three; the stored attributes leave them out (timeline.py puts them
    # back), a fifth of an event's size.
    name = a.pop("name", None)
    image = a.pop("image", None) if ev.type == "container" else None
    project = a.pop(COMPOSE_PROJECT, None)
    t = ev.time_nano or time.time_ns()
    present = "".join("1" if v is not None else "0" for v in (name, image, project))
    if present != "111":
        a["\0"] = present  # which of the three the engine sent, so they come back exactly
    return (t, ev.type, ev.action, ev.id, name or "", image or "", project or "",
            json.dumps(a, separators=(",", ":"), sort_keys=True), getattr(ev, "scope", "local") or "local", detail)


_FTS_INSERT = (f"INSERT INTO events_fts(rowid, {', '.join(FTS_COLUMNS)}) SELECT id, {', '.join(FTS_COLUMNS)}"
               " FROM events WHERE id IN (SELECT value FROM json_each(?))")


class HistoryStore:
    """Persistent history. `notices(sentence)` announces a file moved aside (on the loop)."""

    def __init__(self, path: str | os.PathLike | None = None, *, cap_bytes: int = DEFAULT_CAP_BYTES,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.cap_bytes = cap_bytes
        self.notices = Listeners()
        self.notice: str | None = None  # the latest, for a page opened later
        # While an older file's format is brought up to date, reads fail at once with this
        # sentence, and `updated()` is announced (on the loop) once the file can be read.
        self.updating: str | None = None
        self.updated = Listeners()
        self._clock = clock
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history-read")
        self._local = threading.local()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opened = threading.Event()
        self._generation = 0  # bumped when the file is replaced: readers reconnect
        self._engine_ids: dict[str, int] = {}
        self._watching: dict[str, int] = {}  # engine key -> open watching row
        self._batch_ids: list[int] = []  # ids given to the events of the batch being written
        self._taken: set[int] = set()  # ...of which these may not be in the table yet
        self._slack = 0  # the most any event's id exceeds its time (meta 'id_slack')
        self._closed = False
        self.broken: str | None = None  # set when no history can be kept at all
        self.writes = 0  # batches committed (bench and tests)

    # -- life ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the writer thread (it opens the file); returns at once."""
        if self._thread is not None:
            return
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        self._thread = threading.Thread(target=self._writer, name="history-writer", daemon=True)
        self._thread.start()

    async def aclose(self) -> None:
        if self._thread is None or self._closed:
            return
        self._closed = True
        done = self._submit(_STOP)
        await asyncio.wrap_future(done)
        self._thread.join(5)
        await asyncio.get_running_loop().run_in_executor(self._reader, self._close_reader)
        self._reader.shutdown(wait=True)

    def close_blocking(self) -> None:
        """For scripts without a loop (the CLI, benches)."""
        if self._thread is not None and not self._closed:
            self._closed = True
            self._submit(_STOP).result(30)
            self._thread.join(5)
        self._reader.submit(self._close_reader).result(10)
        self._reader.shutdown(wait=True)

    # -- writes (any thread; never blocks) --------------------------------------------------------
    def _submit(self, op, *args) -> Future:
        fut: Future = Future()
        self._q.put((op, args, fut))
        return fut

    def add_event(self, ev: EngineEvent, engine_key: str | None = None, filled: bool = False) -> None:
        # The row is made on the writer thread: the caller is the UI thread, a burst is hundreds.
        self._q.put(("event", (engine_key or ev.engine_id, ev, filled), None))

    def add_events(self, events: Iterable[EngineEvent], engine_key: str, filled: bool = False) -> Future:
        return self._submit("events", engine_key, list(events), filled)

    def engine_seen(self, key: str, host: str = "", daemon_id: str = "") -> None:
        self._q.put(("engine", (key, host, daemon_id), None))

    def watch_started(self, key: str) -> Future:
        return self._submit("watch_start", key, self._clock())

    def watch_ended(self, key: str) -> Future:
        return self._submit("watch_end", key, self._clock())

    def add_samples(self, engine_key: str, tier: str, rows: list[tuple]) -> None:
        """rows: (container id, name, t seconds, cpu, mem, mem_limit, net_rx, net_tx, blk_r, blk_w, pids)."""
        self._q.put(("samples", (engine_key, tier, rows), None))

    def call(self, fn: Callable[[sqlite3.Connection], Any]) -> Future:
        """Run `fn(conn)` on the writer thread, in order with the queued writes."""
        return self._submit("call", fn)

    def flush(self) -> Future:
        """Done when everything queued before it is committed (wrap it to await)."""
        return self._submit("flush")

    def maintain(self) -> Future:
        """Roll up, drop what is past its tier, enforce the disk cap; done when finished."""
        return self._submit("maintain")

    # -- reads ----------------------------------------------------------------------------------
    async def read(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(conn, *args)` on the reader thread (a connection of its own, in WAL read mode)."""
        return await asyncio.get_running_loop().run_in_executor(self._reader, self._read, fn, args)

    def read_blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._reader.submit(self._read, fn, args).result()

    def _read(self, fn, args):
        if self.updating is not None and not self._opened.is_set():
            raise HistoryUpdating(self.updating)
        self._opened.wait(30)
        if self.broken:
            raise HistoryOpenError(self.broken)
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.generation != self._generation:
            if conn is not None:
                conn.close()
            conn = connect(self.path)
            conn.execute("PRAGMA query_only=1")
            self._local.conn, self._local.generation = conn, self._generation
        return fn(conn, *args)

    def _close_reader(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def size_bytes(self) -> int:
        """The file's size on disk, with its write-ahead log (a stat: cheap enough anywhere)."""
        total = 0
        for p in (self.path, Path(str(self.path) + "-wal")):
            try:
                total += p.stat().st_size
            except OSError:
                pass
        return total

    # -- the writer thread ------------------------------------------------------------------------
    def _announce(self, sentence: str) -> None:
        self.notice = sentence
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.notices.emit, sentence)
        else:
            self.notices.emit(sentence)

    def _on_update(self) -> None:
        self.updating = ("The history file is being brought up to this version's format; with a long history "
                         "this takes a few minutes. Nothing is lost: this session's events are shown meanwhile.")

    def _updated(self) -> None:
        if self.updating is None:
            return
        self.updating = None
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.updated.emit)
        else:
            self.updated.emit()

    def _open(self) -> sqlite3.Connection | None:
        try:
            conn, notice = open_history(self.path, self._on_update)
        except (HistoryOpenError, OSError) as err:
            self.broken = str(err)
            self._announce(f"{err} History is not being kept.")
            return None
        self._generation += 1
        self._engine_ids.clear()
        row = conn.execute("SELECT value FROM meta WHERE key='id_slack'").fetchone()
        self._slack = int(row[0]) if row else 0
        if notice:
            self._announce(notice)
        return conn

    def _replace_broken(self, conn: sqlite3.Connection, err: sqlite3.Error) -> sqlite3.Connection | None:
        """The file failed under us: move it aside and go on with a new one."""
        try:
            conn.close()
        except sqlite3.Error:
            pass
        kind = "locked" if "locked" in str(err).lower() else "corrupt"
        try:
            aside = move_aside(self.path, kind)
        except OSError as move_err:
            self.broken = f"The history database failed ({err}) and could not be moved aside: {move_err}"
            self._announce(self.broken)
            return None
        what = "locked by another program" if kind == "locked" else "damaged"
        self._announce(f"The history database became {what}; it was moved to {aside.name} and a new one started.")
        conn = self._open()
        if conn is not None:  # what was being watched still is
            now = self._clock()
            for key in list(self._watching):
                self._watching[key] = self._insert_watch(conn, key, now)
        return conn

    def _writer(self) -> None:
        conn = self._open()
        self._opened.set()
        self._updated()
        last_beat = last_maintain = time.monotonic()
        while True:
            timeout = max(0.05, HEARTBEAT_SECONDS - (time.monotonic() - last_beat))
            try:
                batch = [self._q.get(timeout=timeout)]
            except queue.Empty:
                batch = []
            deadline = time.monotonic() + BATCH_SECONDS
            while batch and len(batch) < BATCH_MAX and batch[-1][0] not in ("flush", "call", "maintain", _STOP):
                try:
                    batch.append(self._q.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            stop = any(op is _STOP for op, _a, _f in batch)
            now = time.monotonic()
            beat = stop or now - last_beat >= HEARTBEAT_SECONDS
            maintain = any(op == "maintain" for op, _a, _f in batch) or now - last_maintain >= MAINTAIN_SECONDS
            if conn is not None:
                conn = self._write_batch(conn, batch, beat)
            if beat:
                last_beat = now
            if maintain and conn is not None and not stop:
                last_maintain = now
                try:
                    self._maintain(conn)
                except sqlite3.Error as err:
                    log.warning("history maintenance failed: %s", err)
                    if file_failed(err):
                        conn = self._replace_broken(conn, err)
            for _op, _args, fut in batch:
                _settle(fut)
            if stop:
                if conn is not None:
                    conn.close()
                return

    def _write_batch(self, conn: sqlite3.Connection, batch: list, beat: bool) -> sqlite3.Connection | None:
        for attempt in range(2):
            try:
                slack = self._slack
                conn.execute("BEGIN IMMEDIATE")
                self._batch_ids.clear()
                self._taken.clear()
                results = [self._apply(conn, op, args) for op, args, _fut in batch]
                if self._batch_ids:  # (an id given to a duplicate that was ignored is not in the table)
                    conn.execute(_FTS_INSERT, (json.dumps(self._batch_ids),))
                if self._slack > slack:
                    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('id_slack', ?)", (str(self._slack),))
                if beat or self._watching:
                    self._beat(conn)
                conn.execute("COMMIT")
                self.writes += 1
                for (_op, _args, fut), res in zip(batch, results):
                    if res is not None:
                        _settle(fut, res)
                return conn
            except sqlite3.Error as err:
                self._slack = slack
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                log.warning("history write failed: %s", err)
                if attempt or not file_failed(err):
                    break
                conn = self._replace_broken(conn, err)
                if conn is None:
                    break
            except Exception as exc:  # noqa: BLE001 - a bad item must not stop the history
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                log.exception("history batch dropped")
                for _op, _args, fut in batch:
                    _settle(fut, exc=exc)
                return conn
        for _op, _args, fut in batch:
            _settle(fut)
        return conn

    def engine_row_id(self, conn: sqlite3.Connection, key: str) -> int:
        """The engines table's id for a key (on the writer thread, inside `call`)."""
        return self._engine_id(conn, key)

    def _engine_id(self, conn: sqlite3.Connection, key: str) -> int:
        eid = self._engine_ids.get(key)
        if eid is None:
            row = conn.execute("SELECT id FROM engines WHERE key=?", (key,)).fetchone()
            if row is None:
                eid = conn.execute("INSERT INTO engines(key) VALUES (?)", (key,)).lastrowid
            else:
                eid = row[0]
            self._engine_ids[key] = eid
        return eid

    def _insert_watch(self, conn: sqlite3.Connection, key: str, now: float) -> int:
        ns = int(now * 1e9)
        return conn.execute("INSERT INTO watching(engine, start, end) VALUES (?,?,?)",
                            (self._engine_id(conn, key), ns, ns)).lastrowid

    def _beat(self, conn: sqlite3.Connection) -> None:
        ns = int(self._clock() * 1e9)
        for wid in self._watching.values():
            conn.execute("UPDATE watching SET end=? WHERE id=?", (ns, wid))

    _EVENT_SQL = ("INSERT OR IGNORE INTO events(id, engine, t, type, action, actor, name, image, project, attrs,"
                  " scope, detail, filled) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")

    def _event_params(self, conn: sqlite3.Connection, eid: int, ev: EngineEvent, filled: bool,
                      row: tuple | None = None, known: tuple[int, int] | None = None) -> tuple:
        """The insert's parameters, with the event's id: its time, or the next number free above
        it. `known`: a span of ids whose rows in the table are in self._taken already."""
        row = row or event_row(ev)
        t = row[0]
        i = t
        while i in self._taken or not (known and known[0] <= i <= known[1]) and \
                conn.execute("SELECT 1 FROM events WHERE id=?", (i,)).fetchone() is not None:
            i += 1
        self._taken.add(i)
        self._batch_ids.append(i)
        self._slack = max(self._slack, i - t)
        return (i, eid, *row, int(filled))

    def _apply(self, conn: sqlite3.Connection, op, args):
        if op == "event":
            key, ev, filled = args
            conn.execute(self._EVENT_SQL, self._event_params(conn, self._engine_id(conn, key), ev, filled))
        elif op == "events":
            key, events, filled = args
            eid = self._engine_id(conn, key)
            before = conn.total_changes
            rows = [event_row(ev) for ev in events]
            known = None
            if len(rows) > 1:  # the ids already taken around these times, in one read instead of one each
                known = (min(r[0] for r in rows), max(r[0] for r in rows) + len(rows))
                self._taken.update(r[0] for r in conn.execute("SELECT id FROM events WHERE id BETWEEN ? AND ?", known))
            conn.executemany(self._EVENT_SQL, [self._event_params(conn, eid, ev, filled, row, known)
                                               for ev, row in zip(events, rows)])
            return conn.total_changes - before
        elif op == "engine":
            key, host, daemon_id = args
            eid = self._engine_id(conn, key)
            conn.execute("UPDATE engines SET host=COALESCE(NULLIF(?, ''), host),"
                         " daemon_id=COALESCE(NULLIF(?, ''), daemon_id) WHERE id=?", (host, daemon_id, eid))
        elif op == "watch_start":
            key, now = args
            if key not in self._watching:
                self._watching[key] = self._insert_watch(conn, key, now)
        elif op == "watch_end":
            key, now = args
            wid = self._watching.pop(key, None)
            if wid is not None:
                conn.execute("UPDATE watching SET end=? WHERE id=?", (int(now * 1e9), wid))
        elif op == "samples":
            key, tier, rows = args
            stats_tiers.insert_samples(conn, self._engine_id(conn, key), tier, rows)
        elif op == "call":
            (fn,) = args
            return fn(conn)
        elif op is _STOP:
            now = self._clock()
            for key in list(self._watching):
                self._apply(conn, "watch_end", (key, now))
        return None

    def _maintain(self, conn: sqlite3.Connection) -> None:
        now = self._clock()
        conn.execute("BEGIN IMMEDIATE")
        try:
            stats_tiers.roll_up(conn, now)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        enforce_cap(conn, self.cap_bytes)


def _settle(fut: Future | None, result: Any = None, exc: BaseException | None = None) -> None:
    """Finish a caller's future unless it is finished or was cancelled (the caller gave up)."""
    if fut is None or fut.done():
        return
    try:
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(result)
    except InvalidStateError:
        pass


def file_failed(err: sqlite3.Error) -> bool:
    """The file itself is damaged, or another program holds its lock: not a fault of one batch."""
    text = str(err).lower()
    if "database is locked" in text or "malformed" in text or "not a database" in text or "disk i/o" in text:
        return True
    return type(err) is sqlite3.DatabaseError


def used_bytes(conn: sqlite3.Connection) -> int:
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    count = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    return (count - free) * page


def enforce_cap(conn: sqlite3.Connection, cap_bytes: int) -> int:
    """Delete the oldest history (events, stats, reports alike) until the file fits the cap;
    returns how many rounds it took. Freed pages go back to the file system."""
    rounds = 0
    while used_bytes(conn) > cap_bytes and rounds < 50:
        rounds += 1
        spans = [r for r in (
            conn.execute("SELECT MIN(t) / 1000000000, MAX(t) / 1000000000 FROM events").fetchone(),
            *(conn.execute(f"SELECT MIN(t), MAX(t) FROM {table}").fetchone() for table, _ in stats_tiers.TIERS),
            conn.execute("SELECT MIN(last_t) / 1000000000, MAX(last_t) / 1000000000 FROM reports").fetchone(),
        ) if r[0] is not None]
        if not spans:
            break
        oldest = min(r[0] for r in spans)
        newest = max(r[1] for r in spans)
        cut = oldest + max(60, (newest - oldest) // 10)  # the oldest tenth, at least a minute
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM events WHERE t < ?", (cut * 1_000_000_000,))
            conn.execute("DELETE FROM reports WHERE last_t < ?", (cut * 1_000_000_000,))
            for table, _ in stats_tiers.TIERS:
                conn.execute(f"DELETE FROM {table} WHERE {stats_tiers.BY_SERIES} AND t < ?", (cut,))
            conn.execute("DELETE FROM watching WHERE end < ?", (cut * 1_000_000_000,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    if rounds:
        # sqlite3_exec steps it to the end; execute() would step once and free one page.
        conn.executescript("PRAGMA incremental_vacuum;")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return rounds
