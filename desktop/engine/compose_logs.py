"""The logs of several containers (a Compose project, or any set) merged into one stream by time."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from desktop.engine.client import EngineClient
from desktop.engine.logs import LogOptions, LogSession, raw_dialer
from desktop.engine.stream_clients import stream_api
from desktop.engine.log_records import MAX_SOURCES, LogBatch, concat_batches, escape_lines, merge_by_time

log = logging.getLogger(__name__)

FLUSH_BYTES = 4 << 20  # backfilled lines are merged and handed on in pieces of about this size
HOLD_BYTES = 8 << 20  # a source this far ahead of the merge waits (its reader pauses) for the others
FDS_PER_SOURCE = 3  # a follow stream, a backfill stream and a short tail request at once
# Lines each container hands over first: its share of the newest screenful (a tall window shows
# ~100 rows; the newest screenful of the merge is among the newest lines of each container).
SCREEN_TAIL = 200
LIVE_FRAME = 0.016  # live lines are handed on at most this often (one frame)
# Live lines wait this long after arriving, so that one arriving a little after a newer line of
# another container (each stream has its own socket and reader; a loaded engine or machine
# delivers them a few ms apart) still goes before it.
LIVE_REORDER = 0.1


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


_NO_MARK = int(np.iinfo(np.int64).min)


class _Hold:
    """A backfill reader's extra gate: set, it reads; cleared, it waits (re-checking so that a
    closed session's reader is never stuck)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.event.set()
        self.released = False

    def wait(self) -> None:
        while not self.released and not self.event.wait(0.5):
            pass


class _Backfill:
    """What the loop knows of one source's backfill: how far in time it has come, whether it is
    over, and how much of it waits to be merged (the lines themselves are in the _Merger, in the
    merge thread). Sources are read side by side, but the merge can hand on only lines older
    than the slowest one's progress: one far ahead is paused rather than held whole in memory."""

    __slots__ = ("mark", "done", "head", "pending", "hold")

    def __init__(self) -> None:
        self.mark = _NO_MARK  # no line still to come from this source is older than this
        self.done = False
        self.head: LogBatch | None = None  # its tail lines older than the merged tail: they end its backfill
        self.pending = 0  # bytes given to the merger and not handed on yet
        self.hold = _Hold()


def _pieces(b: LogBatch) -> list[LogBatch]:
    """A merged batch cut into pieces of about FLUSH_BYTES: when the slowest source catches up,
    hundreds of megabytes can be released at once, and the log view stores, spills and searches
    chunk by chunk (cut here, in the merge thread, not on the UI thread)."""
    if len(b.data) <= 2 * FLUSH_BYTES:
        return [b] if len(b) else []
    ends = b.offs[1:].astype(np.int64)
    out, a = [], 0
    while a < len(b):
        z = max(a + 1, int(np.searchsorted(ends, int(b.offs[a]) + FLUSH_BYTES, side="right")))
        out.append(b.slice(a, min(z, len(b))))
        a = z
    return out


class LiveOrder:
    """Live lines of several streams, handed on in time order.

    Every line waits `window` seconds after it arrived; what is handed on is the oldest lines,
    sorted, up to the first one still waiting. So each take is in time order, and a line that
    arrives up to `window` after a newer one (of any stream) is still handed on before it."""

    def __init__(self, window: float = LIVE_REORDER) -> None:
        self.window = window
        self._parts: list[tuple[np.ndarray, LogBatch]] = []  # (arrival time of each line, lines)

    def add(self, b: LogBatch, now: float) -> None:
        if len(b):
            self._parts.append((np.full(len(b), now, np.float64), b))

    def __len__(self) -> int:
        return sum(len(b) for _, b in self._parts)

    def waits_since(self, t: float) -> bool:
        """Whether a line that arrived at or before `t` is still waiting."""
        return any(len(a) and float(a.min()) <= t for a, _ in self._parts)

    def take(self, now: float) -> tuple[LogBatch, float | None]:
        """(the lines ready, in time order; when the next ones will be, None: nothing waits)."""
        parts, self._parts = self._parts, []
        if not parts:
            return LogBatch.empty(), None
        batches = [b for _, b in parts]
        # The same stable order merge_by_time puts the lines in, applied to their arrival times.
        order = np.argsort(np.concatenate([b.ts for b in batches]), kind="stable")
        arrived = np.concatenate([a for a, _ in parts])[order]
        merged = merge_by_time(batches)
        # (due is arrival + window: compared the same way, so a line taken later is never due now)
        young = np.flatnonzero(arrived + self.window > now)
        k = int(young[0]) if len(young) else len(merged)
        if k < len(merged):
            self._parts = [(arrived[k:], merged.slice(k, len(merged)))]
            return merged.slice(0, k), float(arrived[k]) + self.window
        return merged, None


