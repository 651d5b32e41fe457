"""An interactive exec with a TTY over the Engine API's hijacked socket.

Output is read in a worker thread and handed to `on_output` *in that thread* (so a slow
consumer such as a VT emulator never runs on the UI thread); keystrokes go out through a
writer thread so a container that stops reading cannot block the caller.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import socket
import threading
from collections.abc import Callable

from desktop.engine.client import EngineClient
from desktop.engine.errors import translate
from desktop.engine.stream_clients import open_stream_api

log = logging.getLogger(__name__)

DEFAULT_SHELLS = ("/bin/bash", "/bin/sh")


def _raw_socket(sock) -> socket.socket | None:
    s = getattr(sock, "_sock", sock)
    return s if isinstance(s, socket.socket) else None


class ExecSession:
    """One shell in one container. Callbacks: on_output(bytes) from the reader thread;
    on_exit(sentence) on the event loop when the shell or the container ends."""

    def __init__(self, client: EngineClient, cid: str, *, shell: str | None = None,
                 on_output: Callable[[bytes], None], on_exit: Callable[[str], None]) -> None:
        self.client, self.cid, self.shell = client, cid, shell
        self.on_output, self.on_exit = on_output, on_exit
        self.exec_id: str | None = None
        self.command: list[str] = []
        self._api = None
        self._sock = None
        self._out: queue.Queue[bytes | None] = queue.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False
        self.running = False

    def _exists(self, api, path: str) -> bool:
        res = api.head(api._url("/containers/{0}/archive", self.cid), params={"path": path})
        return res.status_code == 200

    async def choose_shell(self) -> list[str]:
        """The user's shell, or the first of /bin/bash, /bin/sh the container has."""
        if self.shell:
            return self.shell.split()
        api = self.client.api
        for sh in DEFAULT_SHELLS:
            try:
                if await self.client.run(self._exists, api, sh):
                    return [sh]
            except Exception:  # noqa: BLE001 - fall through to the next candidate
                continue
        return [DEFAULT_SHELLS[-1]]

    async def start(self, cols: int = 80, rows: int = 24) -> None:
        """Create and start the exec (raises EngineError with a sentence)."""
        self._loop = asyncio.get_running_loop()
        target = f"container {self.cid[:12]}"
        try:
            self.command = await self.choose_shell()
            self._api = await open_stream_api(self.client)
            created = await self.client.run(
                self._api.exec_create, self.cid, self.command, stdin=True, tty=True,
                environment={"TERM": "xterm-256color"})  # no COLUMNS/LINES: busybox would trust them over the TTY
            self.exec_id = created["Id"]
            self._sock = await self.client.run(self._api.exec_start, self.exec_id, tty=True, socket=True)
        except Exception as exc:  # noqa: BLE001
            await self._close_api()
            raise translate(exc, "open a terminal in", target) from exc
        self.running = True
        threading.Thread(target=self._read, name=f"exec-read-{self.cid[:12]}", daemon=True).start()
        threading.Thread(target=self._write, name=f"exec-write-{self.cid[:12]}", daemon=True).start()
        await self.resize(cols, rows)

    def write(self, data: bytes) -> None:
        """Send keystrokes (never blocks)."""
        if self.running and data:
            self._out.put(data)

    async def resize(self, cols: int, rows: int) -> None:
        if self.running and self.exec_id:
            try:
                await self.client.run(self._api.exec_resize, self.exec_id, height=rows, width=cols)
            except Exception as exc:  # noqa: BLE001 - a resize racing the exit is harmless
                log.warning("exec resize failed: %s", exc)

    def _write(self) -> None:
        sock = _raw_socket(self._sock)
        while True:
            data = self._out.get()
            if data is None or sock is None:
                return
            try:
                sock.sendall(data)
            except OSError:
                return

    def _read(self) -> None:
        sock = _raw_socket(self._sock)
        try:
            while sock is not None:
                data = sock.recv(65536)
                if not data:
                    break
                self.on_output(data)
        except OSError:
            pass
        except Exception:  # noqa: BLE001 - a consumer bug must not kill the app
            log.exception("terminal output handling failed")
        finally:
            self.running = False
            self._out.put(None)
            loop = self._loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(lambda: loop.create_task(self._finish()))

    async def _finish(self) -> None:
        if self.closed:
            await self._close_api()
            return
        message = "The session ended."
        try:
            info = await self.client.run(self._api.exec_inspect, self.exec_id)
            code = info.get("ExitCode")
            state = await self.client.run(self._api.inspect_container, self.cid)
            if not (state.get("State") or {}).get("Running"):
                message = "The container stopped; the session ended."
            elif code is not None:
                message = f"The shell exited with code {code}."
        except Exception as exc:  # noqa: BLE001
            err = translate(exc, "check the terminal of", f"container {self.cid[:12]}")
            message = f"The session ended. {err}"
        await self._close_api()
        self.on_exit(message)

    async def _close_api(self) -> None:
        api, self._api = self._api, None
        if api is not None:
            api.close()

    async def aclose(self) -> None:
        self.closed = True
        self.running = False
        self._out.put(None)
        sock = _raw_socket(self._sock)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._api is not None and not self.exec_id:
            await self._close_api()
