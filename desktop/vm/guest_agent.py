"""The host end of the guest agent (packaging/vm/agent): one line per command over the
virtio-serial port QEMU serves as a unix socket in the VM's state folder.

QEMU holds what the host writes until the guest opens its end, so a command sent while the
guest is still booting is answered once the agent runs (or times out)."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path

from desktop.vm.unix_socket import monitor_address


class GuestAgentError(RuntimeError):
    """The guest agent did not answer, or refused the command."""


class GuestAgent:
    """Commands are serialised; an answer that comes too late is skipped by the next command."""

    def __init__(self, path: "Path | str") -> None:
        self.path = str(path)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()

    async def _ensure(self) -> None:
        if self._writer is not None and not self._writer.is_closing():
            return
        addr = monitor_address(self.path)
        if isinstance(addr, str):
            self._reader, self._writer = await asyncio.open_unix_connection(addr)
        else:  # pragma: no cover - Windows: a Winsock AF_UNIX socket, already connected
            self._reader, self._writer = await asyncio.open_connection(sock=addr)

    async def call(self, command: str, timeout: float = 10.0) -> str:
        """Send one command; return the rest of its `ok <command> ...` answer."""
        verb = command.split()[0]
        async with self._lock:
            try:
                await asyncio.wait_for(self._ensure(), timeout)
                self._writer.write(command.encode() + b"\n")
                await self._writer.drain()
                deadline = asyncio.get_running_loop().time() + timeout
                while True:
                    left = deadline - asyncio.get_running_loop().time()
                    line = (await asyncio.wait_for(self._reader.readline(), max(left, 0.001))).decode().strip()
                    if not line:
                        raise GuestAgentError("the guest agent closed its port")
                    words = line.split()
                    if verb == "ping" and words == ["pong"]:
                        return ""
                    if len(words) >= 2 and words[1] == verb:
                        if words[0] == "ok":
                            return " ".join(words[2:])
                        raise GuestAgentError(f"the guest agent refused {command!r}: {line}")
                    # an answer to an earlier command that timed out: skip it
            except (OSError, asyncio.TimeoutError) as e:
                self.close()
                raise GuestAgentError(f"the guest agent did not answer {verb!r} ({e or 'timeout'})") from e

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def set_clock(self, timeout: float = 5.0, precise: bool = True) -> None:
        """Set the guest clock to the host's: whole seconds at once, then (with `precise`) to
        within a few milliseconds at the next second boundary (busybox date takes whole seconds)."""
        await self.call(f"time {math.floor(time.time())}", timeout)
        if precise:
            now = time.time()
            await asyncio.sleep(math.ceil(now) - now)
            await self.call(f"time {round(time.time())}", timeout)

    async def reclaim(self, timeout: float = 60.0) -> tuple[int, int]:
        """Drop the guest's clean caches and compact its memory; (free KiB, total KiB) after."""
        words = (await self.call("reclaim", timeout)).split()
        try:
            return int(words[0]), int(words[1])
        except (IndexError, ValueError):
            return 0, 0
