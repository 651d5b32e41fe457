"""Spots containers that died unexpectedly: non-zero exits, OOM kills, failing health checks.

Qt-free: it listens to the engines' events and announces ContainerAlert records; the UI turns
them into desktop notifications. Exits the user asked for in Pilothouse (stop, kill, restart,
remove) are expected for a short while and not reported. One watch serves every engine: each
event carries its engine's tag, and container ids (random 256-bit values) do not collide
across engines, so expected exits and held OOM checks stay keyed by container id.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from desktop.engine.records import EngineEvent
from desktop.state.observable import Listeners

EXPECT_SECONDS = 60.0  # a stop waits up to its timeout (10 s by default) before the kill
EXITED, OOM, UNHEALTHY = "exited", "oom", "unhealthy"
OOM_GRACE_SECONDS = 1.5


@dataclass(frozen=True)
class ContainerAlert:
    container_id: str
    name: str
    kind: str  # exited, oom, unhealthy
    exit_code: int | None
    time: float
    title: str
    message: str
    engine: str = ""  # the tag (session key) of the engine that runs the container
    report_id: int | None = None  # the crash report kept in the history, when there is one


class CrashWatch:
    """Feed it EngineEvents (`on_event`); listen to `alerts(ContainerAlert)`."""

    def __init__(self, clock=time.monotonic, oom_check=None) -> None:
        # `async oom_check(cid, engine_id) -> bool` asks the container's engine (inspect:
        # State.OOMKilled) when a SIGKILL exit came without an "oom" event: dockerd 20.10
        # sometimes sends none.
        self._oom_check = oom_check
        self.alerts = Listeners()
        # Every verdict, notifications on or off: crash reports are kept either way.
        self.decided = Listeners()
        self.enabled = True
        self.name_engines = False  # several engines followed: titles say which engine
        self._clock = clock
        self._expected: dict[str, float] = {}
        # Expected exits whose "die" has come: only a start after it means "running again".
        # A start event from before the user's stop can arrive after the click (the store may
        # learn "running" from a list call first), and must not cancel the expectation.
        self._exited: set[str] = set()
        self._oom: set[str] = set()
        self._held: dict[str, object] = {}  # cid -> timer handle of a 137 exit waiting for its "oom"

    def expect_exit(self, cid: str) -> None:
        """The user is stopping/killing/removing this container from Pilothouse: do not alarm."""
        self._expected[cid] = self._clock() + EXPECT_SECONDS
        self._exited.discard(cid)

    def _is_expected(self, cid: str) -> bool:
        until = self._expected.get(cid)
        if until is None:
            return False
        if self._clock() > until:
            del self._expected[cid]
            self._exited.discard(cid)
            return False
        return True

    def on_event(self, ev: EngineEvent) -> None:
        if ev.type != "container" or not ev.id:
            return
        name = ev.attributes.get("name", ev.id[:12])
        if ev.action == "oom":
            held = self._held.pop(ev.id, None)
            if held is not None:  # the die came first: that exit was the OOM kill
                held[0].cancel()
                die = held[1]
                code = int(die.attributes.get("exitCode", "137") or 137)
                self._emit(die, name, OOM, code, f"{name} ran out of memory",
                           f"The container was killed for going over its memory limit (exit code {code}).")
                return
            self._oom.add(ev.id)
        elif ev.action == "die":
            oom = ev.id in self._oom
            self._oom.discard(ev.id)
            try:
                code = int(ev.attributes.get("exitCode", "0"))
            except ValueError:
                code = None
            expected = self._is_expected(ev.id)
            if expected:
                self._exited.add(ev.id)
            if oom and not expected:
                self._emit(ev, name, OOM, code, f"{name} ran out of memory",
                           f"The container was killed for going over its memory limit (exit code {code}).")
            elif code and not expected:
                if code == 137 and self._hold_for_oom(ev, name, code):
                    return
                self._emit(ev, name, EXITED, code, f"{name} exited with code {code}",
                           "The container stopped on its own with an error. Click to see its logs.")
        elif ev.action.startswith("health_status") and ev.action.split(":")[-1].strip() == "unhealthy":
            self._emit(ev, name, UNHEALTHY, None, f"{name} is unhealthy",
                       "Its health check is failing. Click to see its logs.")
        elif ev.action == "destroy" or (ev.action == "start" and ev.id in self._exited):
            # Gone, or running again after the exit the user asked for (a restart's second half):
            # later exits are the container's own.
            self._expected.pop(ev.id, None)
            self._exited.discard(ev.id)
            self._oom.discard(ev.id)
        elif ev.action == "start":
            self._oom.discard(ev.id)  # a start from before the user's request: still expected

    def settled(self, cid: str) -> bool:
        """No verdict on this container's exits is still on its way (a SIGKILL exit waits for its
        "oom" event or the engine's answer first): whatever alert it gets has been sent."""
        return cid not in self._held

    def _hold_for_oom(self, ev: EngineEvent, name: str, code: int) -> bool:
        """A SIGKILL exit may be an OOM kill whose "oom" event comes late or never: ask the engine
        (or, without a way to ask, wait a moment for the event) before calling it a plain exit."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False

        def emit(oom: bool) -> None:
            if self._held.pop(ev.id, None) is None:
                return  # the "oom" event decided it already
            if oom:
                self._emit(ev, name, OOM, code, f"{name} ran out of memory",
                           f"The container was killed for going over its memory limit (exit code {code}).")
            else:
                self._emit(ev, name, EXITED, code, f"{name} exited with code {code}",
                           "The container stopped on its own with an error. Click to see its logs.")

        if self._oom_check is not None:
            async def ask() -> None:
                try:
                    oom = bool(await self._oom_check(ev.id, ev.engine_id))
                except Exception:  # noqa: BLE001 - gone already (auto-remove): a plain exit
                    oom = False
                emit(oom)

            task = loop.create_task(ask())
            self._held[ev.id] = (task, ev)
        else:
            self._held[ev.id] = (loop.call_later(OOM_GRACE_SECONDS, lambda: emit(False)), ev)
        return True

    def _emit(self, ev: EngineEvent, name: str, kind: str, code: int | None, title: str, message: str) -> None:
        t = ev.time_nano / 1e9 if ev.time_nano else time.time()
        if self.name_engines and ev.engine_id and title.startswith(name):
            # "web (second) exited with code 1": the tag the Containers page and the tray use
            title = f"{name} ({ev.engine_id}){title[len(name):]}"
            message = f"On engine {ev.engine_id}. {message}"
        alert = ContainerAlert(ev.id, name, kind, code, t, title, message, ev.engine_id)
        self.decided.emit(alert)
        if self.enabled:
            self.alerts.emit(alert)
