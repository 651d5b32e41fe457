"""The Logs tab against a real engine: whole log held, search, filter, save, follow, restart, merge."""

from __future__ import annotations

import re

from desktop.engine.log_records import STDERR

N = 1_000_000
# Every 10th line goes to stderr in red; the others to stdout with a green word.
AWK = ("awk 'BEGIN{for(i=1;i<=%d;i++){ if(i%%10==0) printf \"\\033[31merr %%d\\033[0m\\n\", i > \"/dev/stderr\";"
       " else printf \"\\033[32mline\\033[0m %%d\\n\", i}}'" % N)


def open_detail(ph, qtbot, cid):
    qtbot.waitUntil(lambda: ph.primary.containers.get(cid) is not None, timeout=20000)
    page = ph.details.open_container(ph.primary.containers.get(cid))
    assert ph.window.pages.currentWidget() is page
    return page


def test_million_lines_held_searched_filtered_saved(make_container, docker_api, tmp_path, ph, qtbot, await_):
    cid = make_container(command=("sh", "-c", AWK))
    docker_api.start(cid)
    docker_api.wait(cid, timeout=120)
    reference = docker_api.logs(cid, stdout=True, stderr=True)
    page = open_detail(ph, qtbot, cid)
    tab = page.logs
    # The tail arrives first, the rest while the view is usable.
    qtbot.waitUntil(lambda: len(tab.buffer) >= 1000, timeout=10000)
    qtbot.waitUntil(lambda: tab.is_loaded, timeout=180000)
    assert len(tab.buffer) == N
    assert tab.buffer.nbytes() < len(reference) * 1.8  # ~20-byte lines: overhead is per line
    # The newest line is on screen, colours rendered (no escape codes shown).
    qtbot.waitUntil(lambda: bool(tab.view._painted) and tab.view._painted[-1][0] == N - 1, timeout=20000)
    text = tab.view.display_text(N - 1)[0]
    assert "\x1b" not in text and re.fullmatch(r"(line|err) \d+", text)
    qtbot.waitUntil(lambda: "not running" in tab.status.text(), timeout=20000)
    assert tab.view.following
    # stderr lines are marked
    sample = [tab.buffer.line(i) for i in list(range(2000)) + list(range(N - 2000, N))]
    # Exactly the engine's stderr lines are marked (where they fall in the log depends on how awk's
    # buffered stdout interleaved with its unbuffered stderr, so count them all).
    assert sum(int(((b.tags & STDERR) != 0).sum()) for _, b in tab.buffer.chunks()) == N // 10
    assert all(bool(tag & STDERR) == t.startswith("\x1b[31merr") for t, _, tag in sample)

    # Plain search: every 10th line.
    with qtbot.waitSignal(tab.search_done, timeout=30000):
        tab.query.setText("err")
        tab.run_search()
    assert tab.search.match_count() == N // 10
    assert "100,000 matches in 100,000 lines" in tab.count.text()
    # Regex: i % 100 == 77 (never a stderr line).
    tab.regex.setChecked(True)
    with qtbot.waitSignal(tab.search_done, timeout=30000):
        tab.query.setText(r"^line \d*77$")
        tab.run_search()
    assert len(tab.search.lines()) == N // 100
    tab.next_match()
    assert tab.view.current_match == tab.search.first_match_from(tab.view._anchor) or tab.view.current_match >= 0
    assert not tab.view.following and tab.jump.isVisibleTo(tab)
    # Filter shows exactly the matching lines.
    tab.filter.setChecked(True)
    rows = tab.view.filter_rows
    assert len(rows) == N // 100 and tab.view.row_count() == N // 100
    assert all(re.fullmatch(r"line \d*77", tab.view.display_text(int(i))[0]) for i in rows[:200])
    # Save: the filtered lines, then the whole log, byte for byte.
    filtered_path, whole_path = tmp_path / "filtered.log", tmp_path / "whole.log"
    assert await_(tab.save_to(str(filtered_path)), timeout=60) == N // 100
    expected = b"".join(l + b"\n" for l in reference.split(b"\n") if re.fullmatch(rb"\x1b\[32mline\x1b\[0m \d*77", l))
    assert filtered_path.read_bytes() == expected
    assert await_(tab.save_to(str(whole_path), filtered=False), timeout=60) == N
    assert whole_path.read_bytes() == reference
    # A bad regex is a sentence next to the box, and nothing breaks.
    tab.query.setText("(unclosed")
    tab.run_search()
    assert tab.search_error.isVisibleTo(tab) and "Not a valid regular expression" in tab.search_error.text()
    assert tab.search is None and tab.view.filter_rows is None
    # Raw shows the escapes instead of colours; wrap lays long lines out on several rows.
    tab.raw.setChecked(True)
    assert tab.view.display_text(N - 1)[0].startswith("␛[3")
    tab.raw.setChecked(False)
    tab.wrap.setChecked(True)
    tab.view.jump_to_end()
    qtbot.waitUntil(lambda: bool(tab.view._painted) and tab.view._painted[-1][0] == N - 1, timeout=20000)
    assert tab.view.horizontalScrollBar().maximum() == 0
    tab.wrap.setChecked(False)
    # Jump to end resumes following; clear empties the view.
    tab.jump.click()
    assert tab.view.following and not tab.jump.isVisibleTo(tab)
    tab.clear_view()
    assert len(tab.buffer) == 0
    page.grab().save(str(tmp_path / "logs.png"))


