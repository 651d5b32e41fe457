"""Log lines around a moment, read from the real engine with `--since`/`--until`."""

from __future__ import annotations

from desktop.engine.logs_window import logs_around, parse_timestamp

# 60 lines a tenth of a second apart.
TICKING = "i=0; while [ $i -lt 60 ]; do echo line $i; i=$((i+1)); sleep 0.1; done"


def test_parse_timestamp():
    assert parse_timestamp(b"1970-01-01T00:00:01.5Z") == 1_500_000_000
    assert parse_timestamp(b"2026-12-01T11:35:09.123456789Z") % 1_000_000_000 == 123456789
    assert parse_timestamp(b"nonsense") == 0


def test_the_lines_around_a_moment_and_the_one_at_it(client, run, make_container, docker_api):
    cid = make_container(command=("sh", "-c", TICKING), start=True)
    docker_api.wait(cid, timeout=60)
    raw = docker_api.logs(cid, timestamps=True).splitlines()
    stamps = {line.split(b" ", 1)[1].decode(): parse_timestamp(line.split(b" ", 1)[0]) for line in raw}
    run(client.connect())
    # Between line 29 and line 30: line 30 is the first at or after the moment.
    at = (stamps["line 29"] + stamps["line 30"]) / 2e9
    got = run(logs_around(client, cid, at, before=1.0, after=1.0))
    texts = [t for _, t in got.lines]
    assert texts[got.at] == "line 30"
    assert "line 25" in texts and "line 35" in texts  # a second either side: about ten lines each
    assert "line 0" not in texts and "line 59" not in texts
    assert all(at - 1.001 <= ts / 1e9 <= at + 1.001 for ts, _ in got.lines)
    assert texts == sorted(texts, key=lambda s: int(s.split()[1]))
    assert len(texts) == len(set(texts))  # the line at the moment, once

    # At most max_lines each side, the nearest ones kept; the cut is said.
    few = run(logs_around(client, cid, at, before=5.0, after=5.0, max_lines=3))
    assert [t for _, t in few.lines] == ["line 27", "line 28", "line 29", "line 30", "line 31", "line 32"]
    assert few.at == 3 and few.more_before and few.more_after
