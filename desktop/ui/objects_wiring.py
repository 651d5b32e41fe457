"""Wires the images, volumes, networks and disk usage feature (issue 4) into the app.

Kept out of app.py so the composition root only calls `install_objects(app)` and
`aclose_objects(app)`; everything this feature adds to the app is set here.
"""

from __future__ import annotations

from desktop.state.objects_state import ObjectsState
from desktop.ui.disk_usage_page import DiskUsagePage
from desktop.ui.images_page import ImagesPage
from desktop.ui.networks_page import NetworksPage
from desktop.ui.volumes_page import VolumesPage

PAGES = (("images", "Images"), ("volumes", "Volumes"), ("networks", "Networks"), ("disk", "Disk usage"))


def install_objects(app) -> None:
    """Stores on the primary engine's sync, four sidebar pages, Run → container, container menu entries.

    Sets on `app`: objects (ObjectsState), images_page, volumes_page, networks_page, disk_page, and
    aclose_objects() for the app's shutdown.
    """
    app.aclose_objects = lambda: aclose_objects(app)
    app.objects = ObjectsState(app.client)
    app.objects.attach(app.sync, lazy=True)
    app.images_page = ImagesPage(app.client, app.objects)
    app.volumes_page = VolumesPage(app.client, app.objects)
    app.networks_page = NetworksPage(app.client, app.objects)
    app.disk_page = DiskUsagePage(app.objects.objects)
    pages = (app.images_page, app.volumes_page, app.networks_page, app.disk_page)
    for (key, title), page in zip(PAGES, pages):
        app.window.add_page(key, title, key, page)
        page.set_engine_available(app.status.is_connected)
    # The object stores list when one of their pages is first shown (or Run/commit needs them).
    app.window.pages.currentChanged.connect(
        lambda i: app.window.pages.widget(i) in pages and app.objects.want())
    app.images_page.container_created.connect(lambda cid: show_new_container(app, cid))
    app.containers_page.context_menu_extenders.append(
        lambda menu, containers: extend_container_menu(app, menu, containers))


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
    menu.addAction("Commit to image…").triggered.connect(lambda: app.images_page.commit_container(c.id, c.name))
    menu.addAction("Export filesystem…").triggered.connect(lambda: app.images_page.export_container(c.id, c.name))


def show_new_container(app, cid: str) -> None:
    """After Run: select the new container on the Containers page, and open its detail page when
    the detail-page feature (app.details, issue 3) is present."""
    app.window.show_page("containers")

    def select() -> bool:
        idx = app.containers_page.proxy_index_of(cid)
        if not idx.isValid():
            return False
        app.containers_page.view.setCurrentIndex(idx)
        app.containers_page.view.scrollTo(idx)
        details = getattr(app, "details", None)
        c = app.containers.get(cid)
        if details is not None and c is not None:
            details.open_container(c)
        return True

    if not select():
        # The store learns of the container from its event a moment later.
        def on_upserted(items) -> None:
            if any(c.id == cid for c in items) and select():
                app.containers.upserted.disconnect(on_upserted)

        app.containers.upserted.connect(on_upserted)
