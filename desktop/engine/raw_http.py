"""Streaming Engine API responses read straight from a UNIX socket, without the SDK.

The docker SDK reads a stream through requests, urllib3 and http.client, two reads per chunk,
each giving the GIL back and taking it again. A burst of engine events (200 state changes)
then reached the app 120 ms late at p95 while a busy UI thread held the GIL. Here one recv
takes whatever has arrived and the C JSON decoder turns it into documents: one GIL hold for
a whole burst. Used for local engines' events and stats (desktop/engine/events.py,
desktop/engine/stats_mux.py); remote engines keep the SDK.
"""

from __future__ import annotations

import json
import socket


def open_stream(socket_path: str, api_version: str, path: str, timeout: float | None = 10.0) -> socket.socket:
    """Connect and send `GET /v{api_version}{path}`; the response is read by the caller."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(socket_path)
        sock.sendall((f"GET /v{api_version}{path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: pilothouse\r\n"
                      "Connection: close\r\n\r\n").encode())
    except OSError:
        sock.close()
        raise
    return sock


def get(socket_path: str, path: str, timeout: float) -> tuple[int, bytes]:
    """One `GET path` on its own connection, read to the end: (status, body).

    For the start-up prefetch, which must not wait for http.client (it pulls in email and ssl,
    ~12 ms of imports before the first paint). Raises OSError when the reply is cut short and
    ValueError when it is not HTTP.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(socket_path)
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: pilothouse\r\n"
                      "Connection: close\r\n\r\n").encode())
        parts = []
        while data := sock.recv(1 << 20):
            parts.append(data)
    finally:
        sock.close()
    head, sep, body = b"".join(parts).partition(b"\r\n\r\n")
    if not sep:
        raise OSError(f"{path}: the engine closed the connection before the reply's headers")
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0].split()
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/") or not status_line[1].isdigit():
        raise ValueError(f"{path}: not an HTTP reply: {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body, path)
    elif "content-length" in headers:
        n = int(headers["content-length"])
        if len(body) < n:
            raise OSError(f"{path}: the reply was cut short ({len(body)} of {n} bytes)")
        body = body[:n]
    return int(status_line[1]), body


def _dechunk(data: bytes, path: str) -> bytes:
    out = []
    pos = 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            raise OSError(f"{path}: the reply was cut short inside its chunks")
        size = int(data[pos:eol].split(b";")[0], 16)  # ValueError when it is not a chunk size
        if size == 0:
            return b"".join(out)
        start = eol + 2
        if len(data) < start + size + 2:
            raise OSError(f"{path}: the reply was cut short inside a chunk")
        out.append(data[start:start + size])
        pos = start + size + 2


class ChunkedLines:
    """HTTP/1.1 response bytes in → JSON document lines out (status line, headers, chunked body).

    Lines are returned undecoded: decoding is most of a sample's cost, and a stream may want
    only every n-th one.
    """

    def __init__(self) -> None:
        self.buf = bytearray()
        self.status = 0
        self.headers_done = False
        self.chunked = False
        self.need: int | None = None  # bytes of the current chunk still expected
        self.payload = bytearray()
        self.finished = False

    def feed(self, data: bytes) -> list[bytes]:
        if self.headers_done and self.chunked and self.status == 200 and not self.buf and not self.payload \
                and self.need is None:
            # The usual case: one recv holds exactly one chunk with one JSON line. No copies.
            i = data.find(b"\r\n")
            if i > 0:
                size = int(data[:i], 16) if data[:i].isalnum() else -1
                end = i + 2 + size
                if size > 0 and len(data) == end + 2 and data[end - 1:end] == b"\n" \
                        and data.count(b"\n", i + 2, end - 1) == 0:
                    return [data[i + 2:end]]
        self.buf += data
        if not self.headers_done:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return []
            head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
            del self.buf[:end + 4]
            self.status = int(head[0].split()[1])
            for line in head[1:]:
                k, _, v = line.partition(":")
                if k.strip().lower() == "transfer-encoding" and "chunked" in v.lower():
                    self.chunked = True
            self.headers_done = True
        if self.status != 200:
            return []  # the error body is read whole at the end
        if not self.chunked:
            self.payload += self.buf
            self.buf.clear()
            return self._lines()
        while True:
            if self.need is None:
                i = self.buf.find(b"\r\n")
                if i < 0:
                    break
                size = int(bytes(self.buf[:i]).split(b";")[0], 16)
                del self.buf[:i + 2]
                if size == 0:
                    self.finished = True
                    break
                self.need = size
            if len(self.buf) < self.need + 2:
                break
            self.payload += self.buf[:self.need]
            del self.buf[:self.need + 2]
            self.need = None
        return self._lines()

    def _lines(self) -> list[bytes]:
        out = []
        while True:
            j = self.payload.find(b"\n")
            if j < 0:
                return out
            line = bytes(self.payload[:j])
            del self.payload[:j + 1]
            if line.strip():
                out.append(line)

    def error_text(self) -> str:
        body = bytes(self.buf).strip()
        start = body.find(b"{")
        try:
            return json.loads(body[start:body.rfind(b"}") + 1]).get("message", "") if start >= 0 else ""
        except ValueError:
            return body.decode("utf-8", "replace")[:200]
