"""Fetch the engine's identity and container list while the app is still importing Qt.

Standard library only (no docker SDK, no Qt), started first thing by the entry point on a
thread: socket waits release the GIL, so the engine works on the list while the interpreter
imports the rest. The result is an optimistic first paint; the real connection then resyncs
(the events subscription is opened before that resync, so nothing is missed).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from typing import Any

from desktop.engine.records import Container, EngineInfo

# A busy engine takes seconds to list 20,000 containers; the real connection starts meanwhile
# anyway, and whichever list comes first is shown.
PREFETCH_TIMEOUT = 60.0


class _UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class Prefetch:
    """One background fetch of /version, /info and /containers/json?all=1 over a UNIX socket."""

    def __init__(self, host: str, tag: str | None = None) -> None:
        self.host = host
        self.tag = tag  # the engine id the rows carry (the app's session key), else the engine's own
        self.result: tuple[EngineInfo, list[Container]] | None = None
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="engine-prefetch", daemon=True)

    @classmethod
    def start_for(cls, host: str, tag: str | None = None) -> "Prefetch | None":
        """Start a prefetch when the endpoint is a local UNIX socket; None otherwise. `tag`: the
        engine id to give the rows (the session key the app will follow this engine under), so
        20,000 records are made once, here, and not copied on the UI thread."""
        if not host.startswith("unix://"):
            return None
        p = cls(host, tag)
        p._thread.start()
        return p

    def _get(self, conn: http.client.HTTPConnection, path: str) -> Any:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise OSError(f"{path}: HTTP {resp.status}")
        return json.loads(body)

    def _run(self) -> None:
        try:
            conn = _UnixHTTP(self.host[len("unix://"):], PREFETCH_TIMEOUT)
            try:
                version = self._get(conn, "/version")
                v = version.get("ApiVersion", "1.41")
                info = self._get(conn, f"/v{v}/info")
                rows = self._get(conn, f"/v{v}/containers/json?all=1")
            finally:
                conn.close()
            engine = EngineInfo.from_api(info, version, self.host)
            tag = self.tag or engine.id
            self.result = (engine, [Container.from_api(r, tag) for r in rows])
        except BaseException as exc:  # noqa: BLE001 - any failure just means no prefetch
            self.error = exc
        finally:
            self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)
