"""The Logs page against real engines: the merged, time-ordered logs of a chosen set of
containers, tagged with container and stream, followed live; search, only-matching, levels,
time range and save; one Compose project; containers of two engines in one view."""

from __future__ import annotations


LOGGER = ("i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo \"INFO {n} ok $i\"; echo \"ERROR {n} bad $i\" >&2; "
          "echo \"WARN {n} slow $i\"; echo \"{n} plain $i\"; sleep 0.1; done; "
          "while true; do echo \"INFO {n} live\"; sleep 0.2; done")


def open_logs(ph, qtbot):
    page = ph.inside.logs_page
    ph.window.show_page("logs")
    assert ph.window.pages.currentWidget() is page
    return page


def wait_listed(ph, qtbot, ids):
    page = ph.inside.logs_page
    qtbot.waitUntil(lambda: all(ph.all_containers.get(c) is not None for c in ids), timeout=20000)
    page.refresh_list()


def test_merged_logs_of_chosen_containers(make_container, docker_api, ph, qtbot, await_, tmp_path, run_id):
    ids = [make_container(f"pht-{run_id}-{n}", command=("sh", "-c", LOGGER.format(n=n)), start=True)
           for n in ("alpha", "beta")]
    other = make_container(f"pht-{run_id}-other", command=("sh", "-c", "echo never shown; sleep 3600"), start=True)
    page = open_logs(ph, qtbot)
    wait_listed(ph, qtbot, ids + [other])
    page.set_checked(ids)
    assert page.scope.currentData() != "chosen" and sorted(page.checked_ids()) == sorted(ids)
    with qtbot.waitSignal(page.shown, timeout=10000) as sig:
        page.show_checked()
    assert sig.args == [2]
    tab = page.tab
    # 12 lines each, then live ones
    qtbot.waitUntil(lambda: len(tab.buffer) >= 26 and tab.is_loaded, timeout=20000)
    # One time-ordered view of what was written before it opened; lines followed live come in the
    # order they arrive (each container's in its own order; across two streams the engine's
    # delivery may differ by a few ms on a saturated machine).
    ts = [tab.buffer.line(i)[1] for i in range(24)]
    assert ts == sorted(ts)
    for src in (1, 2):
        mine = [tab.buffer.line(i)[1] for i in range(len(tab.buffer)) if tab.buffer.line(i)[2] >> 1 == src]
        assert mine == sorted(mine)
    lines = page.shown_lines()
    name = f"pht-{run_id}-alpha"
    width = len(f"pht-{run_id}-alpha")
    assert f"{name.ljust(width)} | INFO alpha ok 1" in lines
    assert f"{name.ljust(width)} ! ERROR alpha bad 1" in lines  # stderr is marked
    assert not any("never shown" in line for line in lines)
    # followed live
    n = len(tab.buffer)
    qtbot.waitUntil(lambda: len(tab.buffer) > n + 2, timeout=10000)

    # levels: errors only, then errors and warnings, then lines without a level
    for lv in ("warn", "info", "other"):
        page.level_boxes[lv].setChecked(False)
    qtbot.waitUntil(lambda: page.shown_lines() and all("ERROR" in line for line in page.shown_lines()), timeout=20000)
    assert len(page.shown_lines()) == 6
    page.level_boxes["warn"].setChecked(True)
    assert len(page.shown_lines()) == 12
    page.level_boxes["error"].setChecked(False)
    page.level_boxes["warn"].setChecked(False)
    page.level_boxes["other"].setChecked(True)
    assert sorted(line.split("| ")[1] for line in page.shown_lines()) == sorted(
        f"{n} plain {i}" for n in ("alpha", "beta") for i in (1, 2, 3))
    for box in page.level_boxes.values():
        box.setChecked(True)

    # search with only-matching lines, then save what is shown
    tab.query.setText(r"bad [23]")
    tab.regex.setChecked(True)
    with qtbot.waitSignal(tab.search_done, timeout=10000):
        tab.run_search()
    tab.filter.setChecked(True)
    assert len(page.shown_lines()) == 4
    page.level_boxes["error"].setChecked(False)  # the filters narrow each other
    assert page.shown_lines() == []
    page.level_boxes["error"].setChecked(True)
    saved = tmp_path / "merged.log"
    assert await_(tab.save_to(str(saved))) == 4
    assert sorted(saved.read_text().splitlines()) == sorted(
        f"ERROR {n} bad {i}" for n in ("alpha", "beta") for i in (2, 3))
    tab.filter.setChecked(False)

    # a time range: nothing before the containers ran; an end before them leaves nothing
    page.time_to.setText("2000-01-01 00:00")
    page.refilter()
    assert page.shown_lines() == []
    page.time_to.setText("nonsense")
    page.refilter()
    assert "Type how far back" in page.time_error.text()
    page.time_to.setText("")
    page.time_from.setText("1h")
    page.refilter()
    assert len(page.shown_lines()) >= 26


