"""Keep QEMU's host forwards equal to the ports the VM's containers publish.

Runs as a small detached process next to QEMU (`python -m desktop.vm.portsync STATE_DIR`),
started by VMManager.start(), so forwards also work when the VM was started from the command
line. It lists containers once, then recomputes on every container start/die event; each
published port P becomes `hostfwd tcp:127.0.0.1:P-:P` (loopback only, as with Docker Desktop)
and is removed when no running container publishes it. Exits when QEMU exits.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from pathlib import Path

from qemu.qmp import QMPClient, Runstate

from desktop.vm import engine_access
from desktop.vm.qmp_control import hmp
from desktop.vm.unix_socket import monitor_address
from desktop.vm.tls import TLSFiles

Forward = tuple[str, int]  # (tcp|udp, port)
RELEVANT = {"start", "die", "destroy", "stop", "kill", "pause", "unpause"}


def published_ports(containers: list[dict]) -> set[Forward]:
    """The (protocol, host port) pairs that running containers publish."""
    out: set[Forward] = set()
    for c in containers:
        for p in c.get("Ports") or []:
            public = p.get("PublicPort")
            if public and p.get("Type") in ("tcp", "udp"):
                out.add((p["Type"], int(public)))
    return out


def rule(fwd: Forward) -> str:
    proto, port = fwd
    return f"{proto}:127.0.0.1:{port}-:{port}"


class PortSync:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        state = json.loads((state_dir / "state.json").read_text())
        # QEMU's own forward of dockerd, not the engine port the helper's proxy holds: these
        # calls are not a user's traffic and must not keep the VM awake.
        port = state.get("guest_port") or state["docker_port"]
        # A fixed API version: asking dockerd for its own here would fail while the guest boots.
        self.client = engine_access.api_client(port, TLSFiles(state_dir / "tls"), timeout=30, version="1.41")
        self.qmp = QMPClient("pilothouse-portsync")
        self.active: set[Forward] = set()
        self.failed: dict[str, str] = {}

    def _record(self) -> None:
        data = {"forwards": sorted(f"{p}/{n}" for p, n in self.active), "failed": self.failed}
        tmp = self.state_dir / "forwards.tmp"
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.state_dir / "forwards.json")

    async def sync(self) -> None:
        loop = asyncio.get_running_loop()
        running = await loop.run_in_executor(None, lambda: self.client.containers(filters={"status": "running"}))
        want = published_ports(running)
        for fwd in sorted(self.active - want):
            await hmp(self.qmp, f"hostfwd_remove net0 {fwd[0]}:127.0.0.1:{fwd[1]}")
            self.active.discard(fwd)
        for fwd in sorted(want - self.active):
            out = await hmp(self.qmp, f"hostfwd_add net0 {rule(fwd)}")
            if out.strip():  # HMP answers with an error text, silence on success
                self.failed[f"{fwd[0]}/{fwd[1]}"] = out.strip()
                print(f"portsync: {rule(fwd)}: {out.strip()}", flush=True)
            else:
                self.failed.pop(f"{fwd[0]}/{fwd[1]}", None)
                self.active.add(fwd)
        self._record()

    def _pump_events(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue, holder: list) -> None:
        try:
            stream = self.client.events(decode=True, filters={"type": "container"})
            holder.append(stream)
            for ev in stream:
                if ev.get("Action") in RELEVANT:
                    loop.call_soon_threadsafe(queue.put_nowait, ev)
        except Exception as e:  # noqa: BLE001 - engine gone or restarting
            loop.call_soon_threadsafe(queue.put_nowait, e)
        else:
            loop.call_soon_threadsafe(queue.put_nowait, EOFError("event stream ended"))

    async def _qemu_gone(self) -> None:
        while self.qmp.runstate == Runstate.RUNNING:
            await self.qmp.runstate_changed()

    async def run(self, qmp_address) -> None:
        await self.qmp.connect(monitor_address(qmp_address))
        loop = asyncio.get_running_loop()
        gone = asyncio.ensure_future(self._qemu_gone())
        try:
            while not gone.done():
                queue: asyncio.Queue = asyncio.Queue()
                holder: list = []
                threading.Thread(target=self._pump_events, args=(loop, queue, holder), daemon=True).start()
                try:
                    await self.sync()
                except Exception as e:  # noqa: BLE001 - engine restarting: retry below
                    print(f"portsync: sync failed: {e}", flush=True)
                while not gone.done():
                    getter = asyncio.ensure_future(queue.get())
                    await asyncio.wait({getter, gone}, return_when=asyncio.FIRST_COMPLETED)
                    if not getter.done():
                        getter.cancel()
                        break
                    item = getter.result()
                    if isinstance(item, BaseException):
                        break
                    await self.sync()
                for stream in holder:
                    stream.close()
                if not gone.done():
                    await asyncio.wait({gone}, timeout=2)  # engine restarting: reconnect shortly
        finally:
            gone.cancel()
            self.client.close()
            try:
                await self.qmp.disconnect()
            except Exception:  # noqa: BLE001 - QEMU already gone
                pass


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    state_dir = Path(argv[0])
    asyncio.run(PortSync(state_dir).run(state_dir / "qmp-ports.sock"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
