"""Following engines: add one (checked, pinged, then remembered in Settings), retry them all, and
warn about engines reached without encryption."""

from __future__ import annotations

from desktop.engine.endpoint_input import format_engine_line
from desktop.engine.endpoints import Endpoint
from desktop.engine.transport import unencrypted_engines
from desktop.ui.features.wing import Shared


class EnginesWing:
    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        shared.window.retry_requested.connect(self._on_window_retry_requested)
        shared.window.add_engine_requested.connect(self.open_add_engine_dialog)

    def open_add_engine_dialog(self):
        """Settings' "Add engine": validated, pinged, then followed like any other engine."""
        from desktop.ui.engines.add_engine_dialog import AddEngineDialog  # the SDK: only when asked

        sessions = self.shared.engines.sessions
        dlg = AddEngineDialog({s.key for s in sessions}, self.shared.window,
                              {ep.host: s.key for s in sessions for ep in s.endpoints})
        dlg.engine_added.connect(self.add_engine)
        dlg.open()
        return dlg

    def add_engine(self, endpoint: Endpoint):
        """Follow the engine now, and remember it so it is followed next time too."""
        session = self.shared.engines.add(endpoint.name, [endpoint])
        settings = self.shared.settings
        settings.update(engines=tuple(settings.current.engines) + (format_engine_line(endpoint),))
        return session

    def _on_window_retry_requested(self) -> None:
        self.retry_all()

    def retry_all(self) -> None:
        """Try every engine again now (instead of at its next back-off)."""
        for s in self.shared.engines.sessions:
            s.sync.retry_now()

    def show_engine(self, key: str | None) -> None:
        pass

    def set_engine_count(self, n: int) -> None:
        sessions = self.shared.engines.sessions
        self.shared.window.unencrypted_banner.show_engines(unencrypted_engines((s.key, s.endpoints) for s in sessions))

    async def aclose(self) -> None:
        pass
