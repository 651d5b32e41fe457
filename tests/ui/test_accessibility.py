"""Every page, walked through Qt's accessibility interface (what a screen reader is given): each
interactive control has a role and a name. Against the real engine, with real rows on the pages."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QTabWidget

from tests.ui.a11y_names import nameless
from tests.ui.objects_helpers import select
from tests.ui.tab_walk import TAB_JUMPS, walk


def test_every_page_names_its_controls(ph, qtbot, make_container, run_id):
    cid = make_container(f"pht-{run_id}-a11y", start=True)
    page = ph.containers.page
    qtbot.waitUntil(lambda: page.proxy_index_of(cid).isValid(), timeout=20000)
    problems: dict[str, list[str]] = {}
    for key, _title in ph.window.page_entries():
        ph.window.show_page(key)
        found = nameless(ph.window.page(key))
        if found:
            problems[key] = found
    # A container's page and its tabs (Logs, Terminal, Inspect, Files, Stats, Changes, Debug…).
    ph.window.show_page("containers")
    detail = ph.details.open_container(ph.all_containers.get(cid))
    for i in range(detail.tabs.count()):
        detail.tabs.setCurrentIndex(i)
    found = nameless(detail)
    if found:
        problems["container page"] = found
    found = nameless(ph.window.menuBar())
    for m in ph.window.menus.values():
        found += nameless(m)
    if found:
        problems["menus"] = found
    found = [p for p in nameless(ph.window) if "in MainWindow" in p or "sidePanel" in p]
    if found:
        problems["window"] = found
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())


def test_dialogs_name_their_controls(ph, qtbot):
    ph.menus.actions["new_container"].trigger()  # File > New container from image…
    run = ph.objects.images_page.run_dialog_opened
    qtbot.waitUntil(run.isVisible)
    found = nameless(run)
    run.reject()
    add = ph.connections.open_add_engine_dialog()  # Engine > Add engine…
    qtbot.waitUntil(add.isVisible)
    found += nameless(add)
    add.reject()
    assert not found, found


def test_states_are_said_not_only_coloured(ph, qtbot, make_container):
    from desktop.presentation.container_columns import COL_STATE

    page = ph.containers.page
    up, down = make_container(start=True), make_container()
    qtbot.waitUntil(lambda: page.proxy_index_of(up).isValid() and page.proxy_index_of(down).isValid(), timeout=20000)
    qtbot.waitUntil(lambda: page.proxy_index_of(up, COL_STATE).data() == "Running", timeout=20000)
    assert page.proxy_index_of(down, COL_STATE).data() == "Created"  # words beside the coloured dot
    sw = ph.window.engine_switcher
    assert all(sw.itemText(i).endswith(("connected", "connecting", "reconnecting", "unreachable"))
               for i in range(1, sw.count()))
    bar = page.message
    bar.show_error("The engine refused.")
    assert bar.accessibleName() == "Error message" and not bar.kind_icon.pixmap().isNull()
    bar.show_info("Started.")
    assert bar.accessibleName() == "Message" and bar.kind_icon.accessibleName() == "Information"


def _active(qtbot, window) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def test_every_page_tabs_in_reading_order(ph, qtbot, make_container, run_id):
    """Tab walks every page, each container tab and the window's own bar: every control reached,
    in reading order, and the focus always moves on (no trap)."""
    cid = make_container(f"pht-{run_id}-tabs", start=True)
    page = ph.containers.page
    qtbot.waitUntil(lambda: page.proxy_index_of(cid).isValid(), timeout=20000)
    _active(qtbot, ph.window)
    problems: list[str] = []
    for key, _title in ph.window.page_entries():
        ph.window.show_page(key)
        page_widget = ph.window.page(key)
        problems += walk(page_widget, key, TAB_JUMPS).problems
        for tabs in [t for t in page_widget.findChildren(QTabWidget) if t.isVisible()]:  # each of its tabs
            for i in range(1, tabs.count()):
                if tabs.isTabVisible(i) and tabs.isTabEnabled(i):
                    tabs.setCurrentIndex(i)
                    QApplication.processEvents()
                    problems += walk(page_widget, f"{key}, {tabs.tabText(i)} tab", TAB_JUMPS).problems
            tabs.setCurrentIndex(0)
    # A Compose project's page and its tabs.
    project = f"phtabs{run_id}"
    member = make_container(f"{project}-web-1", labels={"com.docker.compose.project": project,
                                                       "com.docker.compose.service": "web"})
    qtbot.waitUntil(lambda: page.proxy_index_of(member).isValid(), timeout=20000)
    ph.window.show_page("containers")
    proj_page = ph.details.open_project(project, [ph.all_containers.get(member)])
    for title in [proj_page.tabs.tabText(i) for i in range(proj_page.tabs.count())]:
        proj_page.show_tab(title)
        QApplication.processEvents()
        problems += walk(proj_page, f"project page, {title} tab", TAB_JUMPS).problems
    proj_page.back_requested.emit()
    # The window round its page: the sidebar, the bar above the page, then the page.
    ph.window.show_page("containers")
    bar = ph.window.engine_switcher if ph.window.engine_switcher.isVisible() else ph.window.add_engine_button
    window = walk(ph.window, "window", TAB_JUMPS, start=bar)
    problems += [p for p in window.problems if "never reaches" not in p]  # (other pages' controls are hidden)
    assert page.search in window.visited and ph.window.sidebar in window.visited
    detail = ph.details.open_container(ph.all_containers.get(cid))
    for title in [detail.tabs.tabText(i) for i in range(detail.tabs.count())]:
        tab = detail.show_tab(title)
        QApplication.processEvents()
        assert tab.isVisible()
        problems += walk(detail, f"container page, {title} tab", TAB_JUMPS).problems
    assert not problems, "\n".join(problems)


def test_dialogs_tab_in_reading_order(ph, qtbot, make_container, run_id, docker_api, test_image):
    """Tab walks each dialog round: every field and button reached, in reading order, no trap."""
    cid = make_container(f"pht-{run_id}-dlg")
    volume = f"pht-{run_id}-vol"
    docker_api.create_volume(volume)
    network = docker_api.create_network(f"pht-{run_id}-net")["Id"]  # every container may join it
    qtbot.waitUntil(lambda: ph.containers.page.proxy_index_of(cid).isValid(), timeout=20000)
    images, volumes, networks = ph.objects.images_page, ph.objects.volumes_page, ph.objects.networks_page
    name = ph.all_containers.get(cid).name
    ph.window.show_page("images")  # (listed when first shown)
    select(qtbot, images, docker_api.inspect_image(test_image)["Id"])
    opened = [
        ("Run a container", lambda: ph.menus.actions["new_container"].trigger(), lambda: images.run_dialog_opened),
        ("Pull an image", images.pull, lambda: images.pull_dialog_opened),
        ("Build an image", images.build, lambda: images.build_dialog_opened),
        ("Load images", images.load, lambda: images.load_dialog_opened),
        ("Import a filesystem", images.import_tar, lambda: images.import_dialog_opened),
        ("Log in to a registry", images.login, lambda: images.login_dialog_opened),
        ("Commit a container", lambda: images.commit_container(cid, name), lambda: images.commit_dialog_opened),
        ("Export a container", lambda: images.export_container(cid, name), lambda: images.export_dialog_opened),
        ("Tag an image", images.tag_selected, lambda: images.tag_dialog_opened),
        ("Push an image", images.push_selected, lambda: images.push_dialog_opened),
        ("Save images", images.save_selected, lambda: images.save_dialog_opened),
        ("Image layers", images.history_selected, lambda: getattr(images, "history_dialog_opened", None)),
        ("Create a volume", volumes.create, lambda: volumes.create_dialog_opened),
        ("Browse a volume", lambda: (ph.window.show_page("volumes"), select(qtbot, volumes, volume),
                                     volumes.browse_selected()),
         lambda: volumes.browser_opened),
        ("Clone a volume", volumes.clone_selected, lambda: volumes.clone_dialog_opened),
        ("Create a network", networks.create, lambda: networks.create_dialog_opened),
        ("Connect a container", lambda: (ph.window.show_page("networks"),
                                         select(qtbot, networks, network),
                                         networks.connect_selected()), lambda: getattr(networks, "choose_dialog_opened", None)),
        ("Add an engine", ph.connections.open_add_engine_dialog, None),
        ("Confirm a removal", lambda: ph.containers.page.trigger("delete", [ph.all_containers.get(cid)]),
         lambda: next((w for w in QApplication.topLevelWidgets() if w.objectName() == "confirmDialog"
                       and w.isVisible()), None)),
        ("Command palette", ph.desk.palette.open_palette, lambda: ph.desk.palette),
    ]
    problems: list[str] = []
    for label, open_it, dialog in opened:
        made = open_it()
        if dialog is not None:  # (some open once their data is in)
            qtbot.waitUntil(lambda: dialog() is not None and dialog().isVisible(), timeout=20000)
        dlg = dialog() if dialog is not None else made
        qtbot.waitUntil(dlg.isVisible)
        dlg.activateWindow()
        qtbot.waitUntil(lambda: dlg in (QApplication.activeWindow(), QApplication.activePopupWidget()))
        problems += walk(dlg, label, TAB_JUMPS).problems
        dlg.reject()
        qtbot.waitUntil(lambda: not dlg.isVisible())
    try:
        assert not problems, "\n".join(problems)
    finally:  # the browser's helper container goes when the browser closes
        qtbot.waitUntil(lambda: not docker_api.containers(all=True, filters={"volume": volume}), timeout=20000)
        docker_api.remove_volume(volume, force=True)
        docker_api.remove_network(network)
