"""Desktop integration: the Settings page, theme, command palette, tray, closing to the tray and
quitting for real."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import QApplication

from desktop.ui.desk.command_palette import (CommandPalette, actions_provider, compose_provider,
                                             containers_provider, pages_provider)
from desktop.ui.desk.settings_page import SettingsPage
from desktop.ui.desk.theme import ThemeManager
from desktop.ui.desk.tray import Tray
from desktop.ui.features.wing import Shared


class DeskWing(QObject):
    """Announces `quitting()` when the user quits for real (tray, palette), so the app ends even
    when closing the window would only hide it in the tray."""

    quitting = Signal()

    def __init__(self, shared: Shared, containers, compose, vm_control=None) -> None:
        super().__init__(shared.window)
        self.shared = shared
        window, settings = shared.window, shared.settings
        self.settings = settings
        self.settings_page = SettingsPage(settings, engines=shared.engines)
        window.add_page("settings", "Settings", "settings", self.settings_page)
        self.settings_page.engines_table.primary_made.connect(window.select_engine)

        self.theme = ThemeManager(QApplication.instance(), settings.current.theme)
        settings.changed.connect(self.theme.on_settings_changed)

        self.palette = CommandPalette(window)
        self.palette.add_provider(pages_provider(window))
        self.palette.add_provider(containers_provider(shared.containers, containers.page, window))
        self.palette.add_provider(compose_provider(compose.projects, compose.page, window))
        self.palette.add_provider(actions_provider([
            ("Open compose file…", compose.open_compose_file),
            ("Settings", lambda: window.show_page("settings")),
            ("Keyboard shortcuts", window.show_shortcuts),
            ("Theme: system", lambda: settings.update(theme="system")),
            ("Theme: light", lambda: settings.update(theme="light")),
            ("Theme: dark", lambda: settings.update(theme="dark")),
            ("Quit Pilothouse", self.quit),
        ]))

        self.tray = Tray(shared.primary.client, shared.containers, shared.status, vm_control,
                         notify_enabled=lambda: settings.current.notifications, engines=shared.engines)
        self.tray.open_requested.connect(self.show_window)
        self.tray.quit_requested.connect(self.quit)
        self.hidden_to_tray = 0
        self._quitting = False
        window.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        # Closing the window keeps Pilothouse in the tray when the user chose so.
        if (obj is self.shared.window and event.type() == QEvent.Type.Close and not self._quitting
                and self.settings.current.close_to_tray and self.tray.shown):
            event.ignore()
            obj.hide()
            self.hidden_to_tray += 1
            return True
        return False

    def show_window(self) -> None:
        window = self.shared.window
        window.showNormal()
        window.raise_()
        window.activateWindow()

    def quit(self) -> None:
        """Quit for real: close the window even when it would go to the tray."""
        self._quitting = True
        self.quitting.emit()
        self.shared.window.close()

    def show_engine(self, key: str | None) -> None:
        pass  # the tray lists every engine's containers

    def set_engine_count(self, n: int) -> None:
        pass

    async def aclose(self) -> None:
        await self.settings_page.engines_table.aclose()
        await self.tray.aclose()
        self.theme.close()
