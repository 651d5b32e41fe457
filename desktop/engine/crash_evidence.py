"""Evidence a crashed container leaves: its inspect document, its last log lines, and, for a
container the engine removes when it exits (`--rm`), its output kept from the start, since the
engine deletes the logs with the container the moment it dies."""

from __future__ import annotations

import collections
import logging
import socket
import struct
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from desktop.engine.errors import translate

log = logging.getLogger(__name__)

TAIL_LINES = 200


@dataclass(frozen=True)
class ContainerProfile:
    """What is known of a container before it dies (its inspect may be gone after)."""

    id: str
    name: str
    image: str
    memory_limit: int  # bytes; 0 = none
    auto_remove: bool
    tty: bool
    restart_policy: str
    restart_count: int
    healthcheck: Mapping[str, Any] | None
    started_at: str

    @classmethod
    def from_inspect(cls, raw: Mapping[str, Any]) -> "ContainerProfile":
        host = raw.get("HostConfig") or {}
        cfg = raw.get("Config") or {}
        policy = host.get("RestartPolicy") or {}
        return cls(
            id=raw.get("Id", ""), name=(raw.get("Name") or "").lstrip("/"), image=cfg.get("Image", ""),
            memory_limit=int(host.get("Memory") or 0), auto_remove=bool(host.get("AutoRemove")),
            tty=bool(cfg.get("Tty")), restart_policy=policy.get("Name") or "no",
            restart_count=int(raw.get("RestartCount") or 0), healthcheck=cfg.get("Healthcheck"),
            started_at=(raw.get("State") or {}).get("StartedAt", ""))


async def inspect_raw(client, cid: str) -> dict:
    api = client.api
    try:
        return await client.run(api.inspect_container, cid)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence
        raise translate(exc, "inspect", f"container {cid[:12]}") from exc


def split_lines(data: bytes) -> list[str]:
    return data.decode("utf-8", "replace").splitlines()


async def logs_tail(client, cid: str, n: int = TAIL_LINES) -> list[str]:
    """The container's last n log lines (stdout and stderr, in order)."""
    api = client.api
    try:
        data = await client.run(api.logs, cid, stdout=True, stderr=True, tail=n)
    except Exception as exc:  # noqa: BLE001
        raise translate(exc, "read the logs of", f"container {cid[:12]}") from exc
    return split_lines(data)[-n:]


class OutputTail:
    """Attached to a container from before its start (or now, with its output so far replayed):
    keeps its last n lines in memory. `ended` is set when the container's output has ended."""

    def __init__(self, client, cid: str, tty: bool, n: int = TAIL_LINES) -> None:
        self._client = client
        self.cid = cid
        self._tty = tty
        self._lines: collections.deque[str] = collections.deque(maxlen=n)
        self._partial = b""
        self._sock = None
        self._lock = threading.Lock()
        self.ended = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="output-tail", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def lines(self) -> list[str]:
        with self._lock:
            out = list(self._lines)
            if self._partial:
                out.append(self._partial.decode("utf-8", "replace"))
        return out[-self._lines.maxlen:]

    def _add(self, data: bytes) -> None:
        with self._lock:
            data = self._partial + data
            *done, self._partial = data.split(b"\n")
            for line in done:
                self._lines.append(line.rstrip(b"\r").decode("utf-8", "replace"))

    def _open(self) -> tuple[socket.socket, bytes]:
        """The attached socket and the stream bytes that came with the engine's answer."""
        endpoint = self._client.api_endpoint
        api = self._client.api
        if endpoint is not None and endpoint.host.startswith("unix://"):
            # Straight from the socket: the SDK's HTTP reader may buffer the first frames (the
            # output replayed so far) past the headers, where nobody reads them.
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(10)
                sock.connect(endpoint.host[len("unix://"):])
                sock.sendall((f"POST /v{api.api_version}/containers/{self.cid}/attach?logs=1&stream=1&stdout=1"
                              "&stderr=1 HTTP/1.1\r\nHost: docker\r\nUser-Agent: pilothouse\r\n"
                              "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n").encode())
                head = b""
                while b"\r\n\r\n" not in head:
                    data = sock.recv(65536)
                    if not data:
                        raise ConnectionError("the engine closed the attach request")
                    head += data
                head, _, rest = head.partition(b"\r\n\r\n")
                status = head.split(b" ", 2)[1] if b" " in head else b""
                if status not in (b"101", b"200"):
                    raise ConnectionError(f"the engine answered {status.decode(errors='replace')} to attach")
            except BaseException:
                sock.close()
                raise
            return sock, rest
        raw = api.attach_socket(self.cid, params={"stdout": 1, "stderr": 1, "stream": 1, "logs": 1})
        return getattr(raw, "_sock", raw), b""

    def _run(self) -> None:
        try:
            raw, buf = self._open()
            self._sock = raw
            if self._closed:
                return
            raw.settimeout(None)
            if self._tty and buf:
                self._add(buf)
                buf = b""
            while True:
                data = raw.recv(65536)
                if not data:
                    break
                if self._tty:
                    self._add(data)
                    continue
                buf += data
                while len(buf) >= 8:  # the engine's 8-byte frame headers: stream, size
                    size = struct.unpack(">I", buf[4:8])[0]
                    if len(buf) < 8 + size:
                        break
                    self._add(buf[8:8 + size])
                    buf = buf[8 + size:]
        except Exception as exc:  # noqa: BLE001 - no output kept: the report says what it has
            if not self._closed:
                log.info("output of %s not followed: %s", self.cid[:12], exc)
        finally:
            self.ended.set()
            self.close()

    def close(self) -> None:
        self._closed = True
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass
