"""The logs of several containers (a Compose project, or any set) merged into one stream by time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

import numpy as np

from desktop.engine.client import EngineClient
from desktop.engine.logs import LogOptions, LogSession
from desktop.engine.log_records import MAX_SOURCES, LogBatch, concat_batches, merge_by_time

log = logging.getLogger(__name__)

FLUSH_BYTES = 4 << 20  # backfilled lines are merged and handed on in pieces of about this size
FDS_PER_SOURCE = 3  # a follow stream, a backfill stream and a short tail request at once


def ensure_fd_headroom(sources: int) -> None:
    """Raise the soft limit on open files when many containers are followed at once (desktop
    sessions often start with 1024, and each container holds a few sockets); never above the
    hard limit, which only the system may raise."""
    try:
        import resource
    except ImportError:  # Windows: no such per-process limit on sockets
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 256 + FDS_PER_SOURCE * sources
    if soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(hard, max(want, soft))
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-file limit to %d: %s", new, exc)


class _Backfill:
    """One source's backfilled lines not yet handed on, and how far in time it has come."""

    __slots__ = ("parts", "nbytes", "mark", "done")

    def __init__(self, floor: int) -> None:
        self.parts: list[LogBatch] = []
        self.nbytes = 0
        self.mark = floor  # no line still to come from this source is older than this
        self.done = False


