"""Following engines: add one (checked, pinged, then remembered in Settings), retry them all, and
warn about engines reached without encryption. The engines saved in Settings are followed as the
list changes (the Settings page's engine table edits only the list)."""

from __future__ import annotations

from desktop.engine.endpoints import Endpoint
from desktop.engine.errors import InvalidInputError
from desktop.engine.saved_engines import SavedEngine
from desktop.engine.transport import unencrypted_engines
from desktop.ui.async_tasks import TaskSet
from desktop.ui.features.wing import Shared


class EnginesWing:
    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self.tasks = TaskSet()
        self._saved = tuple(shared.settings.current.engines)
        shared.window.retry_requested.connect(self._on_window_retry_requested)
        shared.window.add_engine_requested.connect(self.open_add_engine_dialog)
        shared.settings.changed.connect(self._on_settings_changed)

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
        settings.update(engines=tuple(settings.current.engines) + (SavedEngine.from_endpoint(endpoint),))
        return session

    def _on_settings_changed(self, settings, names) -> None:
        if "engines" not in names:
            return
        before, after = self._saved, tuple(settings.engines)
        self._saved = after
        registry = self.shared.engines
        for gone in (e for e in before if e not in after):
            s = registry.get(gone.name)
            # only a session that is this entry (not the primary or a context of the same name)
            if s is not None and s is not self.shared.primary and gone.address in {ep.host for ep in s.endpoints}:
                self.tasks.spawn(registry.remove(gone.name))
        for new in (e for e in after if e not in before):
            self.tasks.spawn(self._follow(new))

    async def _follow(self, entry: SavedEngine) -> None:
        registry = self.shared.engines
        while (old := registry.get(entry.name)) is not None and old is not self.shared.primary \
                and old.endpoints[0].source == "settings" and entry.address not in {ep.host for ep in old.endpoints}:
            await registry.remove(entry.name)  # an edit that kept the name: follow the new address
        try:
            ep = entry.endpoint()
        except InvalidInputError:
            return  # the Settings page says what is wrong with it
        if registry.get(entry.name) is None and all(ep.host not in {e.host for e in s.endpoints}
                                                    for s in registry.sessions):
            registry.add(entry.name, [ep])

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
        self.shared.settings.changed.disconnect(self._on_settings_changed)
        await self.tasks.cancel_all()
