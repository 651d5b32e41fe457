"""A container's logs request read straight from a UNIX socket (a local engine or an SSH engine's
forward), without the SDK.

Opening a merged view of fifty containers sends a hundred and fifty logs requests (each one's
tail, its follow stream and what was written in between); through the SDK every one of them
goes through requests, urllib3 and http.client, ~2 ms of Python each while the GIL is shared
with every other reader, and reading a stream is two buffered reads per chunk. Here a request is
one `sendall` and the response one `recv` per burst; the body (HTTP chunks around the engine's
frames) goes to LogDemuxer exactly as the SDK path's does. TLS and tcp engines keep the SDK.
"""

from __future__ import annotations

import json
import socket
import threading
from urllib.parse import quote, urlencode

from desktop.engine.raw_http import open_stream

MAX_HEAD = 64 << 10  # a status line and headers longer than this are not an engine's
MAX_ERROR_BODY = 1 << 20  # what is read of an error response's body


class RawDialer:
    """Where raw requests go: an engine's UNIX socket and the API version the client agreed on.

    Stands where a LogSession would otherwise hold an SDK client: each session that uses it
    takes a share (`share()`) and gives it back with `close()`; the sessions of one merged view
    share one, and with it one thread that reads all their followed streams (`follow_mux`)."""

    def __init__(self, socket_path: str, api_version: str) -> None:
        self.socket_path = socket_path
        self.api_version = api_version
        self._users = 0
        self._mux = None
        self._lock = threading.Lock()

    def share(self) -> "RawDialer":
        with self._lock:
            self._users += 1
        return self

    def open_logs(self, cid: str, params: dict) -> "RawLogResponse":
        """Send the logs request and read the response's head (blocking: call it in a worker)."""
        return RawLogResponse(self, cid, params)

    def follow_mux(self, gate):
        """The thread that reads this dialer's followed streams (made on first use)."""
        from desktop.engine.log_follow_mux import FollowMux

        with self._lock:
            if self._mux is None:
                self._mux = FollowMux(gate)
            return self._mux

    def close(self) -> None:
        """Give a share back; the last one stops the follow thread (every response has its own
        socket, closed by its stream)."""
        with self._lock:
            self._users -= 1
            mux, last = self._mux, self._users <= 0
            if last:
                self._mux = None
        if last and mux is not None:
            mux.stop()


def _api_error(status: int, body: bytes) -> Exception:
    """The engine's error answer as the SDK would raise it, so `translate` says the same sentence."""
    import docker.errors
    import requests

    message = ""
    start, end = body.find(b"{"), body.rfind(b"}")
    if start >= 0 and end > start:
        try:
            message = str(json.loads(body[start:end + 1]).get("message", ""))
        except (ValueError, AttributeError):
            message = ""
    if not message:
        message = body.decode("utf-8", "replace").strip()[:200]
    resp = requests.models.Response()
    resp.status_code = status
    resp._content = body  # noqa: SLF001 - an SDK error needs a response to tell its status
    cls = docker.errors.NotFound if status == 404 else docker.errors.APIError
    return cls(f"{status} Server Error: {message}", response=resp, explanation=message)


def http_date_ns(text: str) -> int:
    """An HTTP Date header as ns since the epoch (0: none or unreadable). The engine writes it
    when it answers, from the clock its log lines are stamped with, cut to the second."""
    from email.utils import parsedate_to_datetime

    try:
        return int(parsedate_to_datetime(text).timestamp()) * 1_000_000_000 if text else 0
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0


class RawLogResponse:
    """One logs response: the head is read when it is made (raising the engine's error for any
    status but 200, or ConnectionError when the stream is not HTTP); `read1(n)` then returns the
    body's bytes as they come (b"" at its end), as the SDK path's `fp.read1` does."""

    def __init__(self, dialer: RawDialer, cid: str, params: dict, timeout: float = 30.0) -> None:
        query = urlencode({k: v for k, v in params.items()})
        self.sock = open_stream(dialer.socket_path, dialer.api_version, f"/containers/{quote(cid, safe='')}/logs?{query}",
                                timeout=timeout)
        self.closed = False
        self._buf: bytearray | None = None
        try:
            self._read_head()
        except BaseException:
            self.close()
            raise
        self.sock.settimeout(None)  # a followed log may be quiet for hours

    def _read_head(self) -> None:
        buf = b""
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(buf) > MAX_HEAD:
                raise ConnectionError("The engine's answer to a logs request has no end of headers.")
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("The engine closed the connection before answering the logs request.")
            buf += data
        lines = buf[:end].decode("latin-1").split("\r\n")
        parts = lines[0].split(None, 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ConnectionError(f"The engine's answer to a logs request is not HTTP: {lines[0][:80]!r}.")
        self.status = int(parts[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        self.chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        self.date_ns = http_date_ns(headers.get("date", ""))
        self._first = buf[end + 4:]
        if self.status != 200:
            body = self._first
            want = int(headers["content-length"]) if headers.get("content-length", "").isdigit() else MAX_ERROR_BODY
            while len(body) < min(want, MAX_ERROR_BODY):
                data = self.sock.recv(65536)
                if not data:
                    break
                body += data
            raise _api_error(self.status, body[:MAX_ERROR_BODY])

    def take_buffered(self) -> bytes:
        """The body bytes that came with the head (before the socket is read elsewhere)."""
        data, self._first = self._first, b""
        return data

    def read1(self, n: int) -> bytes:
        if self._first:
            data, self._first = self._first, b""
            return data
        # Into one buffer kept for the stream, then copied at its size: a fresh 1 MiB buffer per
        # recv is an mmap (tune_allocator) whose pages fault in at every read.
        if self._buf is None or len(self._buf) < n:
            self._buf = bytearray(n)
            self._view = memoryview(self._buf)
        k = self.sock.recv_into(self._view[:n])
        return bytes(self._view[:k])

    def shutdown(self) -> None:
        """Stop reading, from any thread: a recv blocked in the reader returns b"" (the socket
        itself is closed by the reader, so its descriptor is never reused under a recv)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        """Release the socket (the reading thread, when it is done)."""
        if not self.closed:
            self.closed = True
            self.shutdown()
            self.sock.close()
