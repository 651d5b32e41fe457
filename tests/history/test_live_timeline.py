"""The Activity timeline's session events beside the history: the same filter finds the same
events in both (the page adds live events on top of what it read), the rows on both sides of a
moment, and the shared time cursor."""

from __future__ import annotations

import asyncio

from desktop.state.history.live_events import LiveEvents
from desktop.state.history.time_cursor import TimeCursor
from desktop.state.history.timeline import (TimelineFilter, event_key, query_around, query_events, rows_around,
                                            text_matches)


def test_session_events_filter_like_the_history(run, followed, make_container, docker_api, run_id):
    async def scenario():
        f = await followed()
        live = LiveEvents()
        f.session.sync.events.connect(live.on_event)
        a = make_container(f"pht-{run_id}-web-1", labels={"com.docker.compose.project": f"shop{run_id}"})
        b = make_container(f"pht-{run_id}-db")
        died = f.expect(lambda ev: ev.id == b and ev.action == "die")
        for cid in (a, b):
            docker_api.start(cid)
            docker_api.kill(cid)
        await asyncio.wait_for(died, 20)
        await f.settle()
        return f, live, a, b

    f, live, a, b = run(scenario())
    first = min(e.time_nano for e in live.entries)
    filters = [
        TimelineFilter(since=first),
        TimelineFilter(since=first, container=f"pht-{run_id}-db"),
        TimelineFilter(since=first, container=a[:12]),
        TimelineFilter(since=first, project=f"shop{run_id}"),
        TimelineFilter(since=first, types=("container",), actions=("die", "kill")),
        TimelineFilter(since=first, text=f"pht-{run_id}-web"),  # a prefix of the name
        TimelineFilter(since=first, text="busybox"),  # a word of the image
        TimelineFilter(since=first, text="kil"),  # a prefix of an action
        TimelineFilter(since=first, text=f"pht-{run_id}-db die"),  # every word must match
        TimelineFilter(since=first, text="nothing-like-this"),
        TimelineFilter(since=first, engine="elsewhere"),
    ]
    for flt in filters:
        stored = [event_key(e) for e in f.store.read_blocking(query_events, flt)]
        session = [event_key(e) for e in live.query(flt)]
        assert session == stored, flt
    assert live.query(filters[1]) and not live.query(filters[-2])

    # Both sides of a moment (the die of a), in the history and in the session alike.
    die_a = next(e for e in live.entries if e.actor == a and e.action == "die")
    flt = TimelineFilter(since=first, limit=3)
    stored, newest = f.store.read_blocking(query_around, flt, die_a.time_nano, 3)
    session, newest_too = rows_around(live.query, flt, die_a.time_nano, 3)
    assert [event_key(e) for e in stored] == [event_key(e) for e in session] and newest == newest_too
    times = [e.time_nano for e in stored]
    assert times == sorted(times, reverse=True) and die_a.time_nano in times


def test_text_matches_is_the_index_search():
    assert text_matches("web", ("shop-web-1",)) is False  # '-' is part of a word: a prefix, not a part
    assert text_matches("shop-web", ("shop-web-1",))
    assert text_matches("registry", ("registry.local/team/app:v1",))
    assert text_matches("team/app", ("registry.local/team/app:v1",))
    assert text_matches("WEB st", ("web", "start"))
    assert not text_matches("web stop", ("web", "start"))


def test_the_cursor_tells_every_observer():
    cursor = TimeCursor()
    seen = []
    cursor.moved.connect(seen.append)
    m = cursor.point(100.5, engine="host", container="abc123", name="web", source="graph")
    assert seen == [m] and cursor.moment is m and m.t == 100.5
    assert m.about("host", "abc123def") and not m.about("host", "fff") and not m.about("other", "abc123")
    assert cursor.point(7).about("host", "anything")  # a moment of no container is every container's


def test_the_logs_tab_line_at_a_moment():
    from desktop.engine.log_records import LogBatch
    from desktop.ui.history.logs_moment import first_line_at

    chunks = [(0, LogBatch.from_lines([b"a", b"b"], [10, 20])), (2, LogBatch.from_lines([b"c", b"d"], [30, 25]))]
    assert first_line_at(chunks, 15) == 1 and first_line_at(chunks, 21) == 2 and first_line_at(chunks, 26) == 2
    assert first_line_at(chunks, 99) == 3 and first_line_at([], 5) == -1