class _Merger:
    """Runs in the session's one merge thread (so pieces keep their order): each source's
    backfilled lines not yet handed on; `flush(cut)` merges and hands on those older than `cut`."""

    def __init__(self) -> None:
        self.parts: list[list[LogBatch]] = []

    def add(self, i: int, b: LogBatch) -> None:
        while len(self.parts) <= i:
            self.parts.append([])
        self.parts[i].append(b)

    def flush(self, cut: int | None) -> tuple[LogBatch, list[int]]:
        """(the merged lines older than `cut`, every source's bytes still waiting)."""
        out = []
        for i, parts in enumerate(self.parts):
            # Whole parts before the cut go; the one it falls in is split; the rest wait untouched
            # (a slow source can hold many megabytes back: they are not copied at every flush).
            take: list[LogBatch] = []
            k = 0
            while k < len(parts) and (cut is None or int(parts[k].ts[-1]) < cut):
                take.append(parts[k])
                k += 1
            if k < len(parts) and cut is not None:
                n = int(np.searchsorted(parts[k].ts, cut, side="left"))
                if n:
                    take.append(parts[k].slice(0, n))
                    parts[k] = parts[k].slice(n, len(parts[k]))
            del parts[:k]
            if take:
                out.append(concat_batches(take))
        pieces = _pieces(merge_by_time(out))
        for piece in pieces:
            # Found here, in the merge thread, while the piece is at hand: the first search of
            # the view then does not walk every chunk for escape sequences (memoised on it).
            escape_lines(piece)
        return pieces, [sum(len(p.data) for p in parts) for parts in self.parts]


