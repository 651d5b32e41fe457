"""Wires the images, volumes, networks and disk usage feature into the app.

Kept out of app.py so the composition root only calls `install_objects(app)` and
`aclose_objects(app)`; everything this feature adds to the app is set here.
"""

from __future__ import annotations

from desktop.state.engine_objects import EngineObjects
from desktop.ui.objects.disk_usage_page import DiskUsagePage
from desktop.ui.objects.images_page import ImagesPage
from desktop.ui.objects.networks_page import NetworksPage
from desktop.ui.objects.volumes_page import VolumesPage

PAGES = (("images", "Images"), ("volumes", "Volumes"), ("networks", "Networks"), ("disk", "Disk usage"))


def install_objects(app) -> None:
    """Stores on every engine's sync, four sidebar pages, Run → container, container menu entries.

    Sets on `app`: objects (EngineObjects: each engine's stores, merged), images_page, volumes_page,
    networks_page, disk_page, and aclose_objects() for the app's shutdown. `select_engine(app, key)`
    follows the window's engine switcher.
    """
    app.aclose_objects = lambda: aclose_objects(app)
    app.objects = EngineObjects(app.engines, app.primary.key)
    app.images_page = ImagesPage(app.objects)
    app.volumes_page = VolumesPage(app.objects)
    app.networks_page = NetworksPage(app.objects)
    app.disk_page = DiskUsagePage(app.objects.state(app.primary.key).objects)
    pages = (app.images_page, app.volumes_page, app.networks_page, app.disk_page)
    for (key, title), page in zip(PAGES, pages):
        app.window.add_page(key, title, key, page)
        page.set_engine_available(app.window.status.is_connected)
    app.objects.reachability_changed.connect(lambda: follow_engines(app))
    follow_engines(app)
    # The object stores list when one of their pages is first shown (or Run/commit needs them).
    app.window.pages.currentChanged.connect(
        lambda i: app.window.pages.widget(i) in pages and app.objects.want())
    app.images_page.container_created.connect(lambda cid: show_new_container(app, cid))
    app.containers_page.context_menu_extenders.append(
        lambda menu, containers: extend_container_menu(app, menu, containers))


def follow_engines(app) -> None:
    """Engine column and unreachable-engine notice of the object pages, Disk usage's engine list."""
    hub = app.objects
    selected = hub.selected
    missing = [k for k in hub.unreachable() if selected in (None, k)]
    for page in (app.images_page, app.volumes_page, app.networks_page):
        page.set_multi_engine(hub.several and selected is None)
        page.show_unreachable(missing if hub.several else [])
    keys = sorted((s.key for s in app.engines.sessions), key=lambda k: k != hub.primary)
    app.disk_page.set_engines(keys, lambda k: hub.state(k).objects)


def select_engine(app, key: "str | None") -> None:
    """The window's switcher: the object pages show one engine (or all); Disk usage shows it."""
    app.objects.selected = key
    for page in (app.images_page, app.volumes_page, app.networks_page):
        page.set_engine(key)
    if key is not None:
        app.disk_page.show_engine(key)
    follow_engines(app)


async def aclose_objects(app) -> None:
    for page in (app.images_page, app.volumes_page, app.networks_page, app.disk_page):
        await page.tasks.cancel_all()
    await app.objects.aclose()


def extend_container_menu(app, menu, containers) -> None:
    """Commit / export entries in the Containers page's context menu (one container)."""
    if len(containers) != 1:
        return
    c = containers[0]
    menu.addSeparator()
    engine = c.engine_id or None  # the container's own engine
    menu.addAction("Commit to image…").triggered.connect(
        lambda: app.images_page.commit_container(c.id, c.name, engine))
    menu.addAction("Export filesystem…").triggered.connect(
        lambda: app.images_page.export_container(c.id, c.name, engine))


def show_new_container(app, cid: str) -> None:
    """After Run: select the new container on the Containers page, and open its detail page when
    the detail-page feature (app.details) is present."""
    app.window.show_page("containers")

    def select() -> bool:
        idx = app.containers_page.proxy_index_of(cid)
        if not idx.isValid():
            return False
        app.containers_page.view.setCurrentIndex(idx)
        app.containers_page.view.scrollTo(idx)
        details = getattr(app, "details", None)
        c = app.all_containers.get(cid)
        if details is not None and c is not None:
            details.open_container(c)
        return True

    if not select():
        # The store learns of the container from its event a moment later.
        def on_upserted(items) -> None:
            if any(c.id == cid for c in items) and select():
                app.all_containers.upserted.disconnect(on_upserted)

        app.all_containers.upserted.connect(on_upserted)