def test_follow_pause_resume_and_restart(make_container, docker_api, ph, qtbot, await_):
    # Half the ticks, then a wait for /tmp/go: lines arrive after the scroll-up below however slow
    # this machine is (a second run finds /tmp/go and goes straight through).
    cid = make_container(command=("sh", "-c", "for i in $(seq 1 400); do echo tick $i; [ $i = 200 ] && "
                                  "while [ ! -f /tmp/go ]; do sleep 0.05; done; sleep 0.005; done"), start=True)
    page = open_detail(ph, qtbot, cid)
    tab = page.logs
    qtbot.waitUntil(lambda: len(tab.buffer) >= 50, timeout=20000)
    assert tab.view.following
    # The scroll range follows the buffer on the view's next refresh; until it exceeds one
    # screen there is nothing to scroll up to.
    qtbot.waitUntil(lambda: tab.view.verticalScrollBar().maximum() > 0, timeout=20000)
    # Scrolling up pauses auto-scroll; new lines still arrive.
    tab.view.verticalScrollBar().setValue(0)
    assert not tab.view.following and tab.jump.isVisibleTo(tab)
    qtbot.waitUntil(lambda: len(tab.buffer) == 200, timeout=20000)
    docker_api.exec_start(docker_api.exec_create(cid, ["touch", "/tmp/go"]))
    qtbot.waitUntil(lambda: len(tab.buffer) > 200, timeout=10000)
    assert tab.view.verticalScrollBar().value() == 0
    # Scrolling back to the bottom resumes.
    sb = tab.view.verticalScrollBar()
    sb.setValue(sb.maximum())
    assert tab.view.following
    docker_api.wait(cid, timeout=60)
    qtbot.waitUntil(lambda: len(tab.buffer) == 400 and tab.ended_reason == "", timeout=20000)
    # A restart continues the same stream: the second run's lines follow the first's.
    docker_api.start(cid)
    qtbot.waitUntil(lambda: len(tab.buffer) == 800, timeout=30000)
    texts = [tab.buffer.line(i)[0] for i in (0, 399, 400, 799)]
    assert texts == ["tick 1", "tick 400", "tick 1", "tick 400"]


def test_compose_project_logs_merged_by_time(make_container, docker_api, run_id, ph, qtbot):
    proj = f"proj{run_id}"
    ids = []
    for svc in ("web", "db"):
        ids.append(make_container(
            command=("sh", "-c", f"for i in 1 2 3; do echo {svc} $i; sleep 0.2; done"),
            labels={"com.docker.compose.project": proj, "com.docker.compose.service": svc}))
    for cid in ids:
        docker_api.start(cid)
    for cid in ids:
        docker_api.wait(cid, timeout=30)
    qtbot.waitUntil(lambda: all(ph.primary.containers.get(c) is not None for c in ids), timeout=20000)
    members = [ph.primary.containers.get(c) for c in ids]
    page = ph.details.open_project(proj, members)
    tab = page.logs
    qtbot.waitUntil(lambda: len(tab.buffer) == 6 and tab.is_loaded, timeout=20000)
    ts = [tab.buffer.line(i)[1] for i in range(6)]
    assert ts == sorted(ts)
    shown = [tab.view.display_text(i)[0] for i in range(6)]
    assert sorted(shown) == sorted(f"{s.ljust(3)} | {s} {i}" for s in ("web", "db") for i in (1, 2, 3))
    # each service keeps its own stable colour
    from desktop.ui.containers.detail.log_view import service_color
    assert service_color("web") == service_color("web") and service_color("web") != service_color("db")
    page.back_requested.emit()
    assert ph.window.pages.currentWidget() is ph.containers.page


def test_streams_stop_when_the_page_closes_and_typed_tail(make_container, docker_api, ph, qtbot):
    import threading

    cid = make_container(command=("sh", "-c", "i=0; while true; do i=$((i+1)); echo beat $i; sleep 0.05; done"), start=True)
    page = open_detail(ph, qtbot, cid)
    tab = page.logs
    qtbot.waitUntil(lambda: len(tab.buffer) >= 20, timeout=20000)
    # a typed tail: only the last 5 lines, then following goes on
    tab.tail.setEditText("5")
    tab.tail.lineEdit().returnPressed.emit()
    qtbot.waitUntil(lambda: tab.session is not None and tab.session.following and 5 <= len(tab.buffer) < 15, timeout=20000)
    tab.since.setEditText("soon")
    tab.since.lineEdit().returnPressed.emit()
    assert tab.range_error.isVisibleTo(tab) and "15m" in tab.range_error.text()

    def log_threads():  # its readers: a thread per request, and the one that reads followed streams
        return [t for t in threading.enumerate() if t.name in (f"logs-{cid[:12]}", "log-follow")]

    assert log_threads()
    page.back_requested.emit()
    qtbot.waitUntil(lambda: not log_threads(), timeout=10000)
    assert docker_api.inspect_container(cid)["State"]["Running"]
