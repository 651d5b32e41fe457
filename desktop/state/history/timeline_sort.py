"""The timeline sorted by a column other than time (a header clicked): the newest SORT_WINDOW
events the filter selects, in that column's order as the row shows it, newest first among equals.

A window, not the whole history: a sort must read every row it orders, and a million events'
worth is seconds of the history's one reader (the moment pane, the graphs wait behind it); the
newest five thousand are what a sorted timeline is looked at for, and a filter narrows further.
Sorted, a timeline has no place for "not watching" gaps (they are spans of time); the page hides
them and says so. Live events go where the order puts them (`SortKey`)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from desktop.state.activity import describe
from desktop.state.history.timeline import TimelineEvent, TimelineFilter, query_events

SORTABLE = ("engine", "type", "object", "what", "project")
SORT_WINDOW = 5000


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


class SortKey:
    """Orders rows as `query_sorted` does: by the column's value (descending if asked), then
    newest first."""

    __slots__ = ("value", "t", "id", "descending")

    def __init__(self, ev: TimelineEvent, column: str, descending: bool) -> None:
        self.value = sort_value(ev, column)
        self.t, self.id, self.descending = ev.time_nano, ev.id, descending

    def __lt__(self, other: "SortKey") -> bool:
        if self.value != other.value:
            return (self.value > other.value) if self.descending else (self.value < other.value)
        return (self.t, self.id) > (other.t, other.id)


def query_sorted(conn: sqlite3.Connection, f: TimelineFilter, column: str,
                 descending: bool) -> tuple[list[TimelineEvent], bool, list[SortKey]]:
    """The first `f.limit` of the newest SORT_WINDOW events the filter selects, in a column's
    order (on the history's reader thread), whether those were every event it selects, and
    their keys (for live events to be placed among them without recomputing them)."""
    if column not in SORTABLE:
        raise ValueError(column)
    window = query_events(conn, replace(f, limit=SORT_WINDOW, newest_first=True))
    keyed = sorted(((SortKey(e, column, descending), e) for e in window), key=lambda p: p[0])
    keyed = keyed[:f.limit] if f.limit else keyed
    return [e for _k, e in keyed], len(window) < SORT_WINDOW, [k for k, _e in keyed]
