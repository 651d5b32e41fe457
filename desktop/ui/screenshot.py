"""Screenshot mode (`pilothouse --screenshot FILE`): the window as a user sees it a moment after
opening, written as a PNG (the README's picture and its check)."""

from __future__ import annotations

import asyncio
import sys

from PySide6.QtCore import QTimer

from desktop.ui.page_current import page_is_current, shown_rows

# Containers: time for the visible rows' first stats figures; Swarm: for its first listing.
WAIT_S = {"containers": 4.0, "swarm": 10.0}


async def _next_paint() -> None:
    done = asyncio.get_running_loop().create_future()
    QTimer.singleShot(50, lambda: done.done() or done.set_result(None))
    await done


async def save_screenshot(ph, path: str, page: str) -> int:
    """Show `page`, wait for the first load (and the visible rows' stats), grab the window.

    Returns the exit status: 0, 1 when the load or the file failed, 2 for an unknown page.
    """
    if not ph.window.show_page(page):
        print(f"pilothouse: no page named {page!r}", file=sys.stderr)
        return 2
    result = 0
    try:
        await ph.first_load(timeout=60)
    except asyncio.TimeoutError:
        print("pilothouse: the first load did not finish within 60 s", file=sys.stderr)
        result = 1
    # The prefetched table, or a page asked for before the engine answered, is not the engine as
    # it is now: paint once the real lists are in. Then let the view lay out and paint the rows it
    # received; on the Containers page, give the visible rows' stats streams time for their first
    # figures, so the picture shows what a user sees a moment after opening the window.
    loop = asyncio.get_running_loop()
    give_up = loop.time() + 60
    while not page_is_current(ph, page) and loop.time() < give_up:
        await _next_paint()
    deadline = loop.time() + WAIT_S.get(page, 0.0)
    monitoring = ph.monitoring
    while True:
        await _next_paint()
        live = [cid for cid in monitoring.stats_columns.visible_ids()
                if getattr(ph.all_containers.get(cid), "state", "") == "running"]
        if page == "swarm" and not ph.swarm.page.ready and loop.time() < deadline:
            continue
        if loop.time() >= deadline or all(monitoring.stats_hubs.latest(cid) is not None for cid in live):
            break
    note = await _vm_image_note(ph) if page == "vm" else ""
    if not ph.window.grab().save(path):
        print(f"pilothouse: could not write {path}", file=sys.stderr)
        return 1
    rows = shown_rows(ph, page)
    print(f"pilothouse: wrote {path}: the {page} page" + (f", {rows} row{'s' if rows != 1 else ''}" if rows is not None else "")
          + note)
    return result


async def _vm_image_note(ph) -> str:
    """The VM page's image line, read afresh: a packaged app's check that it found its own image."""
    from desktop.ui.vm.vm_image_box import describe_image

    panel = ph.vm.panel
    if panel is None:
        return ", no VM on this host"
    status = await panel.image_box.refresh()
    await _next_paint()
    return f", VM image: {describe_image(status)}"
