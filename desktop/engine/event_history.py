"""What the engine still remembers: `docker events --since … --until …` as one list (the
daemon keeps a short buffer of recent events in memory; a restart of the daemon empties it)."""

from __future__ import annotations

import time

from desktop.engine.errors import translate
from desktop.engine.records import EngineEvent


def _ts(ns: int) -> str:
    return f"{ns // 1_000_000_000}.{ns % 1_000_000_000:09d}"


async def fetch_events(client, since_ns: int, until_ns: int | None = None) -> list[EngineEvent]:
    """Events the engine buffered between two times (ns since the epoch; until defaults to now)."""
    until_ns = until_ns if until_ns is not None else time.time_ns()
    api = client.api
    tag = client.tag

    def fetch() -> list[EngineEvent]:
        stream = api.events(since=_ts(max(0, since_ns)), until=_ts(until_ns), decode=True)
        try:
            return [EngineEvent.from_api(raw, tag) for raw in stream]
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    try:
        return await client.run(fetch)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence
        raise translate(exc, "read", "the engine's recent events") from exc
