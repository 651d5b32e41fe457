"""Sleep and wake of the VM, decided on the host (runs in the VM's helper process).

The VM sleeps after `sleep_after_s` seconds with no traffic through the engine port
(desktop/vm/wake_proxy.py) and no running container: the guest first drops its clean caches
and compacts its memory, free page reporting hands the freed blocks back to QEMU, then the
vCPUs are stopped (QMP `stop`). Any client traffic wakes it (QMP `cont`), and the guest clock,
frozen with the vCPUs, is set from the host's.

What the GUI and CLI read is `sleep.json` in the state folder (written on every change).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import psutil

from desktop.vm.guest_agent import AgentError, GuestAgent

log = logging.getLogger(__name__)

SETTLE_POLL_S = 0.5
SETTLE_MAX_S = 30.0
# The guest kernel reports freed pages about 2 s after they are freed: no verdict before that.
SETTLE_MIN_S = 3.0
SETTLE_STEP_BYTES = 4 << 20  # RSS falling by less than this between polls: reporting is done
# ...for this many polls in a row: the kernel reports a batch, then waits its 2 s again, so a
# shorter calm (it was 1.5 s) ended the wait between two batches with most memory still held.
SETTLE_STEADY_POLLS = 6
# QEMU using more than this share of a core over the idle period: the guest is at work (a
# silent build step, a container starting) though no bytes move; idle it uses well under 1%.
BUSY_CPU_PCT = 5.0


async def set_guest_clock(agent: GuestAgent, timeout: float = 5.0, precise: bool = True) -> None:
    """Set the guest clock to the host's: whole seconds at once, then (with `precise`) again
        just after the next second boundary, so it is off by milliseconds, not up to a second
    (the guest sets whole seconds). Raises AgentError."""
    await agent.call("clock", str(math.floor(time.time())), timeout=timeout)
    if precise:
        now = time.time()
        await asyncio.sleep(math.ceil(now) - now + 0.002)
        await agent.call("clock", str(math.floor(time.time())), timeout=timeout)


def read_sleep_state(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


class SleepController:
    """The idle clock and the sleep/wake sequences. `qmp(command)` runs a QMP command;
    `running_containers()` lists how many run (called off the loop by the caller's choice)."""

    def __init__(self, qmp: Callable[[str], Awaitable[object]], agent: GuestAgent | None,
                 running_containers: Callable[[], Awaitable[int]], sleep_after_s: float | None,
                 state_file: Path, qemu_pid: int | None = None) -> None:
        self._qmp = qmp
        self.agent = agent
        self._running = running_containers
        self.sleep_after_s = sleep_after_s if sleep_after_s and sleep_after_s > 0 else None
        self.state_file = state_file
        self.qemu_pid = qemu_pid
        self.asleep = False
        self.running = 0
        self.last_activity = time.monotonic()
        self._activity_serial = 0
        self._lock = asyncio.Lock()
        self._preparing = False
        self._kick = asyncio.Event()
        self.last_sleep: dict = {}  # figures of the last sleep (RSS before and after), for status
        self.clock_task: asyncio.Task | None = None
        self.outstanding: Callable[[], int] = lambda: 0  # the proxy's unanswered connections
        self.busy_reason = ""  # why the last due sleep did not happen
        self.last_activity_what = ""

    # -- what the proxy calls ---------------------------------------------------------------------
    @property
    def awake(self) -> bool:
        return not self.asleep and not self._lock.locked()

    def note_activity(self, what: str = "") -> None:
        """Engine traffic or a change that counts as use; `what` (for the user) says which."""
        self.last_activity = time.monotonic()
        self._activity_serial += 1
        self.last_activity_what = what

    async def ensure_awake(self) -> None:
        async with self._lock:
            if self.asleep:
                await self._wake_locked()

    # -- inputs -------------------------------------------------------------------------------------
    def set_sleep_after(self, seconds: float | None) -> None:
        self.sleep_after_s = seconds if seconds and seconds > 0 else None
        self.note_activity("the idle time was changed")  # a new timeout counts from now
        self._write()
        self._kick.set()

    def containers_changed(self, running: int) -> None:
        if running != self.running:
            self.running = running
            if running:
                self.note_activity(f"{running} container(s) running")
            self._write()
            self._kick.set()

    async def refresh_running(self) -> bool:
        """Ask the engine how many containers run (twice: a pooled connection dockerd closed
        while idle fails once); False when it could not be asked."""
        for attempt in range(2):
            try:
                self.containers_changed(await self._running())
                return True
            except Exception as e:  # noqa: BLE001 - engine restarting: keep the last count
                if attempt:
                    log.info("listing running containers failed: %s", e)
        return False

    # -- the idle clock -------------------------------------------------------------------------
    def seconds_until_sleep(self) -> float | None:
        """None while sleep cannot come (off, containers running, already asleep)."""
        if self.sleep_after_s is None or self.running or self.asleep:
            return None
        return max(0.0, self.last_activity + self.sleep_after_s - time.monotonic())

    async def run(self) -> None:
        """The idle clock: sleeps the VM when its time comes; runs until cancelled."""
        self._write()
        mark = (time.monotonic(), self._cpu())  # QEMU's CPU time when the idle period began
        serial = self._activity_serial
        while True:
            self._kick.clear()
            if serial != self._activity_serial:
                mark, serial = (time.monotonic(), self._cpu()), self._activity_serial
            left = self.seconds_until_sleep()
            if left is None:
                await self._kick.wait()
                continue
            if left > 0:
                try:
                    await asyncio.wait_for(self._kick.wait(), left)
                except asyncio.TimeoutError:
                    pass
                continue  # recompute: activity may have moved the deadline
            busy = self._busy(mark)
            if busy:
                if busy != self.busy_reason:
                    log.info("not asleep: %s", busy)
                self.busy_reason = busy
                self.note_activity()  # another idle period from now
                continue
            self.busy_reason = ""
            await self.refresh_running()  # an event may have been missed: ask before sleeping
            if self.seconds_until_sleep() == 0.0:
                try:
                    why = await self.sleep_now(reason="idle")
                except Exception as e:  # noqa: BLE001 - QMP gone (QEMU exiting): try again later
                    log.info("sleep failed: %s", e)
                    why = str(e)
                if why:
                    log.info("not asleep: %s", why)
                    self.note_activity()  # try again after another idle period

    # -- sleep and wake ---------------------------------------------------------------------------
    def _cpu(self) -> float | None:
        try:
            t = psutil.Process(self.qemu_pid).cpu_times()
            return t.user + t.system
        except (psutil.Error, ValueError):
            return None

    def _busy(self, mark: tuple[float, float | None]) -> str:
        """Why the guest is not idle though no bytes moved, or ""."""
        if self.outstanding():
            return f"{self.outstanding()} engine request(s) not answered yet"
        cpu = self._cpu()
        t0, c0 = mark
        elapsed = time.monotonic() - t0
        if cpu is not None and c0 is not None and elapsed > 0:
            pct = 100 * (cpu - c0) / elapsed
            if pct > BUSY_CPU_PCT:
                return f"the guest is at work ({pct:.0f}% of a core)"
        return ""

    def _rss(self) -> int:
        try:
            return psutil.Process(self.qemu_pid).memory_info().rss if self.qemu_pid else 0
        except psutil.Error:
            return 0

    async def _settle(self, serial: int) -> None:
        # Free page reporting hands blocks back about 2 s after they are freed, in batches; the
        # host has no event for it, so watch QEMU's resident size until it stops falling.
        last = self._rss()
        started = time.monotonic()
        deadline = started + SETTLE_MAX_S
        steady = 0
        while (time.monotonic() < deadline and serial == self._activity_serial
               and (steady < SETTLE_STEADY_POLLS or time.monotonic() - started < SETTLE_MIN_S)):
            await asyncio.sleep(SETTLE_POLL_S)
            now = self._rss()
            steady = steady + 1 if last - now < SETTLE_STEP_BYTES else 0
            last = now

    async def sleep_now(self, reason: str = "asked") -> str:
        """Put the VM to sleep now; returns "" or why not (containers run, traffic came)."""
        if self.asleep:
            return ""
        if self._preparing:
            return "already preparing to sleep"
        self._preparing = True
        try:
            # The guest keeps serving while it prepares: traffic meanwhile calls the sleep off.
            serial = self._activity_serial
            if not await self.refresh_running():
                return "the engine did not say whether containers run"
            if self.running:
                return f"{self.running} container(s) running"
            rss_before = self._rss()
            if self.agent is not None:
                try:
                    await self.agent.call("reclaim", timeout=60)
                except AgentError as e:
                    log.info("the guest did not reclaim its memory: %s", e)
            await self._settle(serial)
            async with self._lock:  # held only while stopping: traffic waits milliseconds
                if serial != self._activity_serial:
                    what = self.last_activity_what
                    return "engine traffic while preparing to sleep" + (f" ({what})" if what else "")
                await self._qmp("stop")
                self.asleep = True
            self.last_sleep = {"reason": reason, "at": time.time(), "rss_before": rss_before,
                               "rss_after": self._rss()}
            log.info("asleep (%s): QEMU RSS %d -> %d MiB", reason, rss_before >> 20, self.last_sleep["rss_after"] >> 20)
            self._write()
            return ""
        finally:
            self._preparing = False

    async def _wake_locked(self) -> None:
        t = time.monotonic()
        await self._qmp("cont")
        self.asleep = False
        self.note_activity("the VM woke")
        if self.agent is not None:
            # Whole seconds before any request reaches dockerd, then to the millisecond.
            try:
                await set_guest_clock(self.agent, timeout=2.0, precise=False)
            except AgentError as e:
                log.info("guest clock not set: %s", e)
            self.clock_task = asyncio.ensure_future(self._precise_clock())
        self.last_sleep["woke_in_s"] = time.monotonic() - t
        self._write()
        self._kick.set()

    async def _precise_clock(self) -> None:
        try:
            await set_guest_clock(self.agent, timeout=5.0)
        except AgentError as e:
            log.info("guest clock not set precisely: %s", e)

    async def wake(self) -> None:
        await self.ensure_awake()

    def runstate_changed(self, running: bool) -> None:
        """QEMU was continued by someone else (VMManager.stop() wakes a sleeping VM to shut it
        down). A stop by someone else (saving the VM's state) is not a sleep: it is left alone."""
        if self._lock.locked() or not (running and self.asleep):
            return
        self.asleep = False
        self.note_activity("the VM was continued")
        self._write()
        self._kick.set()

    # -- what others read -----------------------------------------------------------------------
    def snapshot(self) -> dict:
        left = self.seconds_until_sleep()
        return {"asleep": self.asleep, "sleep_after_s": self.sleep_after_s, "running_containers": self.running,
                "idle_s": round(time.monotonic() - self.last_activity, 1),
                "sleeps_in_s": None if left is None else round(left, 1), "last_sleep": self.last_sleep,
                "busy": self.busy_reason,
                "helper_pid": os.getpid(), "written_at": time.time()}

    def _write(self) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(self.snapshot()))
            os.replace(tmp, self.state_file)
        except OSError as e:
            log.info("cannot write %s: %s", self.state_file, e)
