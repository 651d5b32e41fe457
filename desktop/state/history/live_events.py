"""The events of this session as they arrive, as timeline rows: what the Activity timeline shows
before (or without) the history file, and what it appends between two reads of the history."""

from __future__ import annotations

import time
from types import MappingProxyType

from desktop.engine.records import COMPOSE_PROJECT, EngineEvent
from desktop.state.history.timeline import TimelineEvent, TimelineFilter, matches
from desktop.state.observable import Listeners

MAX_ENTRIES = 100_000  # a session of crash-looping containers must not grow without bound


def timeline_event(ev: EngineEvent, seq: int) -> TimelineEvent:
    """An engine event as the history would return it (a negative id: not in the file)."""
    a = ev.attributes
    return TimelineEvent(-seq, ev.engine_id, ev.time_nano or time.time_ns(), ev.type, ev.action, ev.id,
                         a.get("name", ""), a.get("image", "") if ev.type == "container" else "",
                         a.get(COMPOSE_PROJECT, ""), MappingProxyType(dict(a)), getattr(ev, "scope", "local") or "local")


class LiveEvents:
    """Entries in arrival order, numbered; `appended(event)` for each new one."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.entries: list[TimelineEvent] = []
        self.max_entries = max_entries
        self.seq = 0  # the number of the newest entry (entries keep their number when the front goes)
        self.appended = Listeners()

    def __len__(self) -> int:
        return len(self.entries)

    def on_event(self, ev: EngineEvent) -> None:
        self.seq += 1
        entry = timeline_event(ev, self.seq)
        if len(self.entries) >= self.max_entries:
            del self.entries[:max(1, self.max_entries // 10)]
        self.entries.append(entry)
        self.appended.emit(entry)

    def since(self, seq: int) -> list[TimelineEvent]:
        """Entries numbered above `seq`, oldest first."""
        n = self.seq - seq
        return self.entries[-n:] if n > 0 else []

    def query(self, f: TimelineFilter) -> list[TimelineEvent]:
        """What `query_events` would return from these entries alone (newest first)."""
        out = []
        for e in (reversed(self.entries) if f.newest_first else self.entries):
            if matches(f, e):
                out.append(e)
                if f.limit and len(out) >= f.limit:
                    break
        out.sort(key=lambda e: (e.time_nano, -e.id), reverse=f.newest_first)
        return out
