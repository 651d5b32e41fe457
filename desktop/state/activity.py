"""Engine events in plain words, as the Activity timeline shows them."""

from __future__ import annotations

from desktop.engine.records import EngineEvent


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
