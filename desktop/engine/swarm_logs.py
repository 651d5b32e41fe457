"""`docker service logs`: every task's lines across nodes, each with the task and node it came from."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from desktop.engine.swarm_records import ServiceLogLine

if TYPE_CHECKING:
    from desktop.engine.client import EngineClient


class ServiceLogStream:
    """`docker service logs` for one service: every task's lines across nodes, with their origin.

    `read()` (blocking, run it in the executor) returns the last `tail` lines; with `follow`,
    `iterate(callback)` hands batches to `callback` until `close()`.
    """

    def __init__(self, client: "EngineClient", service_id: str, *, tail: int, follow: bool) -> None:
        self.client = client
        self.service_id = service_id
        self.tail = tail
        self.follow = follow
        self._res = None
        self._lock = threading.Lock()
        self._closed = False

    def _open(self):
        api = self.client.api
        params = {"details": 1, "stdout": 1, "stderr": 1, "timestamps": 1, "follow": int(self.follow),
                  "tail": str(self.tail)}
        res = api._get(api._url("/services/{0}/logs", self.service_id), params=params, stream=True)
        api._raise_for_status(res)
        with self._lock:
            self._res = res
            if self._closed:
                res.close()
        return api, res

    def iterate(self, on_batch: Callable[[list[ServiceLogLine]], None]) -> None:
        """Blocking: read frames and hand them over in batches until the stream ends or is closed."""
        import struct

        api, res = self._open()
        try:
            api._disable_socket_timeout(api._get_raw_response_socket(res))
            raw = res.raw  # urllib3 undoes the chunked encoding; frames are 8-byte header + payload
            batch: list[ServiceLogLine] = []
            pending = {1: "", 2: ""}
            while True:
                header = raw.read(8)
                if len(header) < 8:
                    break
                stream, size = struct.unpack(">BxxxL", header)
                payload = raw.read(size) if size else b""
                text = pending.get(stream, "") + payload.decode("utf-8", "replace")
                lines = text.split("\n")
                pending[stream] = lines.pop()
                for line in lines:
                    batch.append(parse_service_log_line(line, "stderr" if stream == 2 else "stdout"))
                if self.follow and batch:
                    on_batch(batch)
                    batch = []
            for stream, rest in pending.items():
                if rest:
                    batch.append(parse_service_log_line(rest, "stderr" if stream == 2 else "stdout"))
            if batch:
                # Nodes answer one after another: merge their lines into one timeline.
                batch.sort(key=lambda ln: ln.timestamp)
                on_batch(batch)
        except (OSError, ValueError, AttributeError):
            if not self._closed:
                raise
        finally:
            res.close()

    def read(self) -> list[ServiceLogLine]:
        out: list[ServiceLogLine] = []
        self.iterate(out.extend)
        return out

    def close(self) -> None:
        with self._lock:
            self._closed = True
            res = self._res
        if res is not None:
            try:
                sock = res.raw._fp.fp.raw._sock  # wake a thread blocked in recv
                import socket

                sock.shutdown(socket.SHUT_RDWR)
            except Exception:  # noqa: BLE001 - already closed, or another transport
                pass
            res.close()


_TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$")


def parse_service_log_line(line: str, stream: str = "stdout") -> ServiceLogLine:
    """`<timestamp> com.docker.swarm.node.id=…,com.docker.swarm.service.id=…,com.docker.swarm.task.id=… <text>`."""
    ts = ""
    rest = line
    head, _, tail = rest.partition(" ")
    if _TS_RE.match(head):
        ts, rest = head, tail
    attrs: dict[str, str] = {}
    head, _, tail = rest.partition(" ")
    if head.startswith("com.docker.swarm.") or ",com.docker.swarm." in head:
        for kv in head.split(","):
            k, _, v = kv.partition("=")
            attrs[k] = v
        rest = tail
    return ServiceLogLine(text=rest, stream=stream, timestamp=ts, task_id=attrs.get("com.docker.swarm.task.id", ""),
                          node_id=attrs.get("com.docker.swarm.node.id", ""),
                          service_id=attrs.get("com.docker.swarm.service.id", ""))
