"""The history database's tables, and opening a file that may be corrupt or locked.

A history is worth less than the app working: a file that cannot be opened for writing is
moved aside (kept, for the user to look at) and a fresh one started, with a sentence saying so.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # 2: ids follow time (id >= t), exit codes and IDs in the word index
LOCK_WAIT_SECONDS = 2.0  # a writer elsewhere that holds the lock longer is not going to let go

# Stats tiers: (table, bucket seconds). 1 s rows come from streams a user looks at; the
# sampler writes 10 s rows; 1 min and 1 h rows are roll-ups of the tier before.
STATS_COLUMNS = "cpu REAL, cpu_max REAL, mem INTEGER, mem_max INTEGER, mem_limit INTEGER, " \
                "net_rx INTEGER, net_tx INTEGER, blk_r INTEGER, blk_w INTEGER, pids INTEGER"
TIERS = (("stats_1s", 1), ("stats_10s", 10), ("stats_1m", 60), ("stats_1h", 3600))

# The word index. Words split at . : / so "registry" finds registry.local/team/app:v1 through one
# entry of the index (a prefix of the whole image name would merge every such name's entries),
# but not at - or _: "svc-04" is a prefix of one name, not the phrase svc + 04* over every svc-….
# actor: a container's ID (its prefix typed in the container filter or the search), a volume's name.
# New rows reach the index once per batch (store.py): a trigger per row costs 6x as much.
FTS_COLUMNS = ("name", "image", "project", "action", "detail", "actor")
_FTS_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS events_fts USING fts5(" + ", ".join(FTS_COLUMNS) + ","
    " content='events', content_rowid='id', tokenize=\"unicode61 tokenchars '-_'\")",
    "CREATE TRIGGER IF NOT EXISTS events_ad AFTER DELETE ON events BEGIN"
    " INSERT INTO events_fts(events_fts, rowid, " + ", ".join(FTS_COLUMNS) + ")"
    " VALUES ('delete', old.id, " + ", ".join("old." + c for c in FTS_COLUMNS) + "); END",
]

_DDL = [
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS engines(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE,"
    " host TEXT NOT NULL DEFAULT '', daemon_id TEXT NOT NULL DEFAULT '')",
    # t: nanoseconds since the epoch (the engine's timeNano). filled: read back from the
    # engine's own buffer after a gap rather than seen live. id: t itself, or the next free
    # number above it (store.py): so id >= t always, and the word index (whose order is the id)
    # can be walked newest first and stop as soon as nothing unseen can be newer (timeline.py).
    # detail: the exit code of a "die", the signal of a "kill", as the row says them.
    "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, engine INTEGER NOT NULL, t INTEGER NOT NULL,"
    " type TEXT NOT NULL, action TEXT NOT NULL, actor TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',"
    " image TEXT NOT NULL DEFAULT '', project TEXT NOT NULL DEFAULT '', attrs TEXT NOT NULL DEFAULT '{}',"
    " scope TEXT NOT NULL DEFAULT 'local', filled INTEGER NOT NULL DEFAULT 0, detail TEXT NOT NULL DEFAULT '')",
    # One event seen live and again in the engine's buffer is one row.
    # (16 hex digits of an ID are as unique as 64 here, for a quarter of the index.)
    "CREATE UNIQUE INDEX IF NOT EXISTS events_key ON events(engine, t, substr(actor, 1, 16), action)",
    "CREATE INDEX IF NOT EXISTS events_t ON events(t)",
    "CREATE INDEX IF NOT EXISTS events_name ON events(name, t)",
    "CREATE INDEX IF NOT EXISTS events_project ON events(project, t)",
    # A type seldom seen (volumes among a million container events) is found without a scan.
    "CREATE INDEX IF NOT EXISTS events_type ON events(type, t)",
] + _FTS_DDL + [
    # When Pilothouse watched an engine: the spaces between are the "not watching" gaps.
    "CREATE TABLE IF NOT EXISTS watching(id INTEGER PRIMARY KEY, engine INTEGER NOT NULL,"
    " start INTEGER NOT NULL, end INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS watching_engine ON watching(engine, start)",
    "CREATE TABLE IF NOT EXISTS reports(id INTEGER PRIMARY KEY, engine INTEGER NOT NULL, container TEXT NOT NULL,"
    " name TEXT NOT NULL, image TEXT NOT NULL DEFAULT '', project TEXT NOT NULL DEFAULT '',"
    " t INTEGER NOT NULL, last_t INTEGER NOT NULL, kind TEXT NOT NULL, exit_code INTEGER,"
    " oom INTEGER NOT NULL DEFAULT 0, exits INTEGER NOT NULL DEFAULT 1, restart_count INTEGER NOT NULL DEFAULT 0,"
    " cause TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS reports_container ON reports(container, last_t)",
    "CREATE INDEX IF NOT EXISTS reports_t ON reports(last_t)",
    "CREATE TABLE IF NOT EXISTS series(id INTEGER PRIMARY KEY, engine INTEGER NOT NULL, container TEXT NOT NULL,"
    " name TEXT NOT NULL DEFAULT '', UNIQUE(engine, container))",
] + [f"CREATE TABLE IF NOT EXISTS {table}(series INTEGER NOT NULL, t INTEGER NOT NULL, {STATS_COLUMNS},"
     f" PRIMARY KEY(series, t)) WITHOUT ROWID" for table, _ in TIERS]
# No index on t alone: it would double the stats' size. Time ranges go through the primary key,
# one series at a time ("series IN (SELECT id FROM series) AND t ..."; see stats_tiers.py).


class HistoryOpenError(RuntimeError):
    """Not even a fresh history file could be made (the folder is not writable)."""


class HistoryUpdating(RuntimeError):
    """The file is being brought to this version's format: it cannot be read until that is done."""


