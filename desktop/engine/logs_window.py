"""A container's log lines around one moment (`docker logs --since … --until …`): what the Activity
timeline shows beside a pointed-at event. Bounded on both sides, whatever the container wrote."""

from __future__ import annotations

import calendar
import collections
from dataclasses import dataclass

from desktop.engine.errors import translate

MAX_LINES = 100  # on each side of the moment
MAX_BYTES = 8 << 20  # read before the moment; a chattier window is narrowed and read again


@dataclass(frozen=True)
class LogsAround:
    """Lines (timestamp ns, text) in time order; `at` is the index of the first line at or after
    the moment (len(lines) when every line is before it)."""

    lines: tuple[tuple[int, str], ...]
    at: int
    since: float  # the window actually read (epoch seconds)
    until: float
    more_before: bool  # lines before `since`, or before the first line kept, were left out
    more_after: bool


def parse_timestamp(text: bytes) -> int:
    """An RFC 3339 timestamp with nanoseconds ("2026-12-01T11:35:09.123456789Z"), as ns; 0 if none."""
    try:
        head = text[:19].decode("ascii")
        secs = calendar.timegm((int(head[0:4]), int(head[5:7]), int(head[8:10]), int(head[11:13]),
                                int(head[14:16]), int(head[17:19]), 0, 0, 0))
    except (ValueError, UnicodeDecodeError, IndexError):
        return 0
    frac = b""
    if text[19:20] == b".":
        end = 20
        while end < len(text) and 48 <= text[end] <= 57:
            end += 1
        frac = text[20:end]
    return secs * 1_000_000_000 + int((frac + b"000000000")[:9] or 0)


def _lines(stream):
    """Whole lines of a logs stream (frames or raw tty chunks), each "TIMESTAMP text"."""
    pending = b""
    for chunk in stream:
        pending += chunk
        *done, pending = pending.split(b"\n")
        yield from done
    if pending:
        yield pending


def _split(raw: bytes) -> tuple[int, str]:
    ts, _, text = raw.partition(b" ")
    return parse_timestamp(ts), text.rstrip(b"\r").decode("utf-8", "replace")


def _read(api, cid: str, at: float, before: float, after: float, max_lines: int) -> LogsAround:
    """Blocking: the lines of [at - before, at] (the last max_lines) and of [at, at + after] (the first)."""
    since = at - before
    while True:
        kept: collections.deque = collections.deque(maxlen=max_lines)
        stream = api.logs(cid, stdout=True, stderr=True, timestamps=True, stream=True, follow=False,
                          since=max(since, 0.000001), until=at)
        read = 0
        narrowed = False
        try:
            for raw in _lines(stream):
                read += len(raw)
                kept.append(raw)
                if read > MAX_BYTES and at - since > 1:
                    narrowed = True
                    break
        finally:
            stream.close()
        if not narrowed:
            break
        since = at - max(1.0, (at - since) / 10)  # the last tenth, until it fits
    more_before = narrowed or len(kept) == max_lines
    before_lines = [_split(r) for r in kept]
    after_lines: list[tuple[int, str]] = []
    more_after = False
    stream = api.logs(cid, stdout=True, stderr=True, timestamps=True, stream=True, follow=False,
                      since=at, until=at + after)
    try:
        for raw in _lines(stream):
            if len(after_lines) >= max_lines:
                more_after = True
                break
            after_lines.append(_split(raw))
    finally:
        stream.close()
    at_ns = int(at * 1e9)
    # The engine's `until` and `since` both include a line exactly at the moment: keep it once.
    seen = set(before_lines)
    after_lines = [x for x in after_lines if x not in seen]
    lines = sorted(before_lines + after_lines, key=lambda x: x[0])
    first = next((i for i, (t, _) in enumerate(lines) if t >= at_ns), len(lines))
    return LogsAround(tuple(lines), first, since, at + after, more_before, more_after)


async def logs_around(client, cid: str, at: float, before: float = 30.0, after: float = 30.0,
                      max_lines: int = MAX_LINES) -> LogsAround:
    """The log lines of a container from `before` seconds before the moment `at` (epoch seconds)
    to `after` seconds after it, at most `max_lines` on each side (raises EngineError)."""
    api = client.api
    try:
        return await client.run(_read, api, cid, at, before, after, max_lines)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence
        raise translate(exc, "read the logs of", f"container {cid[:12]}") from exc
