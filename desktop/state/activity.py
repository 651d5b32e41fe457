"""The session's activity: every event of every engine as a timeline entry, in plain words."""

from __future__ import annotations

import time
from dataclasses import dataclass

from desktop.engine.records import EngineEvent
from desktop.state.observable import Listeners

MAX_ENTRIES = 100_000  # a session of crash-looping containers must not grow without bound


@dataclass(frozen=True)
class ActivityEntry:
    time: float
    kind: str  # container, image, volume, network, ...
    action: str
    object_id: str
    name: str
    text: str
    engine: str = ""  # the tag (session key) of the engine the event came from


def describe(ev: EngineEvent) -> tuple[str, str]:
    """(object name, what happened) for one event."""
    a = ev.attributes
    name = a.get("name") or (ev.id if ev.type == "image" else ev.id[:12])
    action = ev.action.split(":")[0].strip()
    if ev.type == "container":
        if action == "die":
            code = a.get("exitCode", "?")
            return name, "exited" if code == "0" else f"exited with code {code}"
        if action.startswith("health_status"):
            return name, f"health: {ev.action.split(':', 1)[-1].strip()}"
        if action in ("exec_create", "exec_start", "exec_die"):
            return name, action.replace("_", " ")
        return name, {"oom": "ran out of memory (OOM)", "kill": f"killed with signal {a.get('signal', '?')}",
                      "destroy": "removed", "create": f"created from {a.get('image', '?')}"}.get(action, action)
    if ev.type == "network" and action in ("connect", "disconnect"):
        who = a.get("container", "")[:12]
        return name, f"{action}ed container {who}" if who else action
    if ev.type == "image":
        return name, {"delete": "deleted", "untag": "untagged", "pull": "pulled", "tag": "tagged"}.get(action, action)
    return name, action


class ActivityLog:
    """Entries in arrival order; `appended(entry)` for each new one."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.entries: list[ActivityEntry] = []
        self.max_entries = max_entries
        self.appended = Listeners()
        self.trimmed = Listeners()  # (count) dropped from the front

    def __len__(self) -> int:
        return len(self.entries)

    def on_event(self, ev: EngineEvent) -> None:
        name, text = describe(ev)
        t = ev.time_nano / 1e9 if ev.time_nano else time.time()
        entry = ActivityEntry(t, ev.type, ev.action, ev.id, name, text, ev.engine_id)
        if len(self.entries) >= self.max_entries:
            drop = max(1, self.max_entries // 10)
            del self.entries[:drop]
            self.trimmed.emit(drop)
        self.entries.append(entry)
        self.appended.emit(entry)

    def kinds(self) -> list[str]:
        return sorted({e.kind for e in self.entries})
