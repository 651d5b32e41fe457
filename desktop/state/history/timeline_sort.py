"""The timeline sorted by a column other than time (a header clicked): the first rows of every
event the filter selects, in that column's order as the row shows it, newest first among equals.

Sorted, a timeline has no place for "not watching" gaps (they are spans of time); the page hides
them and says so. Live events go where the order puts them (`SortKey`)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from types import MappingProxyType

from desktop.state.activity import describe
from desktop.state.history.timeline import (_COLS, _FROM, TimelineEvent, TimelineFilter, _row, _where,
                                            attributes_of)

# The column's value as the row shows it (timeline_model's cells), in SQL and in Python.
_OBJECT_SQL = ("COALESCE(NULLIF(events.name, ''), CASE WHEN events.type = 'image' THEN events.actor"
               " ELSE substr(events.actor, 1, 12) END)")
SORT_SQL = {
    "engine": "engines.key",
    "type": "events.type",
    "object": _OBJECT_SQL,
    "what": "ph_wording(events.type, events.action, events.actor, events.attrs, events.name, events.image,"
            " events.project)",
    "project": "events.project",
}
SORTABLE = tuple(SORT_SQL)


def sort_value(ev: TimelineEvent, column: str) -> str:
    """What a row shows in a sortable column (without the "read back" note of a filled row)."""
    if column == "engine":
        return ev.engine
    if column == "type":
        return ev.type
    if column == "project":
        return ev.project
    name, text = describe(ev.to_engine_event())
    if column == "object":
        return ev.name or name
    if column == "what":
        return text
    raise ValueError(column)


def _wording(kind, action, actor, attrs, name, image, project) -> str:
    ev = TimelineEvent(0, "", 0, kind, action, actor, name, image, project,
                       MappingProxyType(attributes_of(attrs, name, image, project)))
    return describe(ev.to_engine_event())[1]


class SortKey:
    """Orders rows as `query_sorted` does: by the column's value (descending if asked), then
    newest first. (SQLite compares text as UTF-8 bytes, which is Python's code point order.)"""

    __slots__ = ("value", "t", "id", "descending")

    def __init__(self, ev: TimelineEvent, column: str, descending: bool) -> None:
        self.value = sort_value(ev, column)
        self.t, self.id, self.descending = ev.time_nano, ev.id, descending

    def __lt__(self, other: "SortKey") -> bool:
        if self.value != other.value:
            return (self.value > other.value) if self.descending else (self.value < other.value)
        return (self.t, self.id) > (other.t, other.id)


def query_sorted(conn: sqlite3.Connection, f: TimelineFilter, column: str, descending: bool) -> list[TimelineEvent]:
    """The first `f.limit` events the filter selects in a column's order (the reader thread: a
    sort of every selected event, which a wide filter over a long history makes take a while)."""
    if column not in SORT_SQL:
        raise ValueError(column)
    conn.create_function("ph_wording", 7, _wording, deterministic=True)
    where, args = _where(replace(f, limit=0))
    direction = "DESC" if descending else "ASC"
    sql = (f"SELECT {_COLS}{_FROM}{where} ORDER BY {SORT_SQL[column]} {direction}, events.t DESC, events.id DESC")
    if f.limit:
        sql += f" LIMIT {int(f.limit)}"
    return [_row(r) for r in conn.execute(sql, args)]
