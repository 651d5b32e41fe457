"""The logs of several containers (a Compose project) merged into one stream by timestamp."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from desktop.engine.client import EngineClient
from desktop.engine.logs import LogOptions, LogSession
from desktop.engine.log_records import LogBatch, concat_batches, merge_by_time

MAX_SOURCES = 127  # the source index lives in 7 bits of a line's tag


class MergedLogSession:
    """One LogSession per container; line tags carry the source index (1-based) in bits 1..7.

    The tails are merged by timestamp before the first delivery; backfilled lines are merged
    once every container's backfill is complete; live lines are delivered as they arrive
    (arrival order is timestamp order up to the engine's own buffering).
    """

    def __init__(self, client: EngineClient, containers: Sequence[tuple[str, str]], options: LogOptions = LogOptions(), *,
                 on_lines: Callable[[LogBatch], None], on_backfill: Callable[[LogBatch], None] = lambda b: None,
                 on_progress: Callable[[float | None], None] = lambda f: None,
                 on_ended: Callable[[str], None] = lambda s: None,
                 client_of: Callable[[str], EngineClient] | None = None) -> None:
        """`client_of(container id)`: each container's own engine (containers of several engines)."""
        if not containers:
            raise ValueError("no containers to merge")
        self.sources = [name for _, name in containers[:MAX_SOURCES]]
        self.on_lines, self.on_backfill, self.on_progress, self.on_ended = on_lines, on_backfill, on_progress, on_ended
        self._held: list[list[LogBatch]] | None = [[] for _ in self.sources]
        self._backfill: list[list[LogBatch]] = [[] for _ in self.sources]
        self._progress: list[float | None] = [0.0 for _ in self.sources]
        self._ended: set[int] = set()
        self.sessions = [
            LogSession(client_of(cid) if client_of else client, cid, options, tag=(i + 1) << 1,
                       on_lines=lambda b, i=i: self._lines(i, b), on_backfill=lambda b, i=i: self._backfill[i].append(b),
                       on_progress=lambda f, i=i: self._prog(i, f), on_ended=lambda s, i=i: self._end(i, s))
            for i, (cid, _) in enumerate(containers[:MAX_SOURCES])
        ]

    def _lines(self, i: int, b: LogBatch) -> None:
        if self._held is not None:
            self._held[i].append(b)
        else:
            self.on_lines(b)

    def _prog(self, i: int, f: float | None) -> None:
        self._progress[i] = f
        if all(p is None for p in self._progress):
            merged = merge_by_time([concat_batches(parts) for parts in self._backfill])
            self._backfill = [[] for _ in self.sources]
            self.on_backfill(merged)
            self.on_progress(None)
        else:
            done = [1.0 if p is None else p for p in self._progress]
            self.on_progress(sum(done) / len(done))

    def _end(self, i: int, reason: str) -> None:
        self._ended.add(i)
        if reason or len(self._ended) == len(self.sessions):
            self.on_ended(reason)

    async def start(self) -> None:
        await asyncio.gather(*(s.start() for s in self.sessions))
        held, self._held = self._held or [], None
        tail = merge_by_time([concat_batches(parts) for parts in held])
        if len(tail):
            self.on_lines(tail)

    def resume(self) -> None:
        self._ended.clear()
        for s in self.sessions:
            s.resume()

    async def aclose(self) -> None:
        await asyncio.gather(*(s.aclose() for s in self.sessions))
