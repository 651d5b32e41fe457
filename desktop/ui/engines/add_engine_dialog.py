"""Add an engine: check the typed address, ping it, and say plainly why it failed."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QVBoxLayout, QWidget)

from desktop.engine.client import EngineClient
from desktop.engine.endpoint_input import FieldError, engine_from_input
from desktop.engine.endpoints import Endpoint
from desktop.engine.errors import EngineError
from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.plain_text import plain_label
from desktop.ui.widgets.dialogs import open_file_dialog
from desktop.ui.widgets.palette_sheet import set_sheet

FIELDS = (
    ("name", "Name", "build-server"),
    ("address", "Address", "unix:///var/run/docker.sock, ssh://me@host, tcp://host:2376"),
    ("tls_ca", "TLS CA certificate", "tcp:// only: ca.pem"),
    ("tls_cert", "TLS client certificate", "tcp:// only: cert.pem"),
    ("tls_key", "TLS client key", "tcp:// only: key.pem"),
    ("ssh_identity", "SSH identity file", "ssh:// only (default: your ssh config)"),
    ("ssh_known_hosts", "SSH known_hosts file", "ssh:// only (default: ~/.ssh/known_hosts)"),
)
FILE_FIELDS = {"tls_ca", "tls_cert", "tls_key", "ssh_identity", "ssh_known_hosts"}


class AddEngineDialog(QDialog):
    """Emits `engine_added(Endpoint)` once the engine answered a ping. With `initial` (a saved
    engine, or anything with its fields) the same form edits that engine, filled in."""

    engine_added = Signal(object)

    def __init__(self, taken_names: set[str], parent=None, taken_hosts: dict[str, str] | None = None,
                 initial=None) -> None:
        super().__init__(parent)
        self.setObjectName("addEngineDialog")
        self.setWindowTitle("Add an engine" if initial is None else f"Edit the engine {initial.name}")
        self.initial = initial
        self.taken = set(taken_names) - ({initial.name} if initial is not None else set())
        self.taken_hosts = {h: n for h, n in (taken_hosts or {}).items()
                            if initial is None or h != initial.address}
        self.tasks = TaskSet()
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        for key, label, hint in FIELDS:
            edit = QLineEdit()
            edit.setObjectName(f"field_{key}")
            edit.setPlaceholderText(hint)
            edit.setAccessibleName(label)
            err = QLabel()
            err.setObjectName(f"error_{key}")
            set_sheet(err, "color: #b3261e;")
            err.setWordWrap(True)
            err.hide()
            edit.textChanged.connect(lambda _t, e=err: e.hide())
            row = QWidget()
            h = QHBoxLayout(row)
            h.setContentsMargins(0, 0, 0, 0)
            h.addWidget(edit, 1)
            if key in FILE_FIELDS:
                browse = QPushButton("Browse…")
                browse.setToolTip(f"Choose the {label.lower()}")
                browse.clicked.connect(lambda _=False, e=edit, t=label: self._browse(e, t))
                h.addWidget(browse)
            col = QWidget()
            v = QVBoxLayout(col)
            v.setContentsMargins(0, 0, 0, 0)
            v.setSpacing(2)
            v.addWidget(row)
            v.addWidget(err)
            form.addRow(label, col)
            self.edits[key], self.errors[key] = edit, err
            if initial is not None:
                edit.setText(getattr(initial, key, "") or "")
        self.result_label = plain_label()
        self.result_label.setObjectName("engineTestResult")
        self.result_label.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.add_button = self.buttons.addButton("Add engine" if initial is None else "Save engine",
                                                 QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)  # made second: Tab reaches it second too
        self.add_button.setObjectName("addEngineButton")
        self.add_button.setToolTip("Check the address, connect once, and add the engine if it answers")
        self.buttons.accepted.connect(self._on_add_clicked)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.result_label)
        lay.addWidget(self.buttons)
        self.resize(640, 0)

    def _browse(self, edit: QLineEdit, title: str) -> None:
        dlg = QFileDialog(self, f"Choose the {title.lower()}")
        dlg.setFileMode(QFileDialog.FileMode.ExistingFile)
        dlg.fileSelected.connect(edit.setText)
        open_file_dialog(dlg)

    def show_error(self, field: str, message: str) -> None:
        label = self.errors.get(field) or self.errors["address"]
        label.setText(message)
        label.show()

    def endpoint(self) -> Endpoint:
        """The typed engine, or FieldError (also shown beside its field)."""
        values = {k: e.text() for k, e in self.edits.items()}
        try:
            return engine_from_input(values.pop("name"), values.pop("address"), taken_names=self.taken,
                                     taken_hosts=self.taken_hosts, **values)
        except FieldError as err:
            self.show_error(err.field, str(err))
            raise

    def _on_add_clicked(self) -> None:
        try:
            ep = self.endpoint()
        except FieldError:
            return
        self.tasks.spawn(self._ping_then_add(ep))

    async def _ping_then_add(self, ep: Endpoint) -> None:
        self.add_button.setEnabled(False)
        self.result_label.setText(f"Connecting to {ep.host}…")
        client = EngineClient([ep], max_workers=2)
        try:
            info = await client.connect()
        except EngineError as err:
            self.result_label.setText("")
            self.show_error("address", str(err))
            return
        finally:
            await client.aclose()
            self.add_button.setEnabled(True)
        self.result_label.setText(f"Connected: engine {info.version} on {info.os} ({info.ncpu} CPUs).")
        self.engine_added.emit(ep)
        self.accept()

    async def aclose(self) -> None:
        await self.tasks.cancel_all()
        await asyncio.sleep(0)
