"""Is a page showing the engine as it is now? `--screenshot` waits for it before it paints.

The prefetched table shown at start-up, or a page opened before its engine answered, is not
current: the page fills when the session's first real list (and, for the object pages, their
stores' first list) has arrived.
"""

from __future__ import annotations

from desktop.state.connection import UNREACHABLE

OBJECT_PAGES = ("images", "volumes", "networks")


def page_is_current(app, key: str) -> bool:
    primary = app.primary
    if primary.status.current.state == UNREACHABLE:
        return True  # nothing will come: the no-engine page is what there is to show
    if not primary.sync.synced:
        return False
    if key == "activity":  # the events the engine buffered before the app started are in
        return app.history.caught_up(primary.key)
    if key in OBJECT_PAGES and app.secondary_installed:
        state = app.objects.stores.state(primary.key)
        return getattr(state, key).loaded and state.usage.loaded
    return True


def shown_rows(app, key: str) -> int | None:
    """How many rows the page's table holds (None: a page without one)."""
    page = app.window.page(key)
    model = getattr(page, "model", None)
    return model.rowCount() if model is not None else None
