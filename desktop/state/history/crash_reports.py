"""Crash reports: when a container exits on its own, the evidence is taken at once (exit code,
signal, OOM verdict, restart count, last 200 log lines, health log, recent stats) and kept in
the history after the container is gone. A restart loop is one report that counts its exits.

The CrashWatch decides what is a crash (not a stop, kill, Compose down or removal the user
asked for); this module listens to its verdicts and re-announces them, with the cause in a
sentence, as the alerts the notifier shows: one per report, not one per restart.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from desktop.engine.crash_evidence import ContainerProfile, OutputTail, inspect_raw, logs_tail
from desktop.engine.errors import EngineError
from desktop.engine.records import COMPOSE_PROJECT, EngineEvent
from desktop.state.crash_watch import OOM, UNHEALTHY, ContainerAlert, CrashWatch
from desktop.state.history import stats_tiers
from desktop.state.history.causes import exit_cause, loop_note, signal_of
from desktop.state.history.health import health_report
from desktop.state.observable import Listeners

log = logging.getLogger(__name__)

LOOP_WINDOW = 600.0  # another crash within this many seconds of the last is the same episode
STATS_SECONDS = 300.0  # "the stats of its last minutes"
OUTPUT_WAIT = 2.0  # for the followed output of a removed container to reach its end
KEEP_CAPTURE = 120.0  # evidence of an exit nobody called a crash (the user's stop) is dropped
MAX_FOLLOWED = 64  # auto-removed containers whose output is kept from the start


@dataclass
class CrashReport:
    engine: str
    container_id: str
    name: str
    image: str
    project: str
    time: float  # first exit of the episode (epoch seconds)
    last_time: float
    kind: str  # exited, oom
    exit_code: int | None
    signal: str | None
    oom_killed: bool
    cause: str
    exits: int = 1
    restart_count: int = 0
    restart_policy: str = "no"
    memory_limit: int = 0
    auto_removed: bool = False
    logs: list[str] = field(default_factory=list)
    health: dict | None = None
    stats: list[dict] = field(default_factory=list)
    exit_history: list[tuple[float, int | None]] = field(default_factory=list)
    id: int | None = None

    def body(self) -> str:
        d = dataclasses.asdict(self)
        for k in ("id", "engine", "container_id", "name", "image", "project", "time", "last_time", "kind",
                  "exit_code", "oom_killed", "exits", "restart_count", "cause"):
            d.pop(k)
        return json.dumps(d, separators=(",", ":"))

    @classmethod
    def from_row(cls, row) -> "CrashReport":
        (rid, engine, cid, name, image, project, t, last_t, kind, code, oom, exits, rc, cause, body) = row
        extra = json.loads(body or "{}")
        extra["exit_history"] = [tuple(x) for x in extra.get("exit_history", [])]
        return cls(engine=engine, container_id=cid, name=name, image=image, project=project, time=t / 1e9,
                   last_time=last_t / 1e9, kind=kind, exit_code=code, oom_killed=bool(oom), exits=exits,
                   restart_count=rc, cause=cause, id=rid, **extra)


_REPORT_COLS = ("reports.id, engines.key, container, name, image, project, t, last_t, kind, exit_code, oom,"
                " exits, restart_count, cause, body")


def list_reports(conn, limit: int = 200, container: str | None = None) -> list[CrashReport]:
    """Newest first (run on the history's reader thread)."""
    sql = f"SELECT {_REPORT_COLS} FROM reports JOIN engines ON engines.id = reports.engine"
    args: list = []
    if container:
        sql += " WHERE container = ? OR name = ?"
        args += [container, container]
    sql += " ORDER BY last_t DESC LIMIT ?"
    return [CrashReport.from_row(r) for r in conn.execute(sql, (*args, limit))]


def get_report(conn, report_id: int) -> CrashReport | None:
    row = conn.execute(f"SELECT {_REPORT_COLS} FROM reports JOIN engines ON engines.id = reports.engine"
                       " WHERE reports.id = ?", (report_id,)).fetchone()
    return CrashReport.from_row(row) if row else None


def _save(store, report: CrashReport):
    def write(conn) -> int:
        values = (report.container_id, report.name, report.image, report.project, int(report.time * 1e9),
                  int(report.last_time * 1e9), report.kind, report.exit_code, int(report.oom_killed), report.exits,
                  report.restart_count, report.cause, report.body())
        if report.id is None:
            return conn.execute("INSERT INTO reports(engine, container, name, image, project, t, last_t, kind,"
                                " exit_code, oom, exits, restart_count, cause, body) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                (store.engine_row_id(conn, report.engine), *values)).lastrowid
        conn.execute("UPDATE reports SET container=?, name=?, image=?, project=?, t=?, last_t=?, kind=?, exit_code=?,"
                     " oom=?, exits=?, restart_count=?, cause=?, body=? WHERE id=?", (*values, report.id))
        return report.id

    return store.call(write)


@dataclass
class _Evidence:
    event: EngineEvent
    inspect: dict | None
    profile: ContainerProfile | None
    logs: list[str]
    logs_note: str = ""


class CrashReporter:
    """Feed it engine events (`on_event`, before the CrashWatch gets them); it listens to the
    watch's verdicts. `alerts(ContainerAlert)` for the notifier (shaped like CrashWatch's),
    `reported(CrashReport)` whenever a report is made or grows."""

    def __init__(self, watch: CrashWatch, client_for: Callable[[str], object | None], store=None,
                 containers=None, clock: Callable[[], float] = time.time) -> None:
        self.watch = watch
        self._client_for = client_for
        self.store = store
        self._clock = clock
        self.alerts = Listeners()
        self.reported = Listeners()
        self._profiles: dict[str, ContainerProfile] = {}
        self._profiling: dict[str, asyncio.Task] = {}
        self._tails: dict[str, OutputTail] = {}
        self._captures: dict[str, asyncio.Task] = {}
        self._open: dict[str, CrashReport] = {}  # container id -> the report of its current episode
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task] = set()
        self._verdicts: dict[str, set[asyncio.Task]] = {}  # container id -> its alerts on their way
        self._sem: asyncio.Semaphore | None = None
        self._containers = containers
        self._closed = False
        watch.decided.connect(self._on_decided)
        if containers is not None:
            containers.reset.connect(self._on_containers_reset)
            containers.upserted.connect(self._on_containers_upserted)

    # The notifier's switch is the watch's (shared with everything that reads it).
    @property
    def enabled(self) -> bool:
        return self.watch.enabled

    @enabled.setter
    def enabled(self, on: bool) -> None:
        self.watch.enabled = on

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- knowing containers before they die -------------------------------------------------------
    def _on_containers_reset(self) -> None:
        self._on_containers_upserted(self._containers.all())

    def _on_containers_upserted(self, rows) -> None:
        # Containers that merely exist are profiled by their `create` or `start` event; inspecting
        # every created one on a resync would be a thousand calls on a big engine.
        for c in rows:
            if c.state in ("running", "restarting") and c.id not in self._profiles:
                self._profile_soon(c.engine_id, c.id)

    def _profile_soon(self, engine: str, cid: str) -> None:
        if self._closed or cid in self._profiling:
            return
        self._profiling[cid] = self._spawn(self._profile(engine, cid))

    async def _profile(self, engine: str, cid: str) -> None:
        if self._sem is None:
            self._sem = asyncio.Semaphore(2)  # a resync of 1000 containers must not flood the engine
        try:
            client = self._client_for(engine)
            if client is None:
                return
            async with self._sem:
                raw = await inspect_raw(client, cid)
            p = ContainerProfile.from_inspect(raw)
            self._profiles[cid] = p
            running = (raw.get("State") or {}).get("Status") in ("created", "running", "restarting")
            if p.auto_remove and running and cid not in self._tails and len(self._tails) < MAX_FOLLOWED:
                tail = OutputTail(client, cid, p.tty)
                self._tails[cid] = tail
                tail.start()
        except EngineError:
            pass  # gone already
        finally:
            self._profiling.pop(cid, None)

    # -- events -----------------------------------------------------------------------------------
    def on_event(self, ev: EngineEvent) -> None:
        if self._closed or ev.type != "container" or not ev.id:
            return
        if ev.action in ("create", "start"):
            if ev.id not in self._profiles or ev.action == "create":
                self._profile_soon(ev.engine_id, ev.id)
            elif self._profiles[ev.id].auto_remove and ev.id not in self._tails:
                self._profile_soon(ev.engine_id, ev.id)
        elif ev.action == "die":
            # An earlier capture still running belongs to an earlier exit's report: leave it be.
            self._captures[ev.id] = self._spawn(self._capture(ev))
            asyncio.get_running_loop().call_later(KEEP_CAPTURE, self._drop_capture, ev.id, self._captures[ev.id])
        elif ev.action == "destroy":
            self._spawn(self._forget_later(ev.id))

    def _drop_capture(self, cid: str, task: asyncio.Task) -> None:
        if self._captures.get(cid) is task:
            del self._captures[cid]

    async def _forget_later(self, cid: str) -> None:
        capture = self._captures.get(cid)
        if capture is not None:
            try:
                await capture
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        self._profiles.pop(cid, None)
        self._open.pop(cid, None)  # removed: no later exit can join its episode
        lock = self._locks.get(cid)
        if lock is not None and not lock.locked():
            del self._locks[cid]
        tail = self._tails.pop(cid, None)
        if tail is not None:
            tail.close()

    async def _capture(self, ev: EngineEvent) -> _Evidence:
        """Everything at once, before an auto-remove takes the container and its logs."""
        cid = ev.id
        client = self._client_for(ev.engine_id)
        profile = self._profiles.get(cid)
        tail = self._tails.get(cid)
        inspect, logs, note = None, [], ""
        if client is None:
            return _Evidence(ev, None, profile, [], "The engine is no longer followed.")

        async def get_logs() -> tuple[list[str], str]:
            if tail is not None:
                await asyncio.get_running_loop().run_in_executor(client.executor, tail.ended.wait, OUTPUT_WAIT)
                return tail.lines(), "Kept from the container's start: the engine removed it when it exited."
            try:
                return await logs_tail(client, cid), ""
            except EngineError as err:
                return [], f"The logs could not be read: {err}"

        async def get_inspect():
            try:
                return await inspect_raw(client, cid)
            except EngineError:
                return None

        inspect, (logs, note) = await asyncio.gather(get_inspect(), get_logs())
        if inspect is not None:
            profile = ContainerProfile.from_inspect(inspect)
        return _Evidence(ev, inspect, profile, logs, note)

    # -- verdicts ---------------------------------------------------------------------------------
    def _on_decided(self, alert: ContainerAlert) -> None:
        if self._closed:
            return
        if alert.kind == UNHEALTHY:
            task = self._spawn(self._explain_unhealthy(alert))
        else:
            task = self._spawn(self._report(alert))
        cid = alert.container_id
        self._verdicts.setdefault(cid, set()).add(task)

        def done(t: asyncio.Task) -> None:
            pending = self._verdicts.get(cid)
            if pending is not None:
                pending.discard(t)
                if not pending:
                    del self._verdicts[cid]

        task.add_done_callback(done)

    def settled(self, cid: str) -> bool:
        """Every alert this container's exits so far will get has been sent (or none is coming)."""
        return self.watch.settled(cid) and cid not in self._verdicts

    async def _explain_unhealthy(self, alert: ContainerAlert) -> None:
        message = alert.message
        client = self._client_for(alert.engine)
        if client is not None:
            try:
                h = health_report(await inspect_raw(client, alert.container_id))
                if h is not None:
                    message = f"{self._on_engine(alert)}{h.verdict} Click to see why."
            except EngineError:
                pass
        if self.enabled:
            self.alerts.emit(dataclasses.replace(alert, message=message))

    def _on_engine(self, alert: ContainerAlert) -> str:
        # With several engines the watch's titles and messages say which one; so do ours.
        return f"On engine {alert.engine}. " if self.watch.name_engines and alert.engine else ""

    async def _recent_stats(self, engine: str, cid: str, until: float) -> list[dict]:
        if self.store is None:
            return []
        try:
            await asyncio.wrap_future(self.store.flush())
            pts = await self.store.read(stats_tiers.points, engine, cid, until - STATS_SECONDS, until + 5,
                                        "stats_1s")
        except Exception as exc:  # noqa: BLE001 - a report without stats beats no report
            log.info("crash report: no stats: %s", exc)
            return []
        return [dataclasses.asdict(p) for p in pts]

    async def _report(self, alert: ContainerAlert) -> None:
        # One at a time per container: the exits of a restart loop join one report in order.
        lock = self._locks.setdefault(alert.container_id, asyncio.Lock())
        async with lock:
            await self._report_locked(alert)

    async def _report_locked(self, alert: ContainerAlert) -> None:
        cid = alert.container_id
        task = self._captures.get(cid)
        if task is None:  # a verdict without its die seen here (fed late): take what is left
            task = self._spawn(self._capture(EngineEvent("container", "die", cid, {}, int(alert.time * 1e9),
                                                         alert.engine)))
        try:
            ev = await task
        except asyncio.CancelledError:
            return
        raw = ev.inspect or {}
        state = raw.get("State") or {}
        p = ev.profile
        attrs = ev.event.attributes
        oom = alert.kind == OOM or bool(state.get("OOMKilled"))
        code = alert.exit_code
        mem_limit = p.memory_limit if p else 0
        last_line = next((line for line in reversed(ev.logs) if line.strip()), None)
        health = health_report(raw) if raw else None
        stats = await self._recent_stats(alert.engine, cid, alert.time)
        episode = self._open.get(cid)
        if episode is not None and alert.time - episode.last_time <= LOOP_WINDOW:
            episode.exits += 1
            report = episode
        else:
            report = CrashReport(
                engine=alert.engine, container_id=cid, name=alert.name, time=alert.time, last_time=alert.time,
                image=(p.image if p else "") or attrs.get("image", ""), project=attrs.get(COMPOSE_PROJECT, ""),
                kind=alert.kind, exit_code=code, signal=None, oom_killed=oom, cause="")
            self._open[cid] = report
        report.last_time = alert.time
        report.kind, report.exit_code, report.oom_killed = alert.kind, code, oom
        report.signal = signal_of(code)
        report.restart_count = int(raw.get("RestartCount") or (p.restart_count if p else 0))
        report.restart_policy = p.restart_policy if p else "no"
        report.memory_limit = mem_limit
        report.auto_removed = bool(p and p.auto_remove)
        report.logs = ev.logs + ([f"[{ev.logs_note}]"] if ev.logs_note else [])
        report.health = _health_dict(health)
        report.stats = stats
        report.exit_history = (report.exit_history + [(alert.time, code)])[-100:]
        report.cause = exit_cause(alert.name, code, oom_killed=oom, memory_limit=mem_limit, last_line=last_line) \
            + "." + loop_note(report.exits, report.restart_policy)
        new = report.exits == 1
        if self.store is not None:
            try:
                report.id = await asyncio.wrap_future(_save(self.store, report))
            except Exception as exc:  # noqa: BLE001 - the notification still goes out
                log.warning("crash report not saved: %s", exc)
        self.reported.emit(report)
        if new and self.enabled:
            self.alerts.emit(dataclasses.replace(alert, message=self._on_engine(alert) + report.cause,
                                                 report_id=report.id))

    async def aclose(self) -> None:
        self._closed = True
        self.watch.decided.disconnect(self._on_decided)
        if self._containers is not None:
            self._containers.reset.disconnect(self._on_containers_reset)
            self._containers.upserted.disconnect(self._on_containers_upserted)
        for tail in self._tails.values():
            tail.close()
        self._tails.clear()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass


def _health_dict(h) -> dict | None:
    if h is None:
        return None
    return {"command": h.check.command, "interval": h.check.interval, "timeout": h.check.timeout,
            "retries": h.check.retries, "start_period": h.check.start_period, "status": h.status,
            "failing_streak": h.failing_streak, "verdict": h.verdict,
            "probes": [{"start": p.start, "end": p.end, "exit_code": p.exit_code, "output": p.output}
                       for p in h.probes]}
