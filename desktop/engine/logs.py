"""Container logs as a stream of LogBatch records: the tail first, then older lines, then new ones.

Opening a 10M-line log must show its end at once, yet the engine serves json-file logs at only
~170k lines/s. So a session asks for the last TAIL_FIRST lines (fast: the engine reads the file
backwards), hands them over, then runs two streams side by side in worker threads:
- backfill: the log from its start, stopped at the first tail line (found by timestamp, stream
  and bytes: the file is not strictly in timestamp order, so `until` would lose lines);
- follow: from a little before the last tail line, skipping up to it, then every new line.
A follow stream ends when the container stops; `resume()` continues it after a restart.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from desktop.engine.client import EngineClient
from desktop.engine.errors import EngineError, translate
from desktop.engine.foreground import ForegroundGate
from desktop.engine.log_demux import LogDemuxer
from desktop.engine.log_records import LogBatch, concat_batches
from desktop.engine.raw_logs import RawDialer, RawLogResponse, http_date_ns
from desktop.engine.stream_clients import local_socket_path, open_stream_api

log = logging.getLogger(__name__)

TAIL_FIRST = 1000
MARGIN_NS = 250_000_000  # reordering between stdout and stderr in the log file is far below this
READ_SIZE = 1 << 20
PIECE_SIZE = 64 << 10  # decoded between two looks at the UI's gate: ~1 ms of Python
BIG_BATCH = 1 << 20  # a batch this big reaches the session alone (never copied into a joined one)


@dataclass(frozen=True)
class LogOptions:
    """What part of the log to show. tail=None: all; since: unix seconds or None."""

    tail: int | None = None
    since: float | None = None
    follow: bool = True


@dataclass(frozen=True)
class _Mark:
    """One line's identity: where a stream must be cut or resumed."""

    ts: int
    tag: int
    data: bytes

    @staticmethod
    def first(b: LogBatch) -> "_Mark":
        return _Mark(int(b.ts[0]), int(b.tags[0]), b.line(0))

    @staticmethod
    def last(b: LogBatch) -> "_Mark":
        return _Mark(int(b.ts[-1]), int(b.tags[-1]), b.line(len(b) - 1))

    def find(self, b: LogBatch) -> int:
        """Index of this line in a batch, or -1."""
        for j in np.flatnonzero((b.ts == self.ts) & (b.tags == self.tag)).tolist():
            if memoryview(b.data)[int(b.offs[j]):int(b.offs[j + 1]) - 1] == self.data:  # no copy of a huge line
                return j
        return -1


def parse_tail(text: str, choices) -> int | None:
    """Lines to show: a choice's label, or a positive number; None means all."""
    text = text.strip()
    for label, n in choices:
        if text == label:
            return n
    digits = text.replace(",", "").replace("_", "")
    if digits.lower() in ("", "all"):
        return None
    if not digits.isdigit() or int(digits) <= 0:
        raise ValueError("Type a number of lines, such as 5000, or pick All lines.")
    return int(digits)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, choices) -> float | None:
    """A duration in seconds (e.g. "15m") or an absolute unix time (a date); None means any time."""
    text = text.strip()
    for label, s in choices:
        if text == label:
            return s
    if not text or text.lower() == "any time":
        return None
    low = text.lower().replace(" ", "")
    if low[:-1].isdigit() and low[-1:] in _UNITS and int(low[:-1]) > 0:
        return float(int(low[:-1]) * _UNITS[low[-1]])
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, fmt).timestamp()
        except ValueError:
            continue
    raise ValueError("Type how far back, such as 15m, 2h or 3d, or a date and time such as 2026-11-28 10:00.")


def _ts_param(ns: int) -> str:
    return f"{ns // 1_000_000_000}.{ns % 1_000_000_000:09d}"


