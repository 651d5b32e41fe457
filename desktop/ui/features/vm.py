"""The bundled VM: its page, the no-engine page's one-click start (image, boot, engine), the offer
of a docker context, and its engine followed like any other (it joins the registry when it runs)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sys

from desktop.state.vm_engine import ENGINE_NAME, VMControl
from desktop.ui.async_tasks import TaskSet
from desktop.ui.features.wing import Shared
from desktop.ui.vm.vm_panel import VMPanel

log = logging.getLogger(__name__)


def default_vm_manager():
    """The bundled VM's manager (Qt-free, cheap to make; nothing runs until it is started), or
    None where this host cannot run it."""
    try:
        from desktop.vm.config import VMConfig
        from desktop.vm.machine import VMManager
        from desktop.vm.image_files import user_vm_paths

        paths = user_vm_paths()
        if sys.platform == "win32":
            from desktop.vm.wsl_engine import WslEngine, store_wsl_installed

            if store_wsl_installed():  # WSL 2 first, as Docker Desktop and Podman do; else QEMU + WHPX
                return WslEngine(VMConfig.load(paths.config_file), paths)
        return VMManager(VMConfig.load(paths.config_file), paths)
    except Exception as exc:  # noqa: BLE001 - no VM support here is not a reason not to start
        log.info("the bundled VM is unavailable: %s", exc)
        return None


class VMWing:
    """`control` is None without a VM manager (then there is no page either)."""

    def __init__(self, shared: Shared, manager=None, make_manager=None) -> None:
        """`make_manager()` makes the manager here when none is handed in (its module imports the
        SDK and cryptography, ~170 ms that must not come before the first table paint)."""
        self.shared = shared
        if manager is None and make_manager is not None:
            manager = make_manager()
        self.control: VMControl | None = None
        self.panel: VMPanel | None = None
        self.one_click = self.context_offer = None
        self.sleep_watch = None
        self.tasks = TaskSet()
        if manager is None:
            return
        settings = shared.settings

        def config():
            s = settings.current
            changes = dict(cpus=s.vm_cpus, memory_mib=s.vm_memory_mib, disk_gib=s.vm_disk_gib)
            if hasattr(manager.config, "sleep_after_s"):
                changes["sleep_after_s"] = s.vm_sleep_minutes * 60.0
            return manager.config.with_changes(**changes)

        def resources() -> str:
            s = settings.current
            return (f"{s.vm_cpus} CPUs, {s.vm_memory_mib} MiB memory, {s.vm_disk_gib} GiB disk "
                    "(change them in Settings; they apply at the next start)")

        async def prepare(progress) -> None:
            # The VM page's Start gets the image like the one click does (cached: one stat).
            from desktop.vm.image_source import ensure_image

            choice = await ensure_image(manager.arch, manager.paths.image_dir, lambda p: progress(f"image: {p.text}"))
            if choice.dir != manager.paths.image_dir:
                manager.paths = dataclasses.replace(manager.paths, image_dir=choice.dir)

        self.control = VMControl(manager, shared.engines, config, prepare)
        self.panel = VMPanel(self.control, resources)
        window = shared.window
        window.add_page("vm", "Virtual machine", "engine", self.panel)
        self._init_one_click(manager)
        self._init_sleep(manager)

    def _init_sleep(self, manager) -> None:
        """"Sleeping" in the panel, footer and tray, learnt from the state folder's file events;
        the idle time from Settings goes to the running VM at once."""
        from desktop.ui.vm.sleep_watch import VMSleepWatch

        if not hasattr(manager, "wake"):
            return  # WSL 2 has its own idle handling
        self.sleep_watch = VMSleepWatch(manager.paths.state_dir, lambda: manager.status().sleeping)
        self.sleep_watch.sleeping_changed.connect(self._on_sleep_watch_sleeping_changed)
        self.shared.settings.changed.connect(self._on_settings_changed)

    def _on_sleep_watch_sleeping_changed(self, sleeping: bool) -> None:
        self.panel.refresh()
        status = self.engine_status()
        if status is not None:
            self.sleep_watch.engine_noted.emit(status, "sleeping" if sleeping else "")

    def engine_status(self):
        """The VM engine's ConnectionStatus, when the app follows it (for the footer's note)."""
        session = self.shared.engines.get(ENGINE_NAME)
        return session.status if session is not None else None

    def _on_settings_changed(self, settings, names) -> None:
        if "vm_sleep_minutes" in names:
            self.tasks.spawn(asyncio.to_thread(self.control.set_sleep_after, settings.vm_sleep_minutes * 60.0))

    def _init_one_click(self, manager) -> None:
        """The no-engine page's main button: image, boot and engine in one click."""
        from desktop.ui.vm.one_click import ContextOffer, VMOneClick
        from desktop.vm.one_click import start_from_nothing
        from desktop.vm.readiness import check

        control, window = self.control, self.shared.window
        self.one_click = VMOneClick(check, lambda report: start_from_nothing(
            manager, control.start, report, follow=control.ensure_session))
        window.no_engine.set_vm_offer(self.one_click)
        self.context_offer = ContextOffer(manager.paths.docker_config_dir)
        window.add_notice(self.context_offer)
        self.one_click.finished.connect(self._on_one_click_finished)

    def _on_one_click_finished(self, ok: bool) -> None:
        if ok:
            self.shared.window.show_page("containers")
            self.context_offer.offer()

    def show_engine(self, key: str | None) -> None:
        pass

    def set_engine_count(self, n: int) -> None:
        pass

    async def aclose(self) -> None:
        await self.tasks.cancel_all()
        if self.sleep_watch is not None:
            await self.sleep_watch.aclose()
        if self.panel is not None:
            await self.panel.aclose()
            await self.one_click.aclose()
            await self.context_offer.aclose()
