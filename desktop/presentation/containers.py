"""Pure functions that turn records into what the user reads (no Qt, easy to test)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from desktop.engine.records import DEBUG_ROLE_LABEL, Container

STATE_COLOURS = {
    "running": "#2e9d4f",
    "paused": "#c48a00",
    "restarting": "#2f74c0",
    "removing": "#8a5cc2",
    "created": "#6b7b8c",
    "exited": "#7a7f87",
    "failed": "#c8372d",  # exited with a non-zero code
    "dead": "#c8372d",
}


def state_key(c: Container) -> str:
    """The colour key: `failed` for an exit with a non-zero code."""
    if c.state == "exited" and (c.exit_code or 0) != 0:
        return "failed"
    return c.state or "created"


def state_text(c: Container) -> str:
    """`Running`, `Running (healthy)`, `Exited (137)`, `Paused`, ..."""
    if c.state == "exited":
        code = c.exit_code
        return f"Exited ({code})" if code is not None else "Exited"
    text = (c.state or "unknown").capitalize()
    if c.health:
        text += f" ({c.health})"
    return text


def state_colour(c: Container) -> str:
    return STATE_COLOURS.get(state_key(c), "#7a7f87")


def port_label(public: int, private: int, protocol: str) -> str:
    suffix = "" if protocol == "tcp" else f"/{protocol}"
    return f"{public}:{private}{suffix}"


def port_links(c: Container) -> list[tuple[str, str | None]]:
    """(label, url or None) for each published port; UDP has no link."""
    out = []
    for p in c.published_ports:
        url = f"http://localhost:{p.public_port}" if p.protocol == "tcp" else None
        out.append((port_label(p.public_port, p.private_port, p.protocol), url))
    return out


def age(created: float, now: float | None = None) -> str:
    """`just now`, `5 minutes ago`, `3 days ago` (like the docker CLI, shorter)."""
    now = time.time() if now is None else now
    s = max(0, int(now - created))
    for unit, size in (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400),
                       ("day", 86400), ("hour", 3600), ("minute", 60)):
        if s >= size:
            n = s // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now" if s < 10 else f"{s} seconds ago"


def project_state(members: Sequence[Container]) -> tuple[str, str]:
    """Merged (text, colour key) of a Compose project's containers."""
    n = len(members)
    running = sum(1 for c in members if c.state == "running")
    if n and running == n:
        return f"Running ({n}/{n})", "running"
    if running:
        return f"Running ({running}/{n})", "restarting" if any(c.state == "restarting" for c in members) else "paused"
    if any(c.state == "paused" for c in members):
        return "Paused", "paused"
    if any(c.state == "restarting" for c in members):
        return "Restarting", "restarting"
    if any(state_key(c) in ("failed", "dead") for c in members):
        return "Exited (with errors)", "failed"
    if all(c.state == "created" for c in members):
        return "Created", "created"
    return "Exited", "exited"


def is_debug_helper(c: Container) -> bool:
    """One of the app's own debug containers: not the user's, so lists leave it out (as Docker
    Desktop does with its own); its shell is the target's Debug tab."""
    return DEBUG_ROLE_LABEL in c.labels


def matches_filter(c: Container, text: str) -> bool:
    """Search by name, image, id prefix, label (key or key=value) or Compose project."""
    return matches_search(c, text.strip().lower())


def matches_search(c: Container, t: str) -> bool:
    """`matches_filter` with the text already stripped and in lower case (a table judging
    20,000 rows per keystroke prepares it once)."""
    if not t:
        return True
    if t in c.name.lower() or t in c.image.lower() or c.id.startswith(t):
        return True
    if (c.compose_project or "").lower().find(t) >= 0:
        return True
    for k, v in c.labels.items():
        kl, vl = k.lower(), v.lower()
        if t == kl or t == f"{kl}={vl}" or ("=" not in t and t in vl):
            return True
    return False
