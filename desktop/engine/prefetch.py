"""Fetch the engine's identity and container list while the app is still importing Qt.

Standard library only (no docker SDK, no Qt, not even http.client: desktop/engine/raw_http.py),
started first thing by the entry point on a thread: socket waits release the GIL, so the engine
works on the list while the interpreter imports the rest. The result is an optimistic first
paint; the real connection then resyncs (the events subscription is opened before that resync,
so nothing is missed).
"""

from __future__ import annotations

import json
import threading
from typing import Any

from desktop.engine import raw_http
from desktop.engine.records import Container, EngineInfo, containers_from_json

# A busy engine takes seconds to list 20,000 containers; the real connection starts meanwhile
# anyway, and whichever list comes first is shown.
PREFETCH_TIMEOUT = 60.0


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

    def _get(self, path: str) -> Any:
        status, body = raw_http.get(self.host[len("unix://"):], path, PREFETCH_TIMEOUT)
        if status != 200:
            raise OSError(f"{path}: HTTP {status}")
        return json.loads(body)

    def _run(self) -> None:
        try:
            version = self._get("/version")
            v = version.get("ApiVersion", "1.41")
            info = self._get(f"/v{v}/info")
            status, body = raw_http.get(self.host[len("unix://"):], f"/v{v}/containers/json?all=1", PREFETCH_TIMEOUT)
            if status != 200:
                raise OSError(f"containers/json: HTTP {status}")
            engine = EngineInfo.from_api(info, version, self.host)
            self.result = (engine, containers_from_json(body, self.tag or engine.id))
        except BaseException as exc:  # noqa: BLE001 - any failure just means no prefetch
            self.error = exc
        finally:
            self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)
