"""The VM's host-side helper: a small detached process next to QEMU, started by
VMManager.start() (`python -m desktop.vm.vm_helper STATE_DIR`), so it also serves a VM started
from the command line. It exits when QEMU exits. It holds:

- the engine's loopback port (desktop/vm/wake_proxy.py), forwarding to QEMU's own forward;
- the idle clock and sleep/wake (desktop/vm/sleep.py) on its own QMP monitor;
- the guest clock: set from the host's (desktop/vm/guest_agent.py) after every wake (the
  manager sets it after a resume; a cold boot reads it from the RTC). It is started beside
  QEMU, before the guest runs, and never talks to the guest agent while the manager may;
- the published-port forwards (desktop/vm/portsync.py);
- a control socket (POSIX), one JSON line per request: {"cmd": "status" | "sleep" | "wake" |
  "reload"} -> one JSON line back (desktop/vm/sleep_control.py is the client).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import sys
import threading
from pathlib import Path

import psutil
from qemu.qmp import QMPClient, Runstate

from desktop.vm.config import VMConfig
from desktop.vm.guest_agent import GuestAgent, supported as agent_supported
from desktop.vm.sleep import SleepController
from desktop.vm.unix_socket import monitor_address
from desktop.vm.wake_proxy import WakeProxy

log = logging.getLogger("pilothouse.vm.helper")


class Helper:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        state = json.loads((state_dir / "state.json").read_text())
        self.port = int(state["docker_port"])
        self.guest_port = int(state.get("guest_port") or state["docker_port"])
        self.qemu_pid = state.get("pid")
        config = VMConfig.load(state_dir / "config.json")
        self.qmp = QMPClient("pilothouse-helper")
        self.agent = GuestAgent(state_dir / "agent") if agent_supported() else None
        self.tls = None
        self.api = None  # made by _engine_side(), once the engine port is open
        self.sleep = SleepController(self._qmp_execute, self.agent, self._count_running, config.sleep_after_s,
                                     state_dir / "sleep.json", self.qemu_pid)
        self.proxy = WakeProxy(self.port, self.guest_port, self.sleep)
        self.sleep.outstanding = self.proxy.outstanding
        self._control: asyncio.AbstractServer | None = None

    async def _qmp_execute(self, command: str):
        return await self.qmp.execute(command)

    def _engine_side(self) -> None:
        # The docker SDK (and cryptography, through tls) cost a few hundred ms of CPU to import;
        # a resume waits for the engine port, not for these, so they load once it is open.
        from desktop.vm import engine_access
        from desktop.vm.tls import TLSFiles

        self.tls = TLSFiles(self.state_dir / "tls")
        # Its own calls go to QEMU's forward directly: they are not activity.
        self.api = engine_access.api_client(self.guest_port, self.tls, timeout=30, version="1.41")

    async def _count_running(self) -> int:
        rows = await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.api.containers(filters={"status": "running"}))
        return len(rows)

    # -- container events: the running count ------------------------------------------------------
    def _pump_events(self, loop: asyncio.AbstractEventLoop, stop: threading.Event) -> None:
        from desktop.vm import engine_access
        from desktop.vm.portsync import RELEVANT

        while not stop.is_set():
            try:
                api = engine_access.api_client(self.guest_port, self.tls, timeout=None, version="1.41")
                stream = api.events(decode=True, filters={"type": "container"})
                loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.sleep.refresh_running()))
                for ev in stream:
                    if ev.get("Action") in RELEVANT:
                        loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.sleep.refresh_running()))
            except Exception as e:  # noqa: BLE001 - dockerd restarting: reconnect shortly
                log.info("events stream ended: %s", e)
            stop.wait(2)

    # -- control socket ---------------------------------------------------------------------------
    async def _on_control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 10)
            try:
                cmd = json.loads(line or b"{}").get("cmd", "")
            except ValueError:
                cmd = ""
            if cmd == "sleep":
                why = await self.sleep.sleep_now()
                reply = {"ok": not why, "error": why}
            elif cmd == "wake":
                await self.sleep.wake()
                reply = {"ok": True}
            elif cmd == "reload":
                self.sleep.set_sleep_after(VMConfig.load(self.state_dir / "config.json").sleep_after_s)
                reply = {"ok": True}
            elif cmd == "status":
                reply = {"ok": True}
            else:
                reply = {"ok": False, "error": f"unknown command {cmd!r}"}
            reply["state"] = self.sleep.snapshot()
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        except Exception as e:  # noqa: BLE001 - a bad client must not end the helper
            log.info("control request failed: %s", e)
        finally:
            writer.close()

    async def _start_control(self) -> None:
        if not hasattr(socket, "AF_UNIX"):
            return  # Windows: sleep by the idle clock only, woken by engine traffic
        path = self.state_dir / "helper.sock"
        path.unlink(missing_ok=True)
        old = os.umask(0o077)
        try:
            self._control = await asyncio.start_unix_server(self._on_control, str(path))
        finally:
            os.umask(old)

    # -- life -----------------------------------------------------------------------------------
    def _on_qmp_event(self, name: str) -> None:
        if name in ("STOP", "RESUME"):
            self.sleep.runstate_changed(name == "RESUME")

    async def _watch_qmp_events(self) -> None:
        async for event in self.qmp.events:
            self._on_qmp_event(event["event"])

    async def _qemu_gone(self) -> None:
        while self.qmp.runstate == Runstate.RUNNING:
            await self.qmp.runstate_changed()

    async def _connect_qmp(self, timeout: float = 120.0) -> None:
        # Started beside a QEMU that is still coming up: its monitor socket appears shortly.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                await self.qmp.connect(monitor_address(self.state_dir / "qmp-sleep.sock"))
                return
            except Exception:  # noqa: BLE001 - qemu.qmp raises ConnectError wrapping the OS error
                if loop.time() > deadline or (self.qemu_pid and not psutil.pid_exists(self.qemu_pid)):
                    raise
                await asyncio.sleep(0.05)  # QEMU creates its socket with no other signal

    async def run(self) -> None:
        await self._connect_qmp()
        loop = asyncio.get_running_loop()
        await self.proxy.start()  # the engine port answers from here on
        await self._start_control()
        self._engine_side()
        from desktop.vm.portsync import PortSync

        stop_events = threading.Event()
        threading.Thread(target=self._pump_events, args=(loop, stop_events), daemon=True).start()
        portsync = PortSync(self.state_dir)
        tasks = [asyncio.ensure_future(c) for c in (
            self.sleep.run(), portsync.run(self.state_dir / "qmp-ports.sock"), self._watch_qmp_events())]
        try:
            await self._qemu_gone()
        finally:
            stop_events.set()
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(BaseException):
                    await t
            await self.proxy.aclose()
            if self._control is not None:
                self._control.close()
                (self.state_dir / "helper.sock").unlink(missing_ok=True)
            if self.api is not None:
                self.api.close()
            with contextlib.suppress(Exception):
                await self.qmp.disconnect()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stdout)
    asyncio.run(Helper(Path(argv[0])).run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
