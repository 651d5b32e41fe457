"""A non-blocking form dialog: fields with a sentence beside each when it is wrong.

`submit(values)` is a coroutine run when the user presses OK; it raises FormErrors (field →
sentence) or SpecError/EngineError (shown at the bottom) to keep the dialog open, or returns the
result that `await dialog.ask()` then gives back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QSizePolicy, QVBoxLayout, QWidget)

from desktop.engine.errors import EngineError
from desktop.engine.run_request import FormErrors
from desktop.engine.specs import SpecError
from desktop.ui.widgets.accessible_names import name_inner_controls
from desktop.ui.widgets.dialogs import choose_path
from desktop.ui.widgets.palette_sheet import set_sheet

ERROR_STYLE = "color: #b42318;"


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: str = "line"  # line, text, check, combo, choice (a fixed list), password, folder, open_file, save_file
    placeholder: str = ""
    default: Any = ""
    choices: Sequence[str] = ()
    help: str = ""


class FormDialog(QDialog):
    def __init__(self, parent: QWidget | None, title: str, fields: Sequence[Field], ok_text: str,
                 submit: Callable[[dict], Awaitable[Any]], *, intro: str = "", object_name: str = "formDialog") -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        self._submit = submit
        self._future: asyncio.Future | None = None
        self._task: asyncio.Task | None = None
        self.inputs: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        for f in fields:
            w = self._make_input(f)
            w.setObjectName(f"{f.key}Field")
            w.setAccessibleName(f.label)
            self.inputs[f.key] = w
            err = QLabel()
            err.setObjectName(f"{f.key}Error")
            set_sheet(err, ERROR_STYLE)
            err.setWordWrap(True)
            err.hide()
            self.errors[f.key] = err
            box = QVBoxLayout()
            box.setSpacing(2)
            box.setContentsMargins(0, 0, 0, 0)
            holder = w if f.kind not in ("folder", "open_file", "save_file") else self._with_browse(w, f)
            box.addWidget(holder)
            if f.help:
                h = QLabel(f.help)
                set_sheet(h, "color: palette(mid); font-size: 9pt;")
                h.setWordWrap(True)
                box.addWidget(h)
            box.addWidget(err)
            cell = QWidget()
            cell.setLayout(box)
            form.addRow("" if f.kind == "check" else f.label, cell)
        self.form_error = QLabel()
        self.form_error.setObjectName("formError")
        set_sheet(self.form_error, ERROR_STYLE)
        self.form_error.setWordWrap(True)
        self.form_error.hide()
        self.status = QLabel()
        self.status.setObjectName("formStatus")
        self.status.hide()
        self.buttons = QDialogButtonBox()
        self.ok_button = self.buttons.addButton(ok_text, QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setObjectName("okButton")
        self.ok_button.setDefault(True)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("cancelButton")
        self.ok_button.clicked.connect(self._on_ok_clicked)
        self.cancel_button.clicked.connect(self.reject)
        self.body = QVBoxLayout()  # subclasses add progress panels here
        lay = QVBoxLayout(self)
        if intro:
            i = QLabel(intro)
            i.setWordWrap(True)
            lay.addWidget(i)
        lay.addLayout(form)
        lay.addLayout(self.body)
        lay.addWidget(self.form_error)
        lay.addWidget(self.status)
        lay.addWidget(self.buttons)
        self.finished.connect(self._on_finished)
        name_inner_controls(self)

    def _make_input(self, f: Field) -> QWidget:
        if f.kind == "text":
            w = QPlainTextEdit()
            w.setPlaceholderText(f.placeholder)
            w.setPlainText(str(f.default or ""))
            w.setTabChangesFocus(True)
            w.setFixedHeight(68)
            return w
        if f.kind == "check":
            w = QCheckBox(f.label)
            w.setChecked(bool(f.default))
            return w
        if f.kind in ("combo", "choice"):
            w = QComboBox()
            w.setEditable(f.kind == "combo")
            w.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            w.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            w.setMinimumContentsLength(20)
            w.addItems(list(f.choices))
            w.setCurrentText(str(f.default or ""))
            if w.lineEdit():
                w.lineEdit().setPlaceholderText(f.placeholder)
            return w
        w = QLineEdit(str(f.default or ""))
        w.setPlaceholderText(f.placeholder)
        if f.kind == "password":
            w.setEchoMode(QLineEdit.EchoMode.Password)
        return w

    def _with_browse(self, line: QWidget, f: Field) -> QWidget:
        holder = QWidget()
        h = QHBoxLayout(holder)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(line, 1)
        b = QPushButton("Browse…")
        b.setObjectName(f"{f.key}Browse")

        mode = {"folder": "folder", "open_file": "open"}.get(f.kind, "save")
        b.clicked.connect(lambda: choose_path(self, f.label, mode, line.setText))
        h.addWidget(b)
        return holder

    # -- values and errors ----------------------------------------------------------------------
    def values(self) -> dict:
        out = {}
        for k, w in self.inputs.items():
            if isinstance(w, QPlainTextEdit):
                out[k] = w.toPlainText()
            elif isinstance(w, QCheckBox):
                out[k] = w.isChecked()
            elif isinstance(w, QComboBox):
                out[k] = w.currentText()
            else:
                out[k] = w.text()
        return out

    def set_value(self, key: str, value: Any) -> None:
        w = self.inputs[key]
        if isinstance(w, QPlainTextEdit):
            w.setPlainText(str(value))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QComboBox):
            w.setCurrentText(str(value))
        else:
            w.setText(str(value))

    def clear_errors(self) -> None:
        for e in self.errors.values():
            e.clear()
            e.hide()
        self.form_error.hide()

    def show_errors(self, errors: dict[str, str]) -> None:
        first = None
        for k, msg in errors.items():
            label = self.errors.get(k)
            if label is None:
                self.form_error.setText(msg)
                self.form_error.show()
                continue
            label.setText(msg)
            label.show()
            first = first or k
        if first:
            self.inputs[first].setFocus()

    def live_check(self, key: str, parse) -> None:
        """Validate a field as it is typed: `parse(text)` raising SpecError puts the sentence beside it."""
        w = self.inputs[key]
        if isinstance(w, QPlainTextEdit):
            signal, text_of = w.textChanged, w.toPlainText
        elif isinstance(w, QComboBox):
            signal, text_of = w.currentTextChanged, w.currentText
        else:
            signal, text_of = w.textChanged, w.text

        def check(*_args) -> None:
            label = self.errors[key]
            try:
                if text_of().strip():
                    parse(text_of())
                label.hide()
            except SpecError as err:
                label.setText(str(err))
                label.show()

        signal.connect(check)

    def set_busy(self, busy: bool, text: str = "") -> None:
        self.ok_button.setEnabled(not busy)
        for w in self.inputs.values():
            w.setEnabled(not busy)
        self.status.setText(text)
        self.status.setVisible(bool(text))

    # -- flow -----------------------------------------------------------------------------------
    async def ask(self) -> Any:
        """Show the dialog; the submit result, or None when cancelled."""
        self._future = asyncio.get_running_loop().create_future()
        self.open()
        return await self._future

    def _on_ok_clicked(self) -> None:
        if self._task is not None and not self._task.done():
            return
        self.clear_errors()
        self._task = asyncio.ensure_future(self._run_submit())

    async def _run_submit(self) -> None:
        self.set_busy(True)
        try:
            result = await self._submit(self.values())
        except FormErrors as err:
            self.show_errors(err.errors)
        except (SpecError, EngineError) as err:
            self.show_errors({"form": str(err)})
        except asyncio.CancelledError:
            raise
        else:
            if self._future is not None and not self._future.done():
                self._future.set_result(result)
            self.accept()
        finally:
            if self.isVisible():
                self.set_busy(False)

    def _on_finished(self, _code: int) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._future is not None and not self._future.done():
            self._future.set_result(None)
