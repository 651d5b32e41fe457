"""The Settings page: every preference in sections, errors shown beside the field that is wrong."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QPlainTextEdit, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout, QWidget)

from desktop.state.settings import THEMES, Settings, SettingsStore, validate_field
from desktop.ui.widgets.message_bar import MessageBar
from desktop.ui.widgets.palette_sheet import set_sheet

# (field, label, kind, help) grouped by section; kind: bool, int, theme, engines
SECTIONS: tuple[tuple[str, tuple[tuple[str, str, str, str], ...]], ...] = (
    ("Engines", (
        ("engines", "Engines", "engines",
         "Every engine Pilothouse follows. Changes here apply at once; an engine is pinged before it is added."),
    )),
    ("Appearance", (
        ("theme", "Theme", "theme", "System follows your desktop's light or dark scheme as it changes."),
    )),
    ("Window and notifications", (
        ("notifications", "Show desktop notifications", "bool", ""),
        ("start_minimised", "Start minimised to the tray", "bool", ""),
        ("close_to_tray", "Keep running in the tray when the window closes", "bool", ""),
    )),
    ("VM resources", (
        ("vm_cpus", "CPUs", "int", ""),
        ("vm_memory_mib", "Memory (MiB)", "int", ""),
        ("vm_disk_gib", "Disk (GiB)", "int", "Applies the next time the VM starts."),
        ("vm_sleep_minutes", "Sleep after idle (minutes)", "int",
         "No engine traffic and no running container this long: the VM sleeps. 0 or off: never."),
    )),
    ("History", (
        ("history_cap_mb", "Disk space for history (MB)", "int",
         "The timeline, stats history and crash reports; the oldest go first beyond this."),
    )),
    ("Debugging", (
        ("debug_toolbox", "Debug toolbox image", "image",
         "A debug shell runs from this image beside the container. Empty: the engine's busybox image."),
    )),
    ("Confirmations", (
        ("confirm_destructive", "Ask before removing, killing or deleting", "bool", ""),
    )),
)


class SettingsPage(QWidget):
    """Sidebar page `settings`: edits a SettingsStore; Save validates every field first."""

    def __init__(self, store: SettingsStore, parent=None, engines=None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsPage")
        self.store = store
        self.engines = engines  # the EngineRegistry: the engine table shows each one's live state
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.helps: dict[str, QLabel] = {}  # a row's help line (a feature may add a figure to it)

        title = QLabel("Settings")
        title.setObjectName("pageTitle")
        set_sheet(title, "font-size: 16pt; font-weight: 600;")
        self.message = MessageBar(self)
        self.message.setObjectName("settingsMessage")

        body = QWidget()
        bl = QVBoxLayout(body)
        for section, rows in SECTIONS:
            box = QGroupBox(section)
            # never squeezed below its height (the scroll area scrolls instead); the width
            # follows the window, so help lines wrap rather than widen the page
            box.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
            for name, label, kind, help_text in rows:
                editor = self._make_editor(name, label, kind)
                self.editors[name] = editor
                err = QLabel()
                err.setObjectName(f"error_{name}")
                set_sheet(err, "color: #b3261e;")
                err.setWordWrap(True)
                err.hide()
                self.errors[name] = err
                cell = QWidget()
                # the whole field width: the help under a narrow editor must not wrap to its width
                cell.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
                cl = QVBoxLayout(cell)
                cl.setContentsMargins(0, 0, 0, 0)
                cl.setSpacing(2)
                if kind in ("theme", "bool"):
                    cl.addWidget(editor, 0, Qt.AlignmentFlag.AlignLeft)
                else:
                    cl.addWidget(editor)
                cl.addWidget(err)
                if help_text:
                    h = QLabel(help_text)
                    h.setWordWrap(True)  # a long help line wraps instead of widening the page
                    h.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
                    self.helps[name] = h
                    set_sheet(h, "color: palette(placeholder-text); font-size: 9pt;")
                    cl.addWidget(h)
                if kind == "engines":
                    form.addRow(cell)  # the table spans the box; its title names it
                else:
                    form.addRow("" if kind == "bool" else label + ":", cell)
            bl.addWidget(box)
        bl.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("settingsScroll")
        scroll.setWidgetResizable(True)
        # The page scrolls down, never sideways: every row is laid out to the window's width.
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll = scroll
        scroll.setWidget(body)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)

        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("saveSettings")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self.save_button.setToolTip("Save (Ctrl+S)")
        QShortcut(QKeySequence.StandardKey.Save, self, self.save)
        self.revert_button = QPushButton("Revert")
        self.revert_button.setObjectName("revertSettings")
        self.revert_button.clicked.connect(self.load)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)

        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(self.message)
        lay.addWidget(scroll, 1)
        lay.addLayout(buttons)

        self._apply_host_limits()
        self.load()
        store.changed.connect(self._on_store_changed)
        if store.load_problems:
            self.message.show_error("Some saved settings were not valid and were reset to their defaults: "
                                    + " ".join(store.load_problems.values()))

    def _make_editor(self, name: str, label: str, kind: str) -> QWidget:
        if kind == "bool":
            w = QCheckBox(label)
        elif kind == "theme":
            w = QComboBox()
            for t in THEMES:
                w.addItem(t.capitalize(), t)
        elif kind == "engines":
            from desktop.ui.desk.engines_table import EnginesTable

            w = self.engines_table = EnginesTable(self.store, self.engines)
        elif kind == "image":
            w = QLineEdit()
            w.setPlaceholderText("automatic (busybox)")
            w.editingFinished.connect(lambda n=name: self._check_one(n))
        else:
            w = QLineEdit()
            w.setMaximumWidth(160)
            w.editingFinished.connect(lambda n=name: self._check_one(n))
        w.setObjectName(f"setting_{name}")
        w.setAccessibleName(label)
        return w

    def _apply_host_limits(self) -> None:
        try:
            lim = self.store.limits()
        except Exception:  # noqa: BLE001 - limits are a hint; validation still happens on save
            return
        self.editors["vm_cpus"].setToolTip(f"1 to {lim.cpus} (this host's CPUs)")
        self.editors["vm_memory_mib"].setToolTip(f"512 to {lim.memory_mib} MiB")
        self.editors["vm_disk_gib"].setToolTip(f"4 to {max(lim.disk_free_gib, 4)} GiB free")

    # -- reading and writing the editors ---------------------------------------------------------
    def load(self) -> None:
        s = self.store.current
        for name, w in self.editors.items():
            v = getattr(s, name)
            if isinstance(w, QCheckBox):
                w.setChecked(bool(v))
            elif isinstance(w, QComboBox):
                w.setCurrentIndex(max(0, w.findData(v)))
            elif isinstance(w, QPlainTextEdit):
                w.setPlainText("\n".join(v))
            elif hasattr(w, "refresh"):
                w.refresh()
            else:
                w.setText(str(v))
        for err in self.errors.values():
            err.hide()

    def value_of(self, name: str) -> Any:
        w = self.editors[name]
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QPlainTextEdit):
            return w.toPlainText()
        if hasattr(w, "value"):
            return w.value()
        return w.text()

    def set_value(self, name: str, value: Any) -> None:
        """Set an editor as a user would (tests and the palette use it)."""
        w = self.editors[name]
        if isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QComboBox):
            w.setCurrentIndex(w.findData(value))
        elif isinstance(w, QPlainTextEdit):
            w.setPlainText(value if isinstance(value, str) else "\n".join(value))
        elif hasattr(w, "value"):  # the engine table saves as it changes, as its buttons do
            self.store.update(**{name: value})
        else:
            w.setText(str(value))

    def _show_error(self, name: str, text: str | None) -> None:
        lab = self.errors[name]
        lab.setText(text or "")
        lab.setVisible(bool(text))

    def _check_one(self, name: str) -> None:
        limits = self.store.limits() if name.startswith("vm_") else None
        _, err = validate_field(name, self.value_of(name), limits)
        self._show_error(name, err)

    def save(self) -> bool:
        """Validate every field; show each problem beside its field; save only when all are good."""
        limits = self.store.limits()
        changes, bad = {}, {}
        for name in self.editors:
            v, err = validate_field(name, self.value_of(name), limits if name.startswith("vm_") else None)
            self._show_error(name, err)
            if err:
                bad[name] = err
            else:
                changes[name] = v
        if bad:
            self.message.show_error(f"{len(bad)} setting{'s' if len(bad) > 1 else ''} need fixing before saving.")
            first = next(iter(bad))
            self.editors[first].setFocus(Qt.FocusReason.OtherFocusReason)
            return False
        try:
            self.store.update(**changes)
        except OSError as exc:
            self.message.show_error(f"The settings could not be saved to {self.store.path}: {exc.strerror or exc}.")
            return False
        self.message.show_info("Settings saved.")
        return True

    def _on_store_changed(self, settings: Settings, names: list[str]) -> None:
        if set(names) <= {"engines", "primary_engine"}:
            return  # the engine table follows those itself; other unsaved edits stay
        self.load()
