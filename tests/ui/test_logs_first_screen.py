"""A merged view over big logs, against the real engine: the first lines shown are the newest of
every container, before any older line is read; the backfill then fills in behind them without
moving what the user reads; a search while older lines still load says so, and once they are in
it has found every match; the search finds what matching each line of `docker logs` finds."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from desktop.state.ansi import CSI_BYTES_RE
from desktop.state.log_search import LogSearch, SearchError
from desktop.ui.containers.detail.logs_tab import LogsTab

BULK = 300_000  # lines each before the live part: seconds of backfill for the engine, at any speed
LIVE = 40


def writer(name: str) -> str:
    """The bulk at once, then (once told to go, every container about together) a few lines
    slowly, so that the newest lines of the merge interleave all containers."""
    return (f"awk 'BEGIN{{for(i=1;i<={BULK};i++) printf \"{name} %06d\\n\", i}}'; "
            "while [ ! -f /tmp/go ]; do usleep 20000; done; "
            f"i=0; while [ $i -lt {LIVE} ]; do i=$((i+1)); echo \"{name} live $i\"; usleep 100000; done")


def open_tab(ph, qtbot, ids, names, merged=True):
    client = ph.engines.client_for(ph.all_containers.get(ids[0]))
    tab = LogsTab(client, list(zip(ids, names)), merged=merged)
    tab.resize(1000, 600)
    qtbot.addWidget(tab)
    tab.show()
    return tab


def test_first_screen_is_the_newest_lines_then_backfill_and_search_says_partial(make_container, docker_api, ph,
                                                                                 qtbot, await_, run_id):
    names = [f"c{k}" for k in range(3)]
    ids = [make_container(f"pht-{run_id}-{n}", command=("sh", "-c", writer(n)), start=True) for n in names]
    # every bulk is in the engine's log before any live line is written
    for cid, n in zip(ids, names):
        qtbot.waitUntil(lambda: docker_api.logs(cid, tail=1).strip() == f"{n} {BULK:06d}".encode(), timeout=300000)
    for cid in ids:
        docker_api.exec_start(docker_api.exec_create(cid, ["touch", "/tmp/go"]))
    for cid in ids:
        docker_api.wait(cid, timeout=300)
    qtbot.waitUntil(lambda: all(ph.all_containers.get(c) is not None and ph.all_containers.get(c).state == "exited"
                                for c in ids), timeout=20000)
    tab = open_tab(ph, qtbot, ids, names)
    deliveries: list[tuple[int, int, int]] = []  # (older added, newer added, older lines then)
    first: list[list[str]] = []

    def changed(older: int, newer: int) -> None:
        if not deliveries:
            first.append([tab.buffer.line(i)[0] for i in range(len(tab.buffer))])
        deliveries.append((older, newer, len(tab.buffer.older)))

    tab.buffer.changed.connect(changed)
    tab.start()
    qtbot.waitUntil(lambda: bool(deliveries), timeout=60000)
    # The first lines are the newest of the merge, of every container, and nothing older came first.
    older, newer, older_then = deliveries[0]
    assert older == 0 and older_then == 0 and newer >= min(200, 3 * (BULK + LIVE))
    shown_first = first[0]
    for n in names:
        assert f"{n} live {LIVE}" in shown_first and f"{n} live 1" in shown_first
    # The view paints the newest line; a search now covers only what is in, and says so.
    assert not tab.is_loaded
    qtbot.waitUntil(lambda: bool(tab.view._painted) and tab.view._painted[-1][0] == len(tab.buffer) - 1, timeout=20000)
    tab.query.setText(r"^c1 0*77\d$")
    tab.regex.setChecked(True)
    with qtbot.waitSignal(tab.search_done, timeout=30000):
        tab.run_search()
    if not tab.is_loaded:
        assert tab.search_bar.partial and "so far (older lines still loading)" in tab.count.text()
    # The user scrolls up to read: the backfill goes in above without moving those lines.
    sb = tab.view.verticalScrollBar()
    qtbot.waitUntil(lambda: sb.maximum() > 20, timeout=20000)
    sb.setValue(sb.maximum() - 20)
    assert not tab.view.following
    reading = tab.buffer.line(tab.view._anchor)[0]
    qtbot.waitUntil(lambda: tab.is_loaded, timeout=300000)
    assert len(tab.buffer) == 3 * (BULK + LIVE)
    assert tab.buffer.line(tab.view._anchor)[0] == reading and not tab.view.following
    assert any(o > 0 for o, _, _ in deliveries[1:])  # the rest came as backfill, behind the first screen
    lines = [tab.buffer.line(i) for i in range(len(tab.buffer))]
    ts = np.array([t for _, t, _ in lines])
    assert bool(np.all(ts[1:] >= ts[:-1]))  # one time order, end to end
    assert [t for t, _, _ in lines[-len(shown_first):]] == shown_first  # the first lines stay the newest
    # Once everything is in, the search has found every match and no longer says "so far".
    qtbot.waitUntil(lambda: not tab.search_bar.partial, timeout=60000)
    want = [i for i, (t, _, _) in enumerate(lines) if re.fullmatch(r"c1 0*77\d", t)]
    assert sorted(set(tab.search.matches().tolist())) == want and len(want) == 10
    assert "so far" not in tab.count.text() and "10 matches in 10 lines" in tab.count.text()
    await_(tab.aclose())


# Lines like a service's log: words, numbers, colours, stderr, a few long ones.
VARIED = ("awk 'BEGIN{srand(7); split(\"error warn info GET POST /api/items status=503 status=200 disk t= ms\", w, \" \");"
          " f=\"\"; for(k=0;k<14;k++) f=f \" span=\" k;"  # ~110 bytes of it: 10 MB in 80,000 lines (some spill)
          " for(i=1;i<=80000;i++){ s=f; n=1+int(rand()*8); for(k=0;k<n;k++) s=s w[1+int(rand()*12)] (rand()<0.3?\"\":\" \") int(rand()*1000);"
          " if(i%37==0) s=\"\\033[31m\" s \"\\033[0m\"; if(i%5000==0) for(k=0;k<200;k++) s=s \" pad\";"
          " if(i%11==0) print s > \"/dev/stderr\"; else print s}}'")
WORD = st.sampled_from(["error", "warn", "GET", "status=5", "/api/", "t=", "ms", "pad", "span=1"]).map(re.escape)
PIECES = st.one_of(WORD, st.sampled_from([r"\d", r"\d+", r"\w+", r"\s", r"[a-z]+", ".", r"\b", r"[0-9]{2}", r"\S*",
                                          "(?:error|warn)", " "]))
# Each starts with a word, so that a pattern matches a few times a line, not at every byte; the
# ones without a literal the search can use come from the last list.
TAILS = st.lists(PIECES, max_size=3).map("".join)
PATTERNS = st.one_of(st.tuples(WORD, TAILS).map("".join),
                     st.tuples(WORD, TAILS).map(lambda t: "^" + "".join(t)),
                     st.tuples(WORD, TAILS).map(lambda t: "".join(t) + "$"),
                     st.sampled_from([r"\d{3}ms$", r"[a-z]+=5\d\d", r"(?:error|warn) \d+", r"^\S+ \d\d\d\b", r"\s+$"]))


def test_search_finds_what_matching_each_line_of_docker_logs_finds(make_container, docker_api, ph, qtbot, await_):
    cid = make_container(command=("sh", "-c", VARIED))
    docker_api.start(cid)
    docker_api.wait(cid, timeout=120)
    reference = docker_api.logs(cid, stdout=True, stderr=True).split(b"\n")[:-1]
    qtbot.waitUntil(lambda: ph.all_containers.get(cid) is not None, timeout=20000)
    tab = open_tab(ph, qtbot, [cid], ["varied"], merged=False)
    tab.buffer.memory_limit = 1 << 20  # most of it on disk: the search reads it back
    tab.start()
    qtbot.waitUntil(lambda: tab.is_loaded, timeout=120000)
    assert len(tab.buffer) == len(reference) and tab.buffer.disk_bytes() > 0
    shown = [CSI_BYTES_RE.sub(b"", line) for line in reference]  # searched as displayed

    # one through the search bar (a scan in a worker, published in parts), compared whole
    tab.query.setText(r"status=5\d\d")
    tab.regex.setChecked(True)
    tab.case.setChecked(True)
    with qtbot.waitSignal(tab.search_done, timeout=60000):
        tab.run_search()
    p = re.compile(rb"status=5\d\d")
    assert tab.search.matches().tolist() == [i for i, t in enumerate(shown) for _ in p.finditer(t)]

    snap_searches = []

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(PATTERNS, st.booleans())
    def same_as_brute_force(src, case):
        try:
            s = LogSearch(src, regex=True, case_sensitive=case)
        except SearchError:
            assume(False)
        s.adopt(s.scan_snapshot(s.snapshot(tab.buffer)), tab.buffer)
        want = [i for i, t in enumerate(shown) for m in s.pattern.finditer(t) if m.end() > m.start()]
        assert s.matches().tolist() == want
        snap_searches.append(src)

    same_as_brute_force()
    assert snap_searches
    await_(tab.aclose())