def test_a_compose_project_scope(make_container, docker_api, ph, qtbot, run_id):
    proj = f"proj{run_id}"
    ids = [make_container(command=("sh", "-c", f"echo {svc} up; sleep 3600"), start=True,
                          labels={"com.docker.compose.project": proj, "com.docker.compose.service": svc})
           for svc in ("web", "db")]
    lone = make_container(command=("sh", "-c", "echo lone; sleep 3600"), start=True)
    page = open_logs(ph, qtbot)
    wait_listed(ph, qtbot, ids + [lone])
    engine = ph.all_containers.get(ids[0]).engine_id
    page.choose_scope((engine, proj))
    assert sorted(page.checked_ids()) == sorted(ids)
    page.choose_scope("running")
    assert set(ids + [lone]) <= set(page.checked_ids())
    page.choose_scope((engine, proj))
    with qtbot.waitSignal(page.shown, timeout=10000):
        page.show_checked()
    qtbot.waitUntil(lambda: len(page.tab.buffer) == 2, timeout=20000)
    assert sorted(line.split("| ")[1] for line in page.shown_lines()) == ["db up", "web up"]


def test_containers_of_two_engines_in_one_view(two, docker_api, api_b, test_image, qtbot, run_id):
    made = []
    try:
        for api, n in ((docker_api, "here"), (api_b, "there")):
            c = api.create_container(test_image, command=["sh", "-c", f"echo from {n}; sleep 3600"],
                                     name=f"pht-{run_id}-{n}", stop_signal="SIGKILL")
            api.start(c["Id"])
            made.append((api, c["Id"]))
        page = two.inside.logs_page
        wait_listed(two, qtbot, [cid for _, cid in made])
        texts = dict(page.picker_model.rows())  # with two engines each row says whose it is
        assert texts[made[0][1]] == f"host/pht-{run_id}-here  (running)"
        assert texts[made[1][1]] == f"second/pht-{run_id}-there  (running)"
        page.set_checked([cid for _, cid in made])
        with qtbot.waitSignal(page.shown, timeout=10000):
            page.show_checked()
        qtbot.waitUntil(lambda: len(page.tab.buffer) == 2, timeout=20000)
        shown = page.shown_lines()
        assert any(line.startswith("host/") and line.endswith("from here") for line in shown)
        assert any(line.startswith("second/") and line.endswith("from there") for line in shown)

        # the page follows the engine switcher: one engine's containers, and the chosen set's part on it
        (_, here), (_, there) = made
        with qtbot.waitSignal(page.shown, timeout=10000):
            two.window.select_engine("second")
        qtbot.waitUntil(lambda: len(page.tab.buffer) == 1, timeout=20000)
        assert [cid for cid, _ in page.tab.containers] == [there]
        listed = {cid for cid, _ in page.picker_model.rows()}
        assert there in listed and here not in listed
        # "all containers" over the selected engine; all engines again when the switcher says so
        page.choose_scope("all")
        with qtbot.waitSignal(page.shown, timeout=10000):
            page.show_checked()
        assert {cid for cid, _ in page.tab.containers} == {c["Id"] for c in api_b.containers(all=True)}
        with qtbot.waitSignal(page.shown, timeout=10000):
            two.window.select_engine(None)
        assert {here, there} <= {cid for cid, _ in page.tab.containers}
        qtbot.waitUntil(lambda: {"from here", "from there"} <= {ln.rsplit("| ", 1)[-1] for ln in page.shown_lines()},
                        timeout=20000)
    finally:
        for api, cid in made:
            api.remove_container(cid, force=True)


def test_checking_containers_in_the_list_by_hand(make_container, ph, qtbot, run_id):
    """A click on a container's check box in the list adds it to the set and makes the scope
    "Chosen in the list"; a second click takes it out; the list shows the engine's names."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

    ids = [make_container(f"pht-{run_id}-pick-{n}", command=("sleep", "3600"), start=True) for n in ("a", "b")]
    page = open_logs(ph, qtbot)
    wait_listed(ph, qtbot, ids)
    page.choose_scope("running")
    assert set(ids) <= set(page.checked_ids())
    page.set_checked([])
    model, view = page.picker_model, page.picker
    row = [cid for cid, _ in model.rows()].index(ids[1])
    idx = model.index(row)
    assert idx.data() == f"pht-{run_id}-pick-b  (running)"
    view.scrollTo(idx)

    def click() -> None:
        opt = QStyleOptionViewItem()
        opt.initFrom(view)
        opt.rect = view.visualRect(idx)
        opt.features |= QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
        box = view.style().subElementRect(QStyle.SubElement.SE_ItemViewItemCheckIndicator, opt, view)
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=box.center() if box.isValid()
                         else opt.rect.topLeft() + QPoint(8, opt.rect.height() // 2))

    click()
    assert page.checked_ids() == [ids[1]]
    assert page.scope.currentData() == "chosen"
    click()
    assert page.checked_ids() == []
