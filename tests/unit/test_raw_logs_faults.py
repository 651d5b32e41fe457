"""The raw UNIX-socket logs reader against answers no real engine gives: a head cut short, a
stream that is not HTTP, an error body, a body cut in the middle of a frame, one huge frame,
broken chunk framing, and a followed stream cut mid-frame. A fake engine on a UNIX socket
(serving canned bytes) is the only way to make these; the reader's agreement with the real
engine is in tests/engine/test_raw_logs.py."""

from __future__ import annotations

import asyncio
import os
import socket
import threading

import pytest

from desktop.engine.errors import EngineError, NotFoundError
from desktop.engine.foreground import ForegroundGate
from desktop.engine.logs import LogOptions, LogSession
from desktop.engine.log_records import STDERR
from desktop.engine.raw_logs import RawDialer

OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def frame(text: bytes, stream: int = 1, ts: str = "2026-12-01T10:00:00.000000001Z") -> bytes:
    payload = ts.encode() + b" " + text
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def chunk(data: bytes) -> bytes:
    return b"%x\r\n" % len(data) + data + b"\r\n"


class FakeEngine:
    """Answers every request on a UNIX socket with `answer(request_line)` bytes, then closes
    (or keeps the connection open while `hold` is set: a followed stream)."""

    def __init__(self, path: str, answer) -> None:
        self.path, self.answer = path, answer
        self.requests: list[str] = []
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(16)
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            req = b""
            while b"\r\n\r\n" not in req:
                data = conn.recv(65536)
                if not data:
                    return
                req += data
            line = req.split(b"\r\n", 1)[0].decode()
            self.requests.append(line)
            for piece in self.answer(line):
                try:
                    conn.sendall(piece)
                except OSError:
                    return

    def close(self) -> None:
        self._stop = True
        self.srv.close()


class StubClient:
    """What a LogSession asks of its client besides the dialer: the UI's gate and an executor
    (the inspect it sends beside the tail fails here, which only loses the progress bar's start)."""

    def __init__(self) -> None:
        self.foreground = ForegroundGate()
        self.api = None

    async def run(self, fn, *args):
        raise RuntimeError("no inspect on a fake engine")


@pytest.fixture
def fake(tmp_path):
    made = []

    def start(answer) -> RawDialer:
        eng = FakeEngine(os.path.join(str(tmp_path), f"e{len(made)}.sock"), answer)
        made.append(eng)
        return RawDialer(eng.path, "1.43")

    yield start
    for eng in made:
        eng.close()


def read_all(dialer: RawDialer, options=LogOptions(follow=False), timeout: float = 20.0):
    """(lines as (text, stderr?), what on_ended said) of one session over the fake engine."""
    async def go():
        got, ended = [], []
        done = asyncio.Event()
        s = LogSession(StubClient(), "abc123", options, api=dialer.share(),
                       on_lines=got.append, on_backfill=got.append,
                       on_progress=lambda f: f is None and done.set(),
                       on_ended=lambda r: (ended.append(r), done.set()))
        try:
            await s.start()
            await asyncio.wait_for(done.wait(), timeout)
            if options.follow:
                while not ended:
                    await asyncio.wait_for(done.wait(), timeout)
                    done.clear()
        finally:
            await s.aclose()
        lines = [(b.line(i), bool(int(b.tags[i]) & STDERR)) for b in got for i in range(len(b))]
        return lines, ended
    return asyncio.run(go())


def test_complete_lines_before_a_cut_in_the_middle_of_a_frame_are_kept(fake):
    body = chunk(frame(b"one\n")) + chunk(frame(b"two\n", stream=2)) + chunk(frame(b"three\n"))[:-9]
    d = fake(lambda req: [OK_HEAD, body])
    lines, _ = read_all(d)
    assert lines == [(b"one", False), (b"two", True)]


def test_one_huge_frame_is_one_line(fake):
    big = b"x" * (4 << 20) + b"\n"
    d = fake(lambda req: [OK_HEAD, chunk(frame(big)), chunk(frame(b"after\n")), b"0\r\n\r\n"])
    lines, _ = read_all(d)
    assert [len(t) for t, _ in lines] == [4 << 20, 5] and lines[1] == (b"after", False)


def test_a_head_cut_short_is_a_sentence(fake):
    d = fake(lambda req: [b"HTTP/1.1 200 OK\r\nTransfer-Enc"])
    with pytest.raises(EngineError) as err:
        read_all(d)
    assert "engine" in str(err.value).lower()


def test_an_answer_that_is_not_http_is_a_sentence(fake):
    d = fake(lambda req: [b"SSH-2.0-OpenSSH_9.2\r\n\r\n"])
    with pytest.raises(EngineError):
        read_all(d)


def test_the_engines_error_message_reaches_the_user(fake):
    body = b'{"message":"No such container: abc123"}\n'
    d = fake(lambda req: [b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                          % len(body) + body])
    with pytest.raises(NotFoundError) as err:
        read_all(d)
    assert "no longer exists" in str(err.value)
    body = b'{"message":"configured logging driver does not support reading"}\n'
    d = fake(lambda req: [b"HTTP/1.1 501 Not Implemented\r\nContent-Length: %d\r\n\r\n" % len(body) + body])
    with pytest.raises(EngineError) as err:
        read_all(d)
    assert "does not support reading" in str(err.value)


def test_broken_chunk_framing_is_an_error_not_a_hang(fake):
    d = fake(lambda req: [OK_HEAD, b"zz\r\n" + frame(b"one\n") + b"\r\n"])
    with pytest.raises(EngineError):
        read_all(d)


def test_a_followed_stream_cut_mid_frame_ends_the_follow_with_the_lines_it_brought(fake):
    def answer(req):
        if "follow=1" not in req:  # the tail, and the gap read after subscribing: nothing yet
            return [OK_HEAD, b"0\r\n\r\n"]
        return [OK_HEAD, chunk(frame(b"live 1\n", ts="2026-12-01T10:00:01.000000000Z")),
                chunk(frame(b"live 2\n", ts="2026-12-01T10:00:02.000000000Z")), chunk(frame(b"live 3\n"))[:12]]
    d = fake(answer)
    lines, ended = read_all(d, LogOptions(follow=True))
    assert lines == [(b"live 1", False), (b"live 2", False)]
    assert len(ended) == 1
