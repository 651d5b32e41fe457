"""The prefetch's one-shot GET (desktop/engine/raw_http.get) against replies made byte by byte:
any body, sent whole or in any chunking and cut into any recv sizes, comes back as it was; a
reply cut short or not HTTP at all raises instead of giving a partial body. A fake engine is the
only way to cut a reply where we choose; the prefetch's agreement with the real engine's list
is tests/engine/test_prefetch.py."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.engine import raw_http
from tests.unit.test_raw_logs_faults import FakeEngine, chunk


@pytest.fixture
def serve(tmp_path):
    made = []

    def start(pieces_for):
        path = os.path.join(str(tmp_path), f"e{len(made)}.sock")
        made.append(FakeEngine(path, lambda line: pieces_for(line)))
        return path

    yield start
    for e in made:
        e.close()


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:]) if b > a]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=5000), chunked=st.booleans(), sizes=st.lists(st.integers(1, 700), max_size=8),
       cuts=st.lists(st.integers(0, 10_000), max_size=6))
def test_any_body_in_any_framing_comes_back_whole(serve, body, chunked, sizes, cuts):
    if chunked:
        framed, pos = b"", 0
        for n in sizes + [len(body)]:
            piece = body[pos:pos + n]
            if piece:
                framed += chunk(piece)
            pos += len(piece)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        reply = head + framed + b"0\r\n\r\n"
    else:
        reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    path = serve(lambda line: split(reply, cuts))
    assert raw_http.get(path, "/v1.41/containers/json?all=1", 5) == (200, body)


def test_the_request_is_the_one_asked_for(serve, tmp_path):
    seen = []

    def answer(line):
        seen.append(line)
        return [b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}"]

    assert raw_http.get(serve(answer), "/v1.41/info", 5) == (404, b"{}")
    assert seen == ["GET /v1.41/info HTTP/1.1"]


@pytest.mark.parametrize("reply, error", [
    (b"", OSError),  # closed before any header
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10", OSError),  # headers never end
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345", OSError),  # body short of its length
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc", OSError),  # inside a chunk
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", OSError),  # no last chunk
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", ValueError),
    (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", ValueError),  # not HTTP
])
def test_a_reply_cut_short_or_not_http_raises(serve, reply, error):
    with pytest.raises(error):
        raw_http.get(serve(lambda line: [reply]), "/version", 5)
