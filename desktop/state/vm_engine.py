"""The bundled VM as the app sees it: its lifecycle, and its engine followed like any other."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from desktop.engine.endpoints import Endpoint, TLSFiles
from desktop.state.engines import EngineRegistry

ENGINE_NAME = "pilothouse"  # the same name as the docker context the VM writes


class VMControl:
    """Wraps a desktop.vm.machine.VMManager; after a start, the VM's engine is in the registry."""

    def __init__(self, manager, registry: EngineRegistry, config: Callable[[], object] | None = None,
                 prepare: Callable[[Callable[[str], None]], Awaitable[None]] | None = None) -> None:
        self.manager = manager
        self.registry = registry
        self.config = config  # the VMConfig from Settings, read at each (re)start
        self.prepare = prepare  # makes sure there is an image before a start (builds it if need be)
        self.busy = False

    def status(self) -> str:
        """stopped | starting | running | sleeping | stopping | crashed."""
        st = self.manager.status()
        return "sleeping" if getattr(st, "sleeping", False) else st.state

    def full_status(self):
        return self.manager.status()

    def console_tail(self, n: int = 50) -> list[str]:
        return self.manager.console_tail(n)

    def endpoint(self) -> Endpoint | None:
        st = self.manager.status()
        if not st.docker_host:
            return None
        return Endpoint(st.docker_host, "vm", ENGINE_NAME, tls=TLSFiles(st.tls_ca, st.tls_cert, st.tls_key))

    async def ensure_session(self) -> None:
        """Follow the VM's engine (re-created if its port changed since it was last followed)."""
        ep = self.endpoint()
        if ep is None:
            return
        session = self.registry.get(ENGINE_NAME)
        if session is not None and ep.host in {e.host for e in session.endpoints}:
            session.sync.retry_now()
            return
        if session is not None:
            await self.registry.remove(ENGINE_NAME)
        self.registry.add(ENGINE_NAME, [ep])

    async def _do(self, coro_fn, progress, **kwargs) -> None:
        self.busy = True
        try:
            if self.config is not None:
                self.manager.config = self.config()
            await coro_fn(progress=progress, **kwargs)
        finally:
            self.busy = False

    async def start(self, progress: Callable[[str], None] | None = None,
                    on_phase: Callable[[str], None] | None = None, get_image: bool = False) -> None:
        """Boot the VM (`on_phase`: each guest boot phase), then follow its engine. With
        `get_image`, first make sure there is an image (building it, with progress, if need be)."""
        if get_image and self.prepare is not None:
            await self.prepare(progress or (lambda _m: None))
        await self._do(self.manager.start, progress, **({"on_phase": on_phase} if on_phase else {}))
        await self.ensure_session()

    async def restart(self, progress: Callable[[str], None] | None = None) -> None:
        await self._do(self.manager.restart, progress)
        await self.ensure_session()

    async def stop(self, progress: Callable[[str], None] | None = None) -> None:
        """Stop the VM; the QEMU VM saves its state so the next start resumes in seconds."""
        await self._do(self.manager.stop, progress)

    async def shutdown(self, progress: Callable[[str], None] | None = None) -> None:
        """Power the VM off (no saved state: the next start boots from scratch)."""
        saves = getattr(self.manager, "saves_state", False)
        await self._do(self.manager.stop, progress, **({"shutdown": True} if saves else {}))

    async def wake(self, progress: Callable[[str], None] | None = None) -> None:
        """Wake a sleeping VM; its engine session never lost its connection."""
        if hasattr(self.manager, "wake"):
            await self.manager.wake()

    def set_sleep_after(self, seconds: float) -> None:
        """Blocking (files and the helper's socket): call it off the UI thread."""
        if hasattr(self.manager, "set_sleep_after"):
            self.manager.set_sleep_after(seconds)
