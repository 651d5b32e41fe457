"""The bundled VM: its page, the no-engine page's offer to start it, and its engine followed like
any other (the VM's engine joins the registry when it runs)."""

from __future__ import annotations

import logging

from desktop.state.vm_engine import VMControl
from desktop.ui.features.wing import Shared
from desktop.ui.vm.vm_panel import VMPanel

log = logging.getLogger(__name__)


def default_vm_manager():
    """The bundled VM's manager (Qt-free, cheap to make; nothing runs until it is started), or
    None where this host cannot run it."""
    try:
        from desktop.vm.config import VMConfig
        from desktop.vm.machine import VMManager
        from desktop.vm.paths import VMPaths

        paths = VMPaths.default()
        return VMManager(VMConfig.load(paths.config_file), paths)
    except Exception as exc:  # noqa: BLE001 - no VM support here is not a reason not to start
        log.info("the bundled VM is unavailable: %s", exc)
        return None


class VMWing:
    """`control` is None without a VM manager (then there is no page either)."""

    def __init__(self, shared: Shared, manager) -> None:
        self.shared = shared
        self.control: VMControl | None = None
        self.panel: VMPanel | None = None
        if manager is None:
            return
        settings = shared.settings

        def config():
            s = settings.current
            return manager.config.with_changes(cpus=s.vm_cpus, memory_mib=s.vm_memory_mib, disk_gib=s.vm_disk_gib)

        def resources() -> str:
            s = settings.current
            return (f"{s.vm_cpus} CPUs, {s.vm_memory_mib} MiB memory, {s.vm_disk_gib} GiB disk "
                    "(change them in Settings; they apply at the next start)")

        self.control = VMControl(manager, shared.engines, config)
        self.panel = VMPanel(self.control, resources)
        window = shared.window
        window.add_page("vm", "Virtual machine", "engine", self.panel)
        window.no_engine.offer_vm(True)
        window.no_engine.vm_start_requested.connect(self._on_no_engine_vm_start_requested)

    def _on_no_engine_vm_start_requested(self) -> None:
        self.panel.tasks.spawn(self._start_from_no_engine_page())

    async def _start_from_no_engine_page(self) -> None:
        page = self.shared.window.no_engine
        try:
            await self.control.start(progress=lambda m: page.show_vm_progress(f"VM: {m}"))
        except Exception as exc:  # noqa: BLE001 - VMError carries a sentence
            page.show_vm_progress(f"The VM could not start: {exc}", error=True)
            return
        page.show_vm_progress("The VM is running; connecting to its engine…")

    def show_engine(self, key: str | None) -> None:
        pass

    def set_engine_count(self, n: int) -> None:
        pass

    async def aclose(self) -> None:
        if self.panel is not None:
            await self.panel.tasks.cancel_all()
