"""What a click on start/stop/remove does: confirm when destructive, act, report in sentences."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QWidget

from desktop.engine.client import EngineClient
from desktop.engine.errors import EngineError
from desktop.engine.records import Container
from desktop.ui.widgets.dialogs import confirm

ACTIVE = ("running", "restarting", "paused")
VERBS = {
    "start": ("Starting", "started"), "stop": ("Stopping", "stopped"), "restart": ("Restarting", "restarted"),
    "pause": ("Pausing", "paused"), "unpause": ("Resuming", "resumed"), "kill": ("Killing", "killed"),
    "delete": ("Removing", "removed"),
}


def _names(cs: Sequence[Container], limit: int = 3) -> str:
    names = [c.name for c in cs[:limit]]
    more = len(cs) - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def resolve(action: str, cs: Sequence[Container]) -> tuple[str, list[Container]]:
    """Turn toggles into a concrete action and keep only containers it applies to."""
    if action == "toggle":
        action = "stop" if any(c.state in ACTIVE for c in cs) else "start"
    if action == "pause_toggle":
        action = "unpause" if any(c.state == "paused" for c in cs) else "pause"
    applies = {
        "start": lambda c: c.state not in ("running", "restarting", "removing"),
        "stop": lambda c: c.state in ACTIVE,
        "restart": lambda c: c.state != "removing",
        "pause": lambda c: c.state == "running",
        "unpause": lambda c: c.state == "paused",
        "kill": lambda c: c.state in ("running", "restarting"),
        "delete": lambda c: c.state != "removing",
    }[action]
    return action, [c for c in cs if applies(c)]


class ContainerActions:
    """Runs container actions for the UI; `report(text, is_error)` shows progress and outcomes."""

    def __init__(self, client_for: Callable[[Container], EngineClient], parent: QWidget,
                 report: Callable[[str, bool], None],
                 mark_pending: Callable[[str, str | None], None] | None = None,
                 started: Callable[[str, list[Container]], None] | None = None) -> None:
        self.client_for = client_for
        self.parent = parent
        self.report = report
        self.mark_pending = mark_pending or (lambda cid, text: None)
        # Told (concrete action, targets) once the user has confirmed and before the engine is
        # asked, so a watcher knows the exits that follow were wanted.
        self.started = started or (lambda action, targets: None)

    async def run(self, action: str, containers: Sequence[Container]) -> bool:
        """Returns True when every container did what was asked."""
        action, targets = resolve(action, containers)
        if not targets:
            return True
        force = volumes = False
        if action == "delete":
            ok, volumes = await self._confirm_remove(targets)
            if not ok:
                return False
            force = any(c.state in ACTIVE for c in targets)
        elif action == "kill":
            ok, _ = await confirm(
                self.parent, "Kill containers", f"Kill {_names(targets)}?", "Kill",
                details="Kill sends SIGKILL: the processes stop at once, without a chance to save their work.")
            if not ok:
                return False
        ing, ed = VERBS[action]
        self.started(action, list(targets))
        self.report(f"{ing} {_names(targets)}…", False)

        async def one(c: Container) -> EngineError | None:
            self.mark_pending(c.id, f"{ing}…")
            try:
                client = self.client_for(c)
                if action == "delete":
                    await client.remove(c.id, c.name, force=force, volumes=volumes)
                elif action in ("stop", "restart"):
                    await getattr(client, action)(c.id, c.name, timeout=10)
                else:
                    await getattr(client, action)(c.id, c.name)
            except EngineError as err:
                return err
            except LookupError:
                return EngineError(f"The engine of container {c.name} is no longer followed.")
            finally:
                self.mark_pending(c.id, None)
            return None

        errors = [e for e in await asyncio.gather(*(one(c) for c in targets)) if e is not None]
        if errors:
            extra = f" ({len(errors) - 1} more failed)" if len(errors) > 1 else ""
            self.report(f"{errors[0]}{extra}", True)
            return False
        self.report(f"{_names(targets)} {ed}.", False)
        return True

    async def _confirm_remove(self, targets: Sequence[Container]) -> tuple[bool, bool]:
        running = [c for c in targets if c.state in ACTIVE]
        what = f"container {targets[0].name}" if len(targets) == 1 else f"{len(targets)} containers ({_names(targets)})"
        lost = ("Its filesystem changes and its logs will be lost; named volumes are kept."
                if len(targets) == 1 else
                "Their filesystem changes and logs will be lost; named volumes are kept.")
        if running:
            lost = (f"{_names(running)} {'is' if len(running) == 1 else 'are'} running and will be "
                    "stopped by force (killed) first, without a chance to save work. " + lost)
        return await confirm(
            self.parent, "Remove containers", f"Remove {what}?", "Remove" if not running else "Stop and remove",
            details=lost, checkbox="Also remove their anonymous volumes")
