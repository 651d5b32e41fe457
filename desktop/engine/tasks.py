"""One asyncio chore shared by the engine, state and metrics layers (Qt-free)."""

from __future__ import annotations

import asyncio


async def cancel_and_wait(task: "asyncio.Task | None") -> None:
    """Cancel `task` (if any, and not done) and wait until it has ended; its outcome is dropped
    (a closing store, stream or sampler has nobody left to tell)."""
    if task is None or task.done():
        return
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):  # noqa: BLE001
        pass