class MergedLogSession:
    """One LogSession per container; line tags carry the source index (1-based) above bit 0.

    The tails are merged by timestamp before the first delivery. Backfilled (older) lines are
    merged as they come, in pieces: lines older than every unfinished source's progress are
    final and handed on, so the whole log of 50 containers is never held twice in memory.
    Live lines are delivered as they arrive (arrival order is timestamp order up to the
    engine's own buffering). `add()` brings in a container while the view is open.
    """

    def __init__(self, client: EngineClient, containers: Sequence[tuple[str, str]], options: LogOptions = LogOptions(), *,
                 on_lines: Callable[[LogBatch], None], on_backfill: Callable[[LogBatch], None] = lambda b: None,
                 on_progress: Callable[[float | None], None] = lambda f: None,
                 on_ended: Callable[[str], None] = lambda s: None,
                 client_of: Callable[[str], EngineClient] | None = None,
                 on_source_added: Callable[[str], None] = lambda name: None) -> None:
        """`client_of(container id)`: each container's own engine (containers of several engines)."""
        if not containers:
            raise ValueError("no containers to merge")
        if len(containers) > MAX_SOURCES:
            raise ValueError(f"one view merges at most {MAX_SOURCES:,} containers")
        self.client, self.options, self.client_of = client, options, client_of
        self.on_lines, self.on_backfill, self.on_progress, self.on_ended = on_lines, on_backfill, on_progress, on_ended
        self.on_source_added = on_source_added
        self.sources: list[str] = []
        self.ids: list[str] = []
        self.sessions: list[LogSession] = []
        self._held: list[list[LogBatch]] | None = []
        self._fill: list[_Backfill] = []
        self._progress: list[float | None] = []
        self._ended: set[int] = set()
        self._started = False
        self._closed = False
        self._backfill_over = False
        ensure_fd_headroom(len(containers))
        for cid, name in containers:
            self._make(cid, name)

    def _make(self, cid: str, name: str, *, live: bool = False) -> LogSession:
        i = len(self.sessions)
        self.sources.append(name)
        self.ids.append(cid)
        self._progress.append(None if live else 0.0)
        self._fill.append(_Backfill(np.iinfo(np.int64).min))
        self._fill[i].done = live
        if self._held is not None:
            self._held.append([])
        s = LogSession(self.client_of(cid) if self.client_of else self.client, cid,
                       # a container that appears while the view is open: all of its log is new
                       LogOptions(follow=self.options.follow) if live else self.options,
                       tag=(i + 1) << 1, on_lines=lambda b, i=i: self._lines(i, b),
                       on_backfill=(lambda b: self.on_lines(b)) if live else (lambda b, i=i: self._backfilled(i, b)),
                       on_progress=(lambda f: None) if live else (lambda f, i=i: self._prog(i, f)),
                       on_ended=lambda s, i=i: self._end(i, s))
        self.sessions.append(s)
        return s

    # -- delivery --------------------------------------------------------------------------------
    def _lines(self, i: int, b: LogBatch) -> None:
        if self._held is not None and i < len(self._held):
            self._held[i].append(b)
        else:
            self.on_lines(b)

    def _backfilled(self, i: int, b: LogBatch) -> None:
        f = self._fill[i]
        f.parts.append(b)
        f.nbytes += len(b.data)
        f.mark = max(f.mark, int(b.ts[-1]))
        if sum(x.nbytes for x in self._fill) >= FLUSH_BYTES:
            self._flush(final=False)

    def _flush(self, final: bool) -> None:
        """Hand on the backfilled lines no source can still put anything before (all when final)."""
        pending = [x for x in self._fill if x.parts]
        if not pending:
            return
        if final:
            cut = None
        else:
            marks = [x.mark for x in self._fill if not x.done]
            cut = min(marks) if marks else None
        out = []
        for x in pending:
            b = concat_batches(x.parts)
            n = len(b) if cut is None else int(np.searchsorted(b.ts, cut, side="left"))
            if n:
                out.append(b.slice(0, n))
            rest = b.slice(n, len(b)) if n < len(b) else None
            x.parts = [rest] if rest is not None else []
            x.nbytes = len(rest.data) if rest is not None else 0
        merged = merge_by_time(out)
        if len(merged):
            self.on_backfill(merged)

    def _prog(self, i: int, f: float | None) -> None:
        self._progress[i] = f
        if f is None:
            self._fill[i].done = True
        if all(p is None for p in self._progress):
            if not self._backfill_over:
                self._backfill_over = True
                self._flush(final=True)
                self.on_progress(None)
        else:
            done = [1.0 if p is None else p for p in self._progress]
            self.on_progress(sum(done) / len(done))

    def _end(self, i: int, reason: str) -> None:
        self._ended.add(i)
        if reason or len(self._ended) == len(self.sessions):
            self.on_ended(reason)

    # -- life -----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start every container's session (raises the first EngineError after starting the rest)."""
        first = list(self.sessions)
        results = await asyncio.gather(*(s.start() for s in first), return_exceptions=True)
        held, self._held = self._held or [], None
        self._started = True
        for s, f in zip(first, self._fill):
            if f.mark == np.iinfo(np.int64).min and s.floor_ns:
                f.mark = s.floor_ns  # nothing backfilled yet: its lines are no older than its container
        tail = merge_by_time([concat_batches(parts) for parts in held])
        if len(tail):
            self.on_lines(tail)
        errors = [r for r in results if isinstance(r, BaseException)]
        for i, r in enumerate(results):
            if isinstance(r, BaseException):  # that container is gone: the others go on
                self._prog(i, None)
        if errors and len(errors) == len(results):
            raise errors[0]
        for e in errors:
            log.info("a merged log source failed to open: %s", e)

    def has(self, cid: str) -> bool:
        return cid in self.ids

    async def add(self, cid: str, name: str) -> bool:
        """Bring a container that appeared in the view's scope into it; False when there is no
        room left or it is already there."""
        if self._closed or cid in self.ids or len(self.sessions) >= MAX_SOURCES:
            return False
        ensure_fd_headroom(len(self.sessions) + 1)
        s = self._make(cid, name, live=True)
        self.on_source_added(name)
        try:
            await s.start()
        except Exception as exc:  # noqa: BLE001 - one container's trouble does not end the view
            log.info("could not add %s to the merged log: %s", cid[:12], exc)
            return False
        return True

    def resume(self, cid: str | None = None) -> None:
        """Continue following (one container, or all) after a (re)start."""
        for i, s in enumerate(self.sessions):
            if cid is None or self.ids[i] == cid:
                self._ended.discard(i)
                s.resume()

    async def aclose(self) -> None:
        self._closed = True
        await asyncio.gather(*(s.aclose() for s in self.sessions))