class MergedLogSession:
    """One LogSession per container; line tags carry the source index (1-based) above bit 0.

    The tails are merged by timestamp before the first delivery. Backfilled (older) lines are
    merged as they come, in pieces: lines older than every unfinished source's progress are
    final and handed on, so the whole log of 50 containers is never held twice in memory.
    Every follow stream is open before the tails are read, so the first screen is every
    source's lines up to that moment; the newest of them, and live lines from then on, wait
    LIVE_REORDER and go on merged by time, so the view is in time order even when streams
    deliver late.
    `add()` brings in a container while the view is open.
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
        self._loop: asyncio.AbstractEventLoop | None = None
        self.sources: list[str] = []
        self.ids: list[str] = []
        self.sessions: list[LogSession] = []
        self._held: list[list[LogBatch]] | None = []
        self._order = LiveOrder()  # live lines waiting to be handed on in time order
        self._live_flush: asyncio.TimerHandle | None = None
        self._fill: list[_Backfill] = []
        self._merger = _Merger()
        # Merging megabytes of backfill takes the UI thread tens of ms a piece: done in a thread
        # of its own (numpy lets go of the GIL for the heavy parts), one piece after the other.
        self._merge_pool = ThreadPoolExecutor(1, thread_name_prefix="log-merge")
        self._unflushed = 0  # bytes handed to the merger since its last flush
        self._progress: list[float | None] = []
        self._ended: set[int] = set()
        self._started = False
        self._closed = False
        self._backfill_over = False
        # Loaded (progress None) once the backfill is merged and the newest tail lines are
        # handed on: a view of stopped containers is then whole.
        self._merged_all = False
        self._held_out_at: float | None = None  # when the newest tail lines went to the live order
        ensure_fd_headroom(len(containers))
        for cid, name in containers:
            self._make(cid, name)

    def _make(self, cid: str, name: str, *, live: bool = False) -> LogSession:
        i = len(self.sessions)
        self.sources.append(name)
        self.ids.append(cid)
        self._progress.append(None if live else 0.0)
        self._fill.append(_Backfill())
        self._fill[i].done = live
        if self._held is not None:
            self._held.append([])
        s = LogSession(self.client_of(cid) if self.client_of else self.client, cid,
                       # a container that appears while the view is open: all of its log is new
                       LogOptions(follow=self.options.follow) if live else self.options,
                       tag=(i + 1) << 1, on_lines=lambda b, i=i: self._lines(i, b),
                       on_backfill=(lambda b: self.on_lines(b)) if live else (lambda b, i=i: self._backfilled(i, b)),
                       on_progress=(lambda f: None) if live else (lambda f, i=i: self._prog(i, f)),
                       on_ended=lambda s, i=i: self._end(i, s), backfill_gate=self._fill[i].hold,
                       first_tail=SCREEN_TAIL, defer_backfill=not live, follow_first=not live)
        self.sessions.append(s)
        return s

    # -- delivery --------------------------------------------------------------------------------
    def _lines(self, i: int, b: LogBatch) -> None:
        if self._held is not None and i < len(self._held):
            self._held[i].append(b)
            return
        # Live lines of every source go on together, at most once a frame (twenty containers
        # writing in bursts would otherwise make hundreds of small appends, and repaint
        # requests, a second on the UI thread), merged by time.
        self._order.add(b, time.monotonic())
        self._schedule_live(LIVE_FRAME)

    def _schedule_live(self, delay: float) -> None:
        if self._live_flush is None and not self._closed:
            if self._loop is None:
                self._loop = asyncio.get_running_loop()
            self._live_flush = self._loop.call_later(delay, self._flush_live)

    def _flush_live(self) -> None:
        self._live_flush = None
        if self._closed:
            return
        now = time.monotonic()
        ready, due = self._order.take(now)
        if len(ready):
            self.on_lines(ready)
        if due is not None:
            self._schedule_live(max(LIVE_FRAME, due - now))
        if self._held_out_at is not None and not self._order.waits_since(self._held_out_at):
            self._held_out_at = None
            self._loaded()

    def _loaded(self) -> None:
        if self._merged_all and self._held is None and self._held_out_at is None and not self._closed:
            self.on_progress(None)

    def _give(self, i: int, b: LogBatch) -> None:
        if len(b) and not self._closed:
            self._unflushed += len(b.data)
            self._fill[i].pending += len(b.data)
            self._merge_pool.submit(self._merger.add, i, b)

    def _backfilled(self, i: int, b: LogBatch) -> None:
        f = self._fill[i]
        f.mark = max(f.mark, int(b.ts[-1]))
        self._give(i, b)
        if self._unflushed >= FLUSH_BYTES:
            self._flush(final=False)
        self._pace_sources()

    def _pace_sources(self) -> None:
        """Pause the readers of sources far ahead of the merge; never the one it waits for."""
        open_ = [k for k, x in enumerate(self._fill) if not x.done]
        if not open_:
            return
        slowest = min(open_, key=lambda k: self._fill[k].mark)
        for k in open_:
            x = self._fill[k]
            if k != slowest and x.pending > HOLD_BYTES:
                x.hold.event.clear()
            else:
                x.hold.event.set()

    def _flush(self, final: bool) -> None:
        """Hand on the backfilled lines no source can still put anything before (all when final;
        then the backfill is over, once they are in)."""
        if self._closed:
            return
        if final:
            cut = None
        else:
            # Until every tail is in, a source's head (its older tail lines) is unknown: each one
            # still holds the cut back, finished or not.
            marks = [x.mark for x in self._fill if not x.done or not self._started]
            cut = min(marks) if marks else None
        self._unflushed = 0
        fut = asyncio.get_running_loop().run_in_executor(self._merge_pool, self._merger.flush, cut)
        fut.add_done_callback(lambda f: self._on_flushed(f, final))

    def _on_flushed(self, fut: asyncio.Future, final: bool) -> None:
        if self._closed or fut.cancelled():
            return
        if fut.exception() is not None:
            log.warning("merging backfilled log lines failed: %s", fut.exception())
        else:
            pieces, waiting = fut.result()
            for x, n in zip(self._fill, waiting):
                x.pending = n
            for piece in pieces:
                if self._closed:
                    return
                self.on_backfill(piece)
            self._pace_sources()
        if final:
            self._merged_all = True
            self._loaded()

    def _source_over(self, i: int) -> None:
        """Source i's backfill is over: what its tail held before the merged tail ends it."""
        f = self._fill[i]
        f.done = True
        f.hold.event.set()
        if f.head is not None:
            self._give(i, f.head)
            f.head = None
        self._pace_sources()

    def _prog(self, i: int, f: float | None) -> None:
        self._progress[i] = f
        if f is None and self._started:
            self._source_over(i)
        if all(p is None for p in self._progress):
            if not self._backfill_over and self._started:
                self._backfill_over = True
                self._flush(final=True)
        else:
            done = [1.0 if p is None else p for p in self._progress]
            self.on_progress(sum(done) / len(done))

    def _end(self, i: int, reason: str) -> None:
        self._ended.add(i)
        if reason or len(self._ended) == len(self.sessions):
            self.on_ended(reason)

    # -- life -----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Deliver the merged tails (the newest screenful of every container), then start the
        backfills (raises the first EngineError after starting the rest).

        Every backfill waits for the last tail: read beside them, they would slow the tails down
        (the engine decodes a whole log file for each), and the first screen would wait for it.
        """
        self._loop = asyncio.get_running_loop()
        first = list(self.sessions)
        await self._make_apis(first)
        results = await asyncio.gather(*(s.start() for s in first), return_exceptions=True)
        # Each source's follow stream was open before its tail was read: what each has handed on
        # is its every line up to about now (tail, then what it wrote since, cut where the tail
        # ends). From here on lines go through the live order.
        held, self._held = self._held or [], None
        # The merged tail starts where the latest-starting tail does: older tail lines of the
        # other sources end their own backfill, so the view is in time order from end to end.
        tails = [merge_by_time(parts) for parts in held]  # each sorted: its cut below is by time
        starts = [int(t.ts[0]) for t in tails if len(t)]
        cut = max(starts) if starts else 0
        newer = []
        for i, t in enumerate(tails):
            k = int(np.searchsorted(t.ts, cut, side="left")) if len(t) else 0
            if k:
                self._fill[i].head = t.slice(0, k)
            newer.append(t.slice(k, len(t)) if k else t)
        tail = merge_by_time(newer)
        # Shown at once: every line older than "now" less the live order's window. A line still
        # on its way from a source was written at most that window before its engine's now, and
        # that is at least the source's newest line and the clock the engine answered its tail
        # by (the Date header, to the second: a quiet view shows whole at once). The newest
        # lines wait in the live order, where one still on its way goes before them. With every
        # follow stream over (stopped containers), nothing is on its way.
        open_ = [i for i, r in enumerate(results) if not isinstance(r, BaseException) and i not in self._ended]
        k = len(tail)
        if self.options.follow and open_ and len(tail):
            now_ns = min(max(first[i].engine_date_ns, int(tails[i].ts[-1]) if len(tails[i]) else 0) for i in open_)
            k = int(np.searchsorted(tail.ts, now_ns - int(LIVE_REORDER * 1e9), side="left"))
        if k:
            self.on_lines(tail.slice(0, k))
        if k < len(tail):
            now = time.monotonic()
            self._order.add(tail.slice(k, len(tail)), now)
            self._held_out_at = now
            self._schedule_live(LIVE_FRAME)
        self._started = True
        for i, r in enumerate(results):
            if isinstance(r, BaseException):  # that container is gone: the others go on
                self._progress[i] = None
        for i, p in enumerate(self._progress):
            if p is None:  # over before every tail was in
                self._source_over(i)
        if all(p is None for p in self._progress) and not self._backfill_over:
            self._backfill_over = True
            self._flush(final=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors and len(errors) == len(results):
            raise errors[0]
        for e in errors:
            log.info("a merged log source failed to open: %s", e)
        await asyncio.gather(*(self._begin_backfill(i, s) for i, (s, r) in enumerate(zip(first, results))
                               if not isinstance(r, BaseException)))

    async def _make_apis(self, sessions: list[LogSession]) -> None:
        """Every session's streaming client, made in one executor call per engine (one call each
        would queue fifty behind each other before the first log request could go out)."""
        by_client: dict[int, tuple[EngineClient, list[LogSession]]] = {}
        for s in sessions:
            by_client.setdefault(id(s.client), (s.client, []))[1].append(s)
        for client, group in by_client.values():
            dialer = raw_dialer(client)
            if dialer is not None:  # a UNIX socket: requests go out raw, followed on one thread
                for s in group:
                    s.use_api(dialer.share())
                continue
            try:
                apis = await client.run(lambda c=client, n=len(group): [stream_api(c) for _ in range(n)])
            except Exception as exc:  # noqa: BLE001 - each session then tries, and reports, itself
                log.info("could not open log streams: %s", exc)
                continue
            for s, api in zip(group, apis):
                s.use_api(api)

    async def _begin_backfill(self, i: int, s: LogSession) -> None:
        await s.start_backfill()
        f = self._fill[i]
        if f.mark == _NO_MARK and s.floor_ns:
            f.mark = s.floor_ns  # nothing backfilled yet: its lines are no older than its container

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
        if self._live_flush is not None:
            self._live_flush.cancel()
            self._live_flush = None
        for f in self._fill:  # no reader stays paused
            f.hold.released = True
            f.hold.event.set()
        await asyncio.gather(*(s.aclose() for s in self.sessions))
        self._merge_pool.shutdown(wait=False, cancel_futures=True)