def connect(path: str | os.PathLike, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection with the pragmas every user of the file wants. Blocking: not on the UI thread."""
    if readonly:
        conn = sqlite3.connect(f"file:{Path(path).as_posix()}?mode=ro", uri=True, timeout=LOCK_WAIT_SECONDS,
                               check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), timeout=LOCK_WAIT_SECONDS, isolation_level=None,
                               check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=%d" % int(LOCK_WAIT_SECONDS * 1000))
    # The indexes of a million events outgrow the 2 MB default cache: every insert would read.
    conn.execute("PRAGMA cache_size=-32000")
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


def _initialise(conn: sqlite3.Connection, on_update: Callable[[], None] | None = None) -> None:
    # auto_vacuum must be chosen before the first table exists; incremental lets the disk cap
    # hand freed pages back to the file system.
    conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise sqlite3.OperationalError("database is locked")  # another connection holds it in rollback mode
    conn.execute("PRAGMA synchronous=NORMAL")
    # Taking the write lock now proves the file is ours to write: a locked file is found at
    # start, not at the first event.
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(_DDL[0])  # meta
        row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is not None and int(row[0]) > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"history schema {row[0]} is newer than this Pilothouse knows")
        if row is not None and int(row[0]) == 1:
            if on_update is not None:
                on_update()  # a million events take minutes: whoever reads is told why it waits
            _migrate_from_1(conn)
        for stmt in _DDL:
            conn.execute(stmt)
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _migrate_from_1(conn: sqlite3.Connection) -> None:
    """Schema 1 numbered events in the order they were written: renumber them in time order
    (id >= t), fill in the exit codes, and rebuild the word index with its new columns. Inside
    the caller's transaction: a failure leaves the file as it was."""
    from desktop.state.history.wording import detail_of_json

    conn.create_function("ph_detail", 3, detail_of_json, deterministic=True)
    conn.execute("DROP TRIGGER IF EXISTS events_ad")
    conn.execute("DROP TABLE IF EXISTS events_fts")
    for index in ("events_key", "events_t", "events_name", "events_project", "events_type"):
        conn.execute(f"DROP INDEX IF EXISTS {index}")
    conn.execute("ALTER TABLE events RENAME TO events_v1")
    conn.execute(next(s for s in _DDL if s.startswith("CREATE TABLE IF NOT EXISTS events(")))
    conn.execute("CREATE TEMP TABLE renumber(old INTEGER PRIMARY KEY, new INTEGER NOT NULL)")
    prev = None
    pairs = []
    slack = 0
    for old_id, t in conn.execute("SELECT id, t FROM events_v1 ORDER BY t, id"):
        new_id = t if prev is None or t > prev else prev + 1
        slack = max(slack, new_id - t)
        prev = new_id
        pairs.append((old_id, new_id))
        if len(pairs) >= 50_000:
            conn.executemany("INSERT INTO renumber VALUES (?, ?)", pairs)
            pairs.clear()
    conn.executemany("INSERT INTO renumber VALUES (?, ?)", pairs)
    conn.execute("INSERT INTO events(id, engine, t, type, action, actor, name, image, project, attrs, scope,"
                 " filled, detail) SELECT renumber.new, e.engine, e.t, e.type, e.action, e.actor, e.name, e.image,"
                 " e.project, e.attrs, e.scope, e.filled, ph_detail(e.type, e.action, e.attrs)"
                 " FROM events_v1 AS e JOIN renumber ON renumber.old = e.id")
    conn.execute("DROP TABLE events_v1")
    conn.execute("DROP TABLE temp.renumber")
    for stmt in _FTS_DDL:
        conn.execute(stmt)
    conn.execute("INSERT INTO events_fts(events_fts) VALUES ('rebuild')")
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('id_slack', ?)", (str(slack),))


def move_aside(path: Path, why: str) -> Path:
    """Rename the file (and its -wal/-shm/-journal companions) out of the way; returns the new name."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.{why}-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.{why}-{stamp}-{n}")
    os.replace(path, aside)
    for suffix in ("-wal", "-shm", "-journal"):
        side = Path(str(path) + suffix)
        if side.exists():
            try:
                os.replace(side, Path(str(aside) + suffix))
            except OSError:
                pass
    return aside


def _kind_of(err: sqlite3.Error) -> str:
    text = str(err).lower()
    return "locked" if ("locked" in text or "busy" in text) else "corrupt"


def open_history(path: str | os.PathLike,
                 on_update: Callable[[], None] | None = None) -> tuple[sqlite3.Connection, str | None]:
    """(writer connection, notice). The notice is a sentence when the old file was moved aside.
    `on_update()` is called (on this thread) before an older file's format is brought up to date."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(path.parent, 0o700)  # container names, commands and logs are the user's business
    except OSError:
        pass
    notice = None
    for attempt in range(2):
        conn = None
        try:
            conn = connect(path)
            _initialise(conn, on_update)
            try:
                os.chmod(path, 0o600)
            except OSError:
                pass
            return conn, notice
        except sqlite3.Error as err:
            if conn is not None:
                conn.close()
            if attempt:
                raise HistoryOpenError(f"The history database could not be started at {path}: {err}") from err
            kind = _kind_of(err)
            try:
                aside = move_aside(path, kind)
            except OSError as move_err:
                raise HistoryOpenError(f"The history database at {path} is {kind} and could not be moved "
                                       f"aside: {move_err}") from move_err
            what = "locked by another program" if kind == "locked" else "damaged"
            notice = (f"The history database was {what}; it was moved to {aside.name} and a new one started. "
                      "Earlier history is in the moved file.")
            log.warning("%s (%s)", notice, err)
    raise AssertionError("unreachable")