class _Stream:
    """One logs request read in a worker thread; batches reach the loop coalesced."""

    def __init__(self, api, cid: str, params: dict, *, tty: bool | None, tag: int,
                 sink: Callable[[LogBatch], bool], done: Callable[[BaseException | None], None],
                 gate: ForegroundGate, pace: float = 0.0, on_open: Callable[[], None] = lambda: None,
                 stop_at: "_Mark | None" = None) -> None:
        # Where a backfill ends: found and cut here, in the worker, so that a huge batch is
        # never copied on the UI thread (the cut is the one copy, made with the GIL released).
        self._stop_at = stop_at
        self.reached = False
        self._gate = gate
        self._on_open = on_open
        self._api, self._cid, self._params, self._tty, self._tag = api, cid, params, tty, tag
        self._sink, self._done = sink, done
        self._loop = asyncio.get_running_loop()
        self._pending: collections.deque[LogBatch] = collections.deque()
        self._scheduled = False
        self._lock = threading.Lock()
        self._res = None
        self.date_ns = 0  # the engine's clock when it answered (its Date header), 0: unknown
        # After a small read, pause so the kernel gathers more: far fewer wake-ups and syscalls
        # per line (the engine flushes every line). Following: up to 8 ms of latency.
        self._pace = 0.008 if params.get("follow") else pace
        self.closed = False
        self.messages = 0  # engine messages read (a long line is several)
        self._handed = False  # read by a FollowMux from its head on
        threading.Thread(target=self._run, name=f"logs-{cid[:12]}", daemon=True).start()

    def close(self) -> None:
        """Stop reading: shut the socket down so a blocked read returns."""
        self.closed = True
        res = self._res
        if res is None:
            return
        if isinstance(res, RawLogResponse):
            res.shutdown()  # the reader closes it
            return
        try:
            sock = res.raw._fp.fp.raw
            sock = getattr(sock, "_sock", sock)
            if isinstance(sock, socket.socket):
                sock.shutdown(socket.SHUT_RDWR)
        except Exception:  # noqa: BLE001 - already closed
            pass
        try:
            res.close()
        except Exception:  # noqa: BLE001
            pass

    def _cut(self, batch: LogBatch) -> LogBatch:
        if self._stop_at is None or not len(batch):
            return batch
        j = self._stop_at.find(batch)
        if j < 0:
            return batch
        self.reached = True
        return batch.slice(0, j)

    def _post(self, batch: LogBatch | None) -> None:
        with self._lock:
            if batch is not None and len(batch):
                self._pending.append(batch)
            if self._scheduled:
                return
            self._scheduled = True
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self._lock:
            items = list(self._pending)
            self._pending.clear()
            self._scheduled = False
        if items and not self.closed:
            # Small batches are joined (one UI update for many lines); a big one (a huge line)
            # is handed over alone rather than copied into a joined batch on the UI thread.
            group: list[LogBatch] = []
            for b in items + [None]:
                if b is not None and len(b.data) < BIG_BATCH:
                    group.append(b)
                    continue
                for part in ([concat_batches(group)] if group else []) + ([b] if b is not None else []):
                    if self.closed:
                        return
                    if not self._sink(part):
                        self.close()
                        return
                group = []

    def _run(self) -> None:
        err: BaseException | None = None
        try:
            api = self._api
            if isinstance(api, RawDialer):
                res = fp = api.open_logs(self._cid, self._params)
                chunked, self.date_ns = res.chunked, res.date_ns
                self._res = res
                if self.closed:
                    return
            else:
                res = api._get(api._url("/containers/{0}/logs", self._cid), params=self._params, stream=True)
                self._res = res
                if self.closed:
                    self.close()
                    return
                api._raise_for_status(res)
                fp, chunked = res.raw._fp.fp, bool(res.raw._fp.chunked)
                self.date_ns = http_date_ns(res.headers.get("Date", ""))
            if not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._on_open)
            dm = LogDemuxer(chunked=chunked, multiplexed=None if self._tty is None else not self._tty,
                            tag=self._tag)
            if isinstance(res, RawLogResponse) and self._params.get("follow") and self._stop_at is None:
                self._hand_to_mux(api, res, dm)
                return
            pending: list[bytes] = []
            size = 0
            gather = 0 if self._params.get("follow") else PIECE_SIZE
            while not self.closed:
                raw = fp.read1(READ_SIZE)
                if not raw:
                    break
                pending.append(raw)
                size += len(raw)
                ended = raw.endswith(b"0\r\n\r\n")
                if self._pace and len(raw) < 16384 and not ended:
                    time.sleep(self._pace)
                # The engine flushes every line: gather a block before decoding (numpy's per-call
                # cost would dominate), unless following or at the end of the response.
                if size < gather and not ended:
                    continue
                block = b"".join(pending)
                pending, size = [], 0
                for i in range(0, len(block), PIECE_SIZE):
                    self._gate.wait()
                    self._post(self._cut(dm.feed(block[i:i + PIECE_SIZE])))
                    if self.reached:
                        break
                if dm.ended or self.reached:
                    break
            if pending and not self.reached:
                self._post(self._cut(dm.feed(b"".join(pending))))
            if not self.reached:
                self._post(self._cut(dm.finish()))
            else:
                res.close()  # the rest of the log is not wanted (not self.close(): what was cut is still to go)
            self.messages = dm.messages
        except BaseException as exc:  # noqa: BLE001 - reported to the session
            if not self.closed:
                err = exc
        finally:
            if not self._handed:
                if isinstance(self._res, RawLogResponse):
                    self._res.close()
                if not self._loop.is_closed():
                    self._loop.call_soon_threadsafe(self._finish, err)

    def _hand_to_mux(self, dialer: RawDialer, res: RawLogResponse, dm: LogDemuxer) -> None:
        """A followed stream is read from here on by the dialer's one follow thread."""
        def on_data(raw: bytes) -> bool:
            if self.closed:
                return False
            self._post(dm.feed(raw))
            return not dm.ended

        def on_end(err: BaseException | None) -> None:
            try:
                if not self.closed:
                    self._post(dm.finish())
                self.messages = dm.messages
            finally:
                res.close()
                if not self._loop.is_closed():
                    self._loop.call_soon_threadsafe(self._finish, None if self.closed else err)

        self._handed = True
        first = res.take_buffered()
        if first and not on_data(first):
            on_end(None)
            return
        dialer.follow_mux(self._gate).add(res.sock, on_data, on_end)

    def _finish(self, err: BaseException | None) -> None:
        self._drain()
        self._done(err)


