"""Settings → Engines: every engine Pilothouse follows, in a table with its live state, and the
actions people expect (add, edit, remove, test the connection, make it the one the window opens on).

The table edits the saved list in Settings straight away (an engine list is not a form to fill in
and save); the engines wing follows the list as it changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QPushButton, QSizePolicy,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from desktop.engine.endpoints import Endpoint
from desktop.engine.errors import EngineError, InvalidInputError
from desktop.engine.saved_engines import SavedEngine, endpoint_details, endpoint_kind
from desktop.state.settings import SettingsStore
from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.dialogs import confirm
from desktop.ui.widgets.message_bar import MessageBar
from desktop.ui.widgets.plain_text import plain_tooltip

COLUMNS = ("Name", "Address", "Kind", "State", "TLS / SSH")
STATE_TEXT = {"connected": "● Connected", "connecting": "◌ Connecting…", "reconnecting": "◌ Reconnecting…",
              "unreachable": "✕ Unreachable"}  # a mark as well as a word: never colour alone


@dataclass(frozen=True)
class EngineRow:
    name: str
    address: str
    kind: str
    details: str
    details_full: str
    saved: SavedEngine | None  # None: found by discovery, a docker context, or the VM
    source: str


class EnginesTable(QWidget):
    """`value()` is the saved list shown (tests and the Settings page read it); `tested(name,
    sentence, ok)` after each connection test."""

    tested = Signal(str, str, bool)
    primary_made = Signal(str)  # an engine followed now became the primary: the window shows it

    def __init__(self, store: SettingsStore, engines=None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("enginesTable")
        self.store = store
        self.engines = engines  # the EngineRegistry (None: list the saved engines only)
        self.tasks = TaskSet()
        self.rows: list[EngineRow] = []
        self.dialog = None
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setTabKeyNavigation(False)  # Tab leaves the table (arrows move between cells)
        self.table.setObjectName("enginesList")
        self.table.setAccessibleName("Engines")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # both ends of a path say something
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        head = self.table.horizontalHeader()
        head.setMinimumSectionSize(60)
        for col, mode in enumerate((QHeaderView.ResizeMode.Interactive, QHeaderView.ResizeMode.Stretch,
                                    QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.ResizeToContents,
                                    QHeaderView.ResizeMode.Stretch)):
            head.setSectionResizeMode(col, mode)
        self.table.setColumnWidth(0, 140)
        self.table.setMinimumHeight(120)
        self.table.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemActivated.connect(lambda _item: self.edit_selected())

        self.buttons: dict[str, QPushButton] = {}
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for key, label, tip, slot in (
                ("add", "Add…", "Add an engine: a local socket, ssh:// or tcp:// with TLS", self.add),
                ("edit", "Edit…", "Change the selected engine's name, address or files", self.edit_selected),
                ("remove", "Remove…", "Stop following the selected engine (asks first)", self.remove_selected),
                ("test", "Test connection", "Connect once and say what answered", self.test_selected),
                ("primary", "Make primary", "Show this engine now, and open Pilothouse on it at every start", self.make_primary)):
            b = QPushButton(label)
            b.setObjectName(f"engines_{key}")
            b.setToolTip(tip)
            b.setAccessibleName(tip.split(":")[0] if key == "add" else f"{label.rstrip('…')} the selected engine")
            b.clicked.connect(slot)
            self.buttons[key] = b
            bar.addWidget(b)
        bar.addStretch(1)
        self.message = MessageBar(self)
        self.message.setObjectName("enginesMessage")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.table)
        lay.addLayout(bar)
        lay.addWidget(self.message)

        self._followed: list = []
        self._stale = False  # an engine's state changed while the table was hidden
        store.changed.connect(self._on_store_changed)
        if engines is not None:
            engines.added.connect(self._on_engines_added)
            engines.removed.connect(self._on_engines_removed)
            for s in engines.sessions:
                self._follow_status(s)
        self.refresh()

    # -- what is shown -----------------------------------------------------------------------------
    def value(self) -> tuple[SavedEngine, ...]:
        return tuple(self.store.current.engines)

    def _session_for(self, row: EngineRow):
        if self.engines is None:
            return None
        s = self.engines.get(row.name)
        return s if s is not None and row.address in {e.host for e in s.endpoints} else None

    def _all_rows(self) -> list[EngineRow]:
        saved = list(self.store.current.engines)
        rows = []
        names = {e.name for e in saved}
        for s in self.engines.sessions if self.engines is not None else ():
            if s.key in names:
                continue
            ep: Endpoint = s.endpoints[0]
            rows.append(EngineRow(s.key, ep.host, endpoint_kind(ep), endpoint_details(ep),
                                  SavedEngine.from_endpoint(ep).details_full(), None, ep.source))
        for e in saved:
            rows.append(EngineRow(e.name, e.address, e.kind, e.details(), e.details_full(), e, "settings"))
        return rows

    def primary_name(self) -> str:
        """The engine the window opens on: the one chosen in Settings, else the discovered one."""
        chosen = self.store.current.primary_engine
        if chosen and any(r.name == chosen for r in self.rows):
            return chosen
        if self.engines is not None and self.engines.primary is not None:
            return self.engines.primary.key
        return ""

    def state_of(self, row: EngineRow) -> tuple[str, str]:
        """(cell text, tooltip) of an engine's live state."""
        s = self._session_for(row)
        if s is None:
            if row.saved is not None:
                try:
                    row.saved.endpoint()
                except InvalidInputError as err:
                    return "✕ Not followed", f"Not followed: {err}"
            return "— Not followed", "Pilothouse follows it from the next start, or after an edit."
        st = s.status.current
        text = STATE_TEXT.get(st.state, st.state)
        tip = st.message or (f"Engine {st.info.version} on {st.info.os}" if st.info else text.split(" ", 1)[-1])
        return text, tip

    def refresh(self) -> None:
        self._stale = False
        keep = self.selected_name()
        self.rows = self._all_rows()
        primary = self.primary_name()
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            state, state_tip = self.state_of(row)
            source = "saved in Settings" if row.saved is not None else {
                "default": "found on this machine", "--host": "given with --host", "DOCKER_HOST": "from DOCKER_HOST",
                "vm": "the bundled VM"}.get(row.source, row.source.replace("context ", "docker context "))
            name = row.name + (" (primary)" if row.name == primary else "")
            cells = ((name, f"{row.name}: {source}" + ("; the window opens on it" if row.name == primary else "")),
                     (row.address, row.address), (row.kind, row.kind), (state, state_tip),
                     (row.details or "—", row.details_full or "No TLS or SSH files"))
            for c, (text, tip) in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tooltip(tip))  # elided cells: the whole text is one hover away
                item.setData(Qt.ItemDataRole.UserRole, row.name)
                if c == 0 and row.name == primary:
                    f = QFont(item.font())
                    f.setBold(True)
                    item.setFont(f)
                self.table.setItem(r, c, item)
        if keep is not None:
            self.select(keep)
        self._update_buttons()

    def selected_row(self) -> EngineRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows and rows[0].row() < len(self.rows) else None

    def selected_name(self) -> str | None:
        row = self.selected_row()
        return row.name if row is not None else None

    def select(self, name: str) -> bool:
        for r, row in enumerate(self.rows):
            if row.name == name:
                self.table.selectRow(r)
                return True
        return False

    def _update_buttons(self) -> None:
        row = self.selected_row()
        saved = row is not None and row.saved is not None
        self.buttons["edit"].setEnabled(saved)
        self.buttons["remove"].setEnabled(saved)
        self.buttons["remove"].setToolTip(
            "Stop following the selected engine (asks first)" if saved or row is None else
            f"{row.name} was not added here ({self._source_words(row)}): it cannot be removed from this list")
        self.buttons["test"].setEnabled(row is not None)
        self.buttons["primary"].setEnabled(row is not None and row.name != self.primary_name())

    @staticmethod
    def _source_words(row: EngineRow) -> str:
        return {"default": "found on this machine", "vm": "the bundled VM"}.get(row.source, row.source)

    # -- following the engines' states -----------------------------------------------------------
    def _follow_status(self, session) -> None:
        session.status.changed.connect(self._on_status_changed)
        self._followed.append(session)

    def _on_engines_added(self, session) -> None:
        self._follow_status(session)
        self.refresh()

    def _on_engines_removed(self, session) -> None:
        if session in self._followed:
            session.status.changed.disconnect(self._on_status_changed)
            self._followed.remove(session)
        self.refresh()

    def _on_status_changed(self, _state) -> None:
        # Engines' states change at every reconnect; a table nobody sees is brought up to date
        # when it is shown, not rebuilt each time.
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def _on_store_changed(self, _settings, names) -> None:
        if "engines" in names or "primary_engine" in names:
            self.refresh()

    # -- actions -------------------------------------------------------------------------------------
    def _taken(self, but: str | None = None) -> tuple[set[str], dict[str, str]]:
        names = {r.name for r in self.rows if r.name != but}
        hosts = {r.address: r.name for r in self.rows if r.name != but}
        return names, hosts

    def add(self):
        from desktop.ui.engines.add_engine_dialog import AddEngineDialog  # the SDK: only when asked

        names, hosts = self._taken()
        dlg = self.dialog = AddEngineDialog(names, self.window(), hosts)
        dlg.engine_added.connect(self._on_dialog_engine_added)
        dlg.open()
        return dlg

    def edit_selected(self):
        row = self.selected_row()
        if row is None or row.saved is None:
            return None
        from desktop.ui.engines.add_engine_dialog import AddEngineDialog

        names, hosts = self._taken(but=row.name)
        dlg = self.dialog = AddEngineDialog(names, self.window(), hosts, initial=row.saved)
        dlg.engine_added.connect(lambda ep, old=row.saved: self._on_dialog_engine_edited(old, ep))
        dlg.open()
        return dlg

    def _save(self, engines, **more) -> bool:
        try:
            self.store.update(engines=tuple(engines), **more)
        except OSError as exc:
            self.message.show_error(f"The engines could not be saved to {self.store.path}: {exc.strerror or exc}.")
            return False
        return True

    def _on_dialog_engine_added(self, ep: Endpoint) -> None:
        entry = SavedEngine.from_endpoint(ep)
        if self._save(self.store.current.engines + (entry,)):
            self.select(entry.name)
            self.message.show_info(f"{entry.name} answered and is followed now.")

    def _on_dialog_engine_edited(self, old: SavedEngine, ep: Endpoint) -> None:
        entry = SavedEngine.from_endpoint(ep)
        engines = tuple(entry if e == old else e for e in self.store.current.engines)
        more = {"primary_engine": entry.name} if self.store.current.primary_engine == old.name else {}
        if self._save(engines, **more):
            self.select(entry.name)
            self.message.show_info(f"{entry.name} saved; it is followed at its new address." if entry.address != old.address
                                   else f"{entry.name} saved.")

    def remove_selected(self):
        row = self.selected_row()
        if row is None or row.saved is None:
            return None
        return self.tasks.spawn(self._remove(row))

    async def _remove(self, row: EngineRow) -> bool:
        files = row.saved.details_full()
        what = ("Pilothouse stops following it and forgets its address"
                + (" and which TLS/SSH files it uses (the files stay on disk)" if files else "")
                + ". Its containers, images and volumes stay on the engine.")
        ok, _ = await confirm(self, "Remove the engine?", f"Remove {row.name} ({row.address})?", "Remove", details=what)
        if not ok:
            return False
        more = {"primary_engine": ""} if self.store.current.primary_engine == row.name else {}
        if self._save(tuple(e for e in self.store.current.engines if e.name != row.name), **more):
            self.message.show_info(f"{row.name} was removed; Pilothouse no longer follows it.")
            return True
        return False

    def test_selected(self):
        row = self.selected_row()
        if row is None:
            return None
        return self.tasks.spawn(self._test(row))

    async def _test(self, row: EngineRow) -> tuple[str, bool]:
        from desktop.engine.client import EngineClient  # the SDK: only when asked

        self.buttons["test"].setEnabled(False)
        self.message.show_info(f"Connecting to {row.name} at {row.address}…")
        try:
            if row.saved is not None:
                ep = row.saved.endpoint()
            else:
                s = self.engines.get(row.name) if self.engines is not None else None
                ep = s.endpoints[0]
        except InvalidInputError as err:
            sentence, ok = f"{row.name} cannot be reached as saved: {err}", False
        else:
            client = EngineClient([ep], max_workers=2)  # its calls run in its own worker threads
            try:
                info = await client.connect()
            except EngineError as err:
                sentence, ok = f"{row.name} did not answer: {err}", False
            else:
                sentence, ok = (f"{row.name} answered: engine {info.version} on {info.os} ({info.ncpu} CPUs, "
                                f"{info.arch}).", True)
            finally:
                await client.aclose()
        if ok:
            self.message.show_info(sentence)
        else:
            self.message.show_error(sentence)
        self._update_buttons()
        self.tested.emit(row.name, sentence, ok)
        return sentence, ok

    def make_primary(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        if self.engines is not None and self.engines.sessions and row.name == self.engines.sessions[0].key:
            chosen = ""  # the discovered engine: discovery picks it anyway
        else:
            chosen = row.name
        # Now, as Docker Desktop's context switch is: the engine is shown at once (when it is
        # followed), and remembered for the next start.
        now = self._session_for(row) is not None and self.engines.set_primary(row.name)
        try:
            self.store.update(primary_engine=chosen)
        except OSError as exc:
            self.message.show_error(f"The choice could not be saved to {self.store.path}: {exc.strerror or exc}.")
            return
        if now:
            self.primary_made.emit(row.name)
            self.message.show_info(f"{row.name} is the primary engine now; Pilothouse opens on it at every start.")
        else:
            self.message.show_info(f"Pilothouse opens on {row.name} from the next start (it is not followed now).")
        self.refresh()

    async def aclose(self) -> None:
        await self.tasks.cancel_all()
