"""The docker CLI's `docker events` output, for recorded events, and its --since/--until times."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta, timezone

from desktop.state.history.timeline import TimelineEvent

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class TimeInputError(ValueError):
    """A --since/--until value that is no time; the message says what is accepted."""


def parse_time(text: str, now: float | None = None) -> int:
    """A --since/--until value as ns since the epoch: a duration back from now ("2h", "90m",
    "1h30m"), a Unix time ("1700000000.5"), or a date/time ("2026-12-01", "2026-12-01T08:00:00",
    with "Z" or an offset; local time without one) — what `docker events` accepts."""
    s = text.strip()
    now = time.time() if now is None else now
    if not s:
        raise TimeInputError("A time is needed, such as 2h, 30m, 2026-12-01T08:00:00 or a Unix time.")
    pos, total = 0, 0.0
    for m in _DURATION.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    else:
        if pos == len(s) and pos:
            return int((now - total) * 1e9)
    if re.fullmatch(r"\d+(\.\d{1,9})?", s):
        secs, _, frac = s.partition(".")
        return int(secs) * 1_000_000_000 + int((frac or "0").ljust(9, "0"))
    iso = s[:-1] + "+00:00" if s.endswith("Z") else s
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S.%f",
                "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            dt = datetime.strptime(_trim_fraction(iso), fmt)
        except ValueError:
            continue
        if dt.tzinfo is None:
            dt = dt.astimezone()  # local time, as the docker CLI reads it
        return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000
    raise TimeInputError(f"“{text}” is not a time: use a duration such as 2h or 45m, a date such as "
                         "2026-12-01 or 2026-12-01T08:00:00, or a Unix time.")


def _trim_fraction(s: str) -> str:
    # strptime's %f takes at most 6 digits; the docker CLI prints 9.
    return re.sub(r"(\.\d{6})\d+", r"\1", s)


def rfc3339_nano_fixed(ns: int) -> str:
    """Go's RFC3339NanoFixed in local time: 2026-12-01T08:24:25.123456789+01:00 (Z in UTC)."""
    dt = datetime.fromtimestamp(ns // 1_000_000_000, timezone.utc).astimezone()
    off = dt.utcoffset() or timedelta(0)
    if off == timedelta(0) and time.localtime(ns // 1_000_000_000).tm_gmtoff == 0:
        zone = "Z"
    else:
        mins = int(off.total_seconds()) // 60
        sign = "+" if mins >= 0 else "-"
        zone = f"{sign}{abs(mins) // 60:02d}:{abs(mins) % 60:02d}"
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 1_000_000_000:09d}" + zone


def format_line(ev: TimelineEvent) -> str:
    """One event as `docker events` prints it."""
    out = f"{rfc3339_nano_fixed(ev.time_nano)} {ev.type} {ev.action} {ev.actor}"
    if ev.attributes:
        out += " (" + ", ".join(f"{k}={ev.attributes[k]}" for k in sorted(ev.attributes)) + ")"
    return out


def _go_json(value) -> str:
    # The CLI's encoder (Go, HTML escaping off): no spaces, UTF-8 kept, U+2028/9 escaped.
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def format_json(ev: TimelineEvent) -> str:
    """One event as `docker events --format '{{json .}}'` prints it (the engine's message)."""
    msg: dict = {}
    if ev.type in ("container", "image"):  # the engine fills its deprecated fields for these two
        msg["status"] = ev.action
        msg["id"] = ev.actor
        if ev.type == "container" and ev.attributes.get("image"):
            msg["from"] = ev.attributes["image"]
    msg["Type"] = ev.type
    msg["Action"] = ev.action
    msg["Actor"] = {"ID": ev.actor, "Attributes": {k: ev.attributes[k] for k in sorted(ev.attributes)}}
    msg["scope"] = ev.scope
    msg["time"] = ev.time_nano // 1_000_000_000
    msg["timeNano"] = ev.time_nano
    return _go_json(msg)