def raw_dialer(client: EngineClient) -> RawDialer | None:
    """Raw requests to the engine's UNIX socket (local, or an SSH engine's forward); None for
    tcp and TLS engines, which keep the SDK."""
    path = local_socket_path(client)
    return RawDialer(path, client.api.api_version) if path is not None else None


class _Gates:
    """Both gates, one after the other (a reader waits for each)."""

    def __init__(self, *gates) -> None:
        self._gates = gates

    def wait(self) -> None:
        for g in self._gates:
            g.wait()


class LogSession:
    """The log of one container, delivered to callbacks on the event loop.

    Callbacks: on_lines(batch) for the tail and every new line; on_backfill(batch) for older
    lines in order; on_progress(fraction or None when done); on_ended(sentence or "") when the
    follow stream stops (container stopped, or an error).
    """

    def __init__(self, client: EngineClient, cid: str, options: LogOptions = LogOptions(), *, tag: int = 0,
                 on_lines: Callable[[LogBatch], None], on_backfill: Callable[[LogBatch], None] = lambda b: None,
                 on_progress: Callable[[float | None], None] = lambda f: None,
                 on_ended: Callable[[str], None] = lambda s: None, backfill_gate=None,
                 first_tail: int = TAIL_FIRST, defer_backfill: bool = False, follow_first: bool = False,
                 api=None) -> None:
        """Args:
            backfill_gate: an object whose `wait()` the backfill's reader calls between pieces
                (besides the UI's foreground gate): a merged view holds a source back that is far ahead.
            first_tail: how many of the newest lines come first, before the older ones.
            defer_backfill: `start` delivers the tail only; `start_backfill` reads the rest (a
                merged view first paints the newest lines of every container, then backfills).
            follow_first: `start` subscribes the follow stream before it reads the tail, so the
                stream brings every line the tail does not (no second read of what was written
                meanwhile), and the inspect waits for the backfill: a merged view's first screen
                needs every source's lines up to the moment it is shown, and fifty such reads
                and inspects sent beside the tails made the engine answer them 3x later.
            api: the streaming client to use (an SDK client made for it by `stream_api`, or a
                RawDialer; the session closes it); None: the session makes its own.
        """
        self.client, self.cid, self.options, self.tag = client, cid, options, tag
        self.backfill_gate = backfill_gate
        self.first_tail, self.defer_backfill, self.follow_first = first_tail, defer_backfill, follow_first
        self._backfill_plan: tuple[_Mark, int | None] | None = None
        self._info: asyncio.Future | None = None
        self._follow_task: asyncio.Future | None = None
        self._connecting = False  # the first follow stream is being set up
        self.on_lines, self.on_backfill, self.on_progress, self.on_ended = on_lines, on_backfill, on_progress, on_ended
        self._api = api
        self._tty: bool | None = None  # None: told by the log's first byte
        self._created_ns = 0
        self._streams: list[_Stream] = []
        self._last: _Mark | None = None
        self._held: list[LogBatch] | None = None  # followed lines that arrived before the tail
        self._end_held: str | None = None  # the first stream's end, said after its held lines
        self._tail = LogBatch.empty()
        self._sync = "live"
        self._fetched_messages = 0
        # The engine's clock when it last answered a request of this session (0: unknown): no
        # line it has yet to deliver is older than this, less its delivery delay.
        self.engine_date_ns = 0
        self.following = False
        self.backfilling = False
        self.closed = False

    def use_api(self, api) -> None:
        """Stream through this client (an SDK client made by `stream_api`, or a RawDialer; the
        session closes it) rather than making one in `start`."""
        if self._api is None:
            self._api = api
        else:
            api.close()

    @property
    def floor_ns(self) -> int:
        """No line still to be backfilled is older than this (the container's creation); 0: unknown."""
        return self._created_ns

    def _params(self, *, follow: bool, tail: int | None = None, since_ns: int | None = None) -> dict:
        p = {"stdout": 1, "stderr": 1, "timestamps": 1, "follow": int(follow), "tail": "all" if tail is None else str(tail)}
        since = since_ns
        if self.options.since is not None:
            user = int(self.options.since * 1_000_000_000)
            since = user if since is None else max(since, user)
        if since is not None and since > 0:
            p["since"] = _ts_param(since)
        return p

    async def _fetch(self, params: dict) -> LogBatch:
        """A whole non-follow request as one batch."""
        batch, self._fetched_messages = await self._fetch_counted(params)
        return batch

    async def _fetch_counted(self, params: dict) -> tuple[LogBatch, int]:
        """(the lines of a whole non-follow request, how many engine messages they came in)."""
        fut = asyncio.get_running_loop().create_future()
        parts: list[LogBatch] = []
        s = _Stream(self._api, self.cid, params, tty=self._tty, tag=self.tag, sink=lambda b: parts.append(b) or True,
                    done=lambda e: fut.done() or fut.set_result(e), gate=self.client.foreground)
        self._streams.append(s)
        err = await fut
        self.engine_date_ns = max(self.engine_date_ns, s.date_ns)
        if s in self._streams:
            self._streams.remove(s)
        if err is not None:
            raise translate(err, "read the logs of", f"container {self.cid[:12]}")
        return concat_batches(parts), s.messages

    async def _inspect(self) -> dict:
        return await self.client.run(self.client.api.inspect_container, self.cid)

    async def start(self) -> None:
        """Deliver the tail, then start the follow stream and (unless deferred) the backfill
        (raises EngineError; a follow stream that fails later is reported through on_ended).

        The tail is the one request before the first lines show: the follow stream is subscribed
        after it, and what the container wrote in between is read then (see `_connect_follow`).
        """
        name = f"container {self.cid[:12]}"
        try:
            if self._api is None:
                dialer = raw_dialer(self.client)
                self._api = dialer.share() if dialer is not None else await open_stream_api(self.client)
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, "read the logs of", name) from exc
        # What the inspect tells (the creation time, for the backfill's progress) is not needed for
        # the tail: it runs beside the streams, not before them (the demuxer tells a TTY's log from
        # a multiplexed one by its first byte), so a view of many containers opens at once.
        if not self.follow_first:
            self._start_inspect()
        elif self.options.follow:
            await self._subscribe_first()
            if self.closed:
                return
        want = self.options.tail  # None: the whole log
        # The last `first_tail` lines come first whatever was asked: "last 100,000" is ~6 MB the
        # engine decodes at ~170k lines/s, so the rest of it is backfilled like "all" is.
        first_tail = self.first_tail
        tail = first_tail if want is None else min(max(0, want), first_tail)
        first = await self._fetch(self._params(follow=False, tail=tail))
        # The engine's tail counts messages, and it splits a line over 16 KiB into several: a full
        # tail may start inside a long line. That piece is left to the backfill, which reads the
        # line whole; a tail that is all one piece of a line is read again from the start.
        cut_line = (want is None or want > first_tail) and self._fetched_messages >= tail > len(first)
        whole = False
        if cut_line and len(first) >= 2:
            first = first.slice(1, len(first))
        elif cut_line:
            first = await self._fetch(self._params(follow=False, tail=want))
            whole = True
        if self.closed:
            return
        if len(first):
            self._last = _Mark.last(first)
            self.on_lines(first)
        if self.options.follow and self.follow_first:
            self._connecting = False
            self._release_held(first)
        elif self.options.follow:
            self._connecting = True
            self._follow_task = asyncio.ensure_future(self._connect_follow(first))
        if (want is None or want > first_tail) and (len(first) >= tail or cut_line) and not whole:
            self._backfill_plan = (_Mark.first(first), want)
            if not self.defer_backfill:
                await self.start_backfill()
        else:
            self.on_progress(None)

    def _start_inspect(self) -> None:
        if self._info is None:
            self._info = asyncio.ensure_future(self._inspect())
            self._info.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _subscribe_first(self) -> None:
        """Open the follow stream before the tail is read: what it brings meanwhile waits for
        the tail (and is cut where the tail ends); an engine refusing it raises as the tail would."""
        self._connecting = True
        opened = asyncio.get_running_loop().create_future()
        self._held = []
        self._start_follow(opened=opened)
        err = await opened
        if err is not None:
            self._held, self._connecting = None, False
            raise translate(err, "read the logs of", f"container {self.cid[:12]}")

    async def start_backfill(self) -> None:
        """Start reading the older lines (after `start`, when it was told to defer them)."""
        plan, self._backfill_plan = self._backfill_plan, None
        if plan is None or self.closed:
            return
        stop_at, want = plan
        created = 0
        if want is None:
            self._start_inspect()
            try:
                created = self._parse_created((await self._info).get("Created", ""))
            except Exception as exc:  # noqa: BLE001 - only the progress bar's start is lost
                log.info("could not inspect %s: %s", self.cid[:12], exc)
        if self.closed:
            return
        self._created_ns = created
        self._start_backfill(stop_at, tail=want)

    async def _connect_follow(self, tail: LogBatch) -> None:
        """Subscribe to new lines (tail=0: the engine reads nothing old), then read what was
        written since the tail's last line (the tail window again, with `since`: the engine reads
        only the file's end), so no line falls between the tail and the stream. Lines the stream
        brings meanwhile wait; the overlap is cut at the last line read. (Following with `since`
        would make the engine decode the whole file again.)"""
        try:
            opened = asyncio.get_running_loop().create_future()
            self._held = []
            self._start_follow(opened=opened)
            err = await opened
            if self.closed:
                return
            if err is not None:
                self._held = None
                self.on_ended(str(translate(err, "follow the logs of", f"container {self.cid[:12]}")))
                return
            gap = await self._since_tail(tail)
            if self.closed:
                return
            if len(gap):
                self._last = _Mark.last(gap)
                self.on_lines(gap)
            self._release_held(concat_batches([tail, gap]))
        except EngineError as err:
            if not self.closed:
                self._held = self._end_held = None
                self.on_ended(str(err))
        finally:
            self._connecting = False

    async def _since_tail(self, tail: LogBatch) -> LogBatch:
        """The lines written after the tail's last line, read from the end of the log."""
        mark = _Mark.last(tail) if len(tail) else None
        n = max(1000, 2 * len(tail))
        while True:
            since = max(1, mark.ts - MARGIN_NS) if mark is not None else None
            b, messages = await self._fetch_counted(self._params(follow=False, tail=n, since_ns=since))
            if mark is not None:
                j = mark.find(b)
                if j >= 0:
                    return b.slice(j + 1, len(b))
            if messages < n or n >= 1 << 24:
                # The window reaches back past the tail (or the log was rotated): all of it is new.
                return b if mark is None else b.slice(int(np.searchsorted(b.ts, mark.ts, side="right")), len(b))
            n *= 8  # more was written meanwhile than the window holds

    def _release_held(self, first: LogBatch) -> None:
        """The tail is known: decide where the followed lines start being new, deliver those."""
        held, self._held = concat_batches(self._held or []), None
        self._tail = first
        self._sync = "undecided" if len(first) else "live"
        if len(held):
            self._follow_feed(held)
        said, self._end_held = self._end_held, None
        if said is not None and not self.closed:
            self.on_ended(said)

    def _follow_feed(self, b: LogBatch) -> None:
        """Followed lines of the first stream, cut where the tail ends.

        The follow stream starts at its subscription; if its first line is in the tail (or
        older: more than the tail was written meanwhile), every line up to the tail's last one
        is already shown or backfilled, and the tail's last line will come: skip to it.
        """
        tail = self._tail
        if self._sync == "undecided":
            f = _Mark.first(b)
            older = f.ts < int(tail.ts[0])
            self._sync = "skip" if (f.find(tail) >= 0 or older) else "live"
        if self._sync == "skip":
            j = _Mark.last(tail).find(b)
            if j < 0:
                return  # all of it is in the tail or the backfill
            b = b.slice(j + 1, len(b))
            self._sync = "live"
        if len(b):
            self._last = _Mark.last(b)
            self.on_lines(b)

    @staticmethod
    def _parse_created(text: str) -> int:
        from desktop.engine.log_demux import parse_timestamps

        t = (text[:19] + "." + (text[20:29] if len(text) > 20 and text[19] == "." else "") + "000000000")[:29] + "Z "
        ns, ok = parse_timestamps(np.frombuffer(t.encode()[:31], np.uint8)[None, :]) if len(t) >= 31 else ([0], [False])
        return int(ns[0]) if ok[0] else 0

    def _start_backfill(self, stop_at: _Mark, tail: int | None = None) -> None:
        """Older lines up to the first tail line: the whole log, or the last `tail` lines."""
        self.backfilling = True
        start = [self._created_ns]  # progress runs from here (the first backfilled line for `tail`)

        def sink(part: LogBatch) -> bool:
            # Already cut at the first tail line by the stream's worker (stop_at).
            if len(part):
                if not start[0]:
                    start[0] = int(part.ts[0])
                self.on_backfill(part)
                span = stop_at.ts - start[0]
                if span > 0:
                    self.on_progress(min(0.999, max(0.0, (int(part.ts[-1]) - start[0]) / span)))
            return True

        def done(err: BaseException | None) -> None:
            self._streams[:] = [s for s in self._streams if s is not stream]
            self.backfilling = False
            if err is not None:
                log.warning("log backfill of %s failed: %s", self.cid[:12], err)
            self.on_progress(None)

        stream = _Stream(self._api, self.cid, self._params(follow=False, tail=tail), tty=self._tty, tag=self.tag,
                         sink=sink, done=done,
                         gate=_Gates(self.client.foreground, self.backfill_gate) if self.backfill_gate else
                         self.client.foreground, pace=0.002, stop_at=stop_at)
        self._streams.append(stream)

    def _start_follow(self, opened: asyncio.Future | None = None) -> None:
        """Follow new lines: from now on (`opened` given: the first stream), or, after a restart,
        from a little before the last line seen, skipping up to it."""
        mark = None if opened is not None else self._last
        skipping = [mark is not None]
        since = max(0, mark.ts - MARGIN_NS) if mark else None

        def sink(b: LogBatch) -> bool:
            if opened is not None:
                if self._held is not None:
                    self._held.append(b)  # the tail is still being read
                else:
                    self._follow_feed(b)
                return True
            if skipping[0]:
                j = mark.find(b)
                if j >= 0:
                    b = b.slice(j + 1, len(b))
                    skipping[0] = False
                elif int(b.ts.min()) > mark.ts + MARGIN_NS:
                    skipping[0] = False  # the mark is gone (log rotated): take everything newer
                else:
                    return True
            if len(b):
                self._last = _Mark.last(b)
                self.on_lines(b)
            return True

        def done(err: BaseException | None) -> None:
            self._streams[:] = [s for s in self._streams if s is not stream]
            self.following = False
            if opened is not None and not opened.done():
                opened.set_result(err)  # start() raises it
                return
            if self.closed:
                return
            said = "" if err is None else str(translate(err, "follow the logs of", f"container {self.cid[:12]}"))
            if opened is not None and self._held is not None:
                # The stream ended while the gap since the tail is still being read: its lines
                # are held until then, and the end is said after them.
                self._end_held = said
                return
            self.on_ended(said)

        def on_open() -> None:
            if opened is not None and not opened.done():
                opened.set_result(None)

        self.following = True
        params = self._params(follow=True, since_ns=since) if opened is None else \
            {**self._params(follow=True), "tail": "0"}
        params.pop("since", None) if opened is not None else None
        stream = _Stream(self._api, self.cid, params, tty=self._tty, tag=self.tag,
                         sink=sink, done=done, gate=self.client.foreground, on_open=on_open)
        self._streams.append(stream)

    def resume(self) -> None:
        """Continue following after the container (re)started; no-op while following."""
        if not self.closed and not self.following and not self._connecting and self._api is not None \
                and self.options.follow:
            self._start_follow()

    async def aclose(self) -> None:
        self.closed = True
        for task in (self._info, self._follow_task):
            if task is not None and not task.done():
                task.cancel()
        for s in list(self._streams):
            s.close()
        self._streams.clear()
        api, self._api = self._api, None
        if api is not None:
            await asyncio.sleep(0)
            api.close()
