"""The timeline's rows and filters: what an event row holds, how a filter becomes SQL and
full-text queries (shared by the reader in timeline.py and the search planner)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from desktop.engine.records import COMPOSE_PROJECT, EngineEvent
from desktop.state.history.wording import actions_for


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
# A word this short is a number or a name far more often than the start of an ID ("3", "db",
# "137" would each find every container whose ID starts so): it does not search the ID column.
_SHORT_HEX = re.compile(r"[0-9a-f]{1,3}")


def _searches_ids(word: str) -> bool:
    return not _SHORT_HEX.fullmatch(word.casefold())


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
        if not _searches_ids(w):
            phrase = "- {actor} : " + phrase
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
            self.words.append((pattern, frozenset(actions_for(w)), _searches_ids(w)))

    def __bool__(self) -> bool:
        return bool(self.words)

    def matches(self, values: tuple[str, ...], action: str = "") -> bool:
        """`values` in the index's columns (schema.FTS_COLUMNS): the ID, last, is left out for
        the words too short to be one's start."""
        joined = "\x00".join(values).casefold()
        without_id = None
        said = None
        for pattern, actions, ids in self.words:
            if ids:
                if pattern.search(joined):
                    continue
            else:
                if without_id is None:
                    without_id = "\x00".join(values[:-1]).casefold()
                if pattern.search(without_id):
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


PLANS = ("scan", "index", "race", "probe")  # how a search may be answered (timeline_search; tests try each)
