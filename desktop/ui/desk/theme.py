"""Light and dark palettes; `system` follows the desktop's colour scheme live (QStyleHints)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from desktop.ui.widgets.palette_sheet import repolish

LIGHT, DARK = "light", "dark"

_DARK = {
    QPalette.ColorRole.Window: "#202327", QPalette.ColorRole.WindowText: "#e6e8eb",
    QPalette.ColorRole.Base: "#16181b", QPalette.ColorRole.AlternateBase: "#1d2024",
    QPalette.ColorRole.Text: "#e6e8eb", QPalette.ColorRole.Button: "#2a2e33",
    QPalette.ColorRole.ButtonText: "#e6e8eb", QPalette.ColorRole.Highlight: "#3d6fa8",
    QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#2a2e33",
    QPalette.ColorRole.ToolTipText: "#e6e8eb", QPalette.ColorRole.PlaceholderText: "#8b929b",
    QPalette.ColorRole.Link: "#7fb2ec", QPalette.ColorRole.Mid: "#3a3f45", QPalette.ColorRole.Dark: "#101214",
    QPalette.ColorRole.Light: "#3a3f45", QPalette.ColorRole.Midlight: "#30343a", QPalette.ColorRole.Shadow: "#000000",
}
_LIGHT = {
    QPalette.ColorRole.Window: "#f3f4f6", QPalette.ColorRole.WindowText: "#1f2328",
    QPalette.ColorRole.Base: "#ffffff", QPalette.ColorRole.AlternateBase: "#f6f8fa",
    QPalette.ColorRole.Text: "#1f2328", QPalette.ColorRole.Button: "#eceef1",
    QPalette.ColorRole.ButtonText: "#1f2328", QPalette.ColorRole.Highlight: "#2f6db5",
    QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#ffffe1",
    QPalette.ColorRole.ToolTipText: "#1f2328", QPalette.ColorRole.PlaceholderText: "#6b7280",
    QPalette.ColorRole.Link: "#0b5cad", QPalette.ColorRole.Mid: "#c4c8ce", QPalette.ColorRole.Dark: "#9aa0a8",
    QPalette.ColorRole.Light: "#ffffff", QPalette.ColorRole.Midlight: "#e3e5e8", QPalette.ColorRole.Shadow: "#6b7280",
}


def make_palette(scheme: str) -> QPalette:
    pal = QPalette()
    for role, colour in (_DARK if scheme == DARK else _LIGHT).items():
        pal.setColor(role, QColor(colour))
    disabled = QColor("#6b7178" if scheme == DARK else "#a0a5ab")
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return pal


def system_scheme() -> str:
    hints = QGuiApplication.styleHints()
    if hasattr(hints, "colorScheme") and hints.colorScheme() == Qt.ColorScheme.Dark:
        return DARK
    return LIGHT


class ThemeManager(QObject):
    """Applies the chosen theme to the application and re-applies when the OS scheme changes."""

    applied = Signal(str)  # the effective scheme: light or dark

    def __init__(self, app: QApplication, theme: str = "system", parent=None) -> None:
        super().__init__(parent)
        self.app = app
        self.theme = theme
        self.effective: str | None = None
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            hints.colorSchemeChanged.connect(self._on_hints_color_scheme_changed)
        self.apply(theme)

    def apply(self, theme: str, os_scheme: str | None = None) -> str:
        """Apply light, dark or system (the OS scheme: given, or read from the style hints)."""
        self.theme = theme
        scheme = (os_scheme or system_scheme()) if theme == "system" else theme
        if scheme != self.effective:
            self.effective = scheme
            # Fusion draws every widget from the palette, so a dark palette is dark everywhere.
            if self.app.style().name().lower() != "fusion":
                self.app.setStyle("Fusion")
            self.app.setPalette(make_palette(scheme))
            # Style sheets resolve palette(...) when a widget is polished: those are set again.
            # (Every widget repaints on its own: the new palette sends each a PaletteChange.)
            repolish()
            self.applied.emit(scheme)
        return scheme

    def _on_hints_color_scheme_changed(self, scheme) -> None:
        if self.theme == "system":
            self.apply("system", DARK if scheme == Qt.ColorScheme.Dark else LIGHT)

    def close(self) -> None:
        """Stop following the OS scheme (the application outlives this manager in tests)."""
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            try:
                hints.colorSchemeChanged.disconnect(self._on_hints_color_scheme_changed)
            except (RuntimeError, TypeError):
                pass

    def on_settings_changed(self, settings, names) -> None:
        if "theme" in names:
            self.apply(settings.theme)
