"""Desktop notifications (system tray messages) for ContainerAlerts; a click opens the logs."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QSystemTrayIcon

from desktop.state.crash_watch import ContainerAlert, CrashWatch
from desktop.state.history.crash_reports import CrashReporter
from desktop.ui.resources import app_icon


class TrayNotifier(QObject):
    """Shows each alert as a tray message. `notified(alert)` fires for every one shown (tests and
    platforms without a tray rely on it); `open_logs_requested(container_id)` on a click."""

    notified = Signal(object)
    open_logs_requested = Signal(str)
    report_requested = Signal(int)  # a click on a crash's notification: its report in the history

    def __init__(self, watch: "CrashWatch | CrashReporter", parent=None) -> None:
        super().__init__(parent)
        self.watch = watch
        self.shown: list[ContainerAlert] = []
        self._last: ContainerAlert | None = None
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray.setToolTip("Pilothouse")
            self.tray.messageClicked.connect(self._on_tray_message_clicked)
            self.tray.show()
        watch.alerts.connect(self._on_alert)

    @property
    def enabled(self) -> bool:
        return self.watch.enabled

    def set_enabled(self, on: bool) -> None:
        self.watch.enabled = on

    def _on_alert(self, alert: ContainerAlert) -> None:
        self._last = alert
        self.shown.append(alert)
        del self.shown[:-200]  # a crash-looping container must not grow this forever
        if self.tray is not None:
            icon = (QSystemTrayIcon.MessageIcon.Warning if alert.kind == "unhealthy"
                    else QSystemTrayIcon.MessageIcon.Critical)
            self.tray.showMessage(alert.title, alert.message, icon, 10000)
        self.notified.emit(alert)

    def _on_tray_message_clicked(self) -> None:
        if self._last is not None:
            self.open_logs_requested.emit(self._last.container_id)
            if self._last.report_id is not None:
                self.report_requested.emit(self._last.report_id)

    def close(self) -> None:
        self.watch.alerts.disconnect(self._on_alert)
        if self.tray is not None:
            self.tray.hide()
