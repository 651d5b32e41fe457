"""The bundled VM's panel: state, accelerator and why, boot progress, resources, start/stop."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QFormLayout, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout,
                               QWidget)

from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.message_bar import MessageBar
from desktop.ui.widgets.plain_text import plain_label
from desktop.ui.widgets.palette_sheet import set_sheet

STATE_TEXT = {"stopped": "Stopped", "starting": "Starting…", "running": "Running", "stopping": "Stopping…",
              "crashed": "Crashed", "sleeping": "Sleeping — the next engine request wakes it"}


class VMPanel(QWidget):
    """Sidebar page `vm`. `control` is the app's VMControl (start/stop/restart + status)."""

    action_requested = Signal(str)

    def __init__(self, control, resources_text, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("vmPanel")
        self.control = control
        self.resources_text = resources_text
        self.tasks = TaskSet()
        self._reads_started = 0
        self._reads_shown = 0
        self._closed = False
        title = QLabel("Virtual machine")
        title.setObjectName("pageTitle")
        set_sheet(title, "font-size: 16pt; font-weight: 600;")
        intro = QLabel("A small Linux VM (QEMU) that runs its own Docker engine, reached only over mutual TLS. "
                       "It is what macOS and Windows use; on Linux it is there if you want an isolated engine.")
        intro.setWordWrap(True)
        self.message = MessageBar(self)
        self.state_label = plain_label()
        self.state_label.setObjectName("vmState")
        self.accel_label = plain_label()
        self.accel_label.setObjectName("vmAccelerator")
        self.accel_label.setWordWrap(True)
        self.endpoint_label = plain_label()
        self.endpoint_label.setObjectName("vmEndpoint")
        self.resources_label = plain_label()
        self.resources_label.setObjectName("vmResources")
        form = QFormLayout()
        form.addRow("State", self.state_label)
        form.addRow("Accelerator", self.accel_label)
        form.addRow("Engine", self.endpoint_label)
        form.addRow("Resources", self.resources_label)
        from desktop.ui.vm.vm_image_box import VMImageBox, VMUsage

        self.usage = VMUsage(control.manager)  # the running VM's CPU, memory and disk
        form.addRow("Usage", self.usage)
        self.image_box = VMImageBox(control.manager)  # bundled or built, version, size; Build / Update
        self.image_box.build_finished.connect(lambda _ok, _text: self.refresh())
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for action, label, tip in (("start", "Start", "Resume the saved VM (or boot it) and connect to its engine"),
                                   ("stop", "Stop", "Save the VM's state and stop it: the next start resumes in "
                                                    "seconds, with its containers running"),
                                   ("shutdown", "Shut down", "Power the VM off cleanly (ACPI): the next start "
                                                             "boots from scratch"),
                                   ("restart", "Restart", "Shut down, then boot again (applies resource changes)"),
                                   ("wake", "Wake", "Wake the sleeping VM now (any engine request also wakes it)")):
            b = QPushButton(label)
            b.setObjectName(f"vm_{action}")
            b.setToolTip(tip)
            b.setAccessibleName(f"{label} the VM")
            b.clicked.connect(lambda _=False, a=action: self.run(a))
            self.buttons[action] = b
            row.addWidget(b)
        row.addStretch(1)
        self.console = QPlainTextEdit()
        self.console.setObjectName("vmConsole")
        self.console.setReadOnly(True)
        self.console.setMaximumBlockCount(400)
        self.console.setFont(QFont("monospace"))
        self.console.setAccessibleName("VM console")
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(intro)
        lay.addWidget(self.message)
        lay.addLayout(form)
        lay.addLayout(row)
        lay.addWidget(self.image_box)
        lay.addWidget(QLabel("Console (boot progress)"))
        lay.addWidget(self.console, 1)
        # The console file grows while the VM boots; re-read its tail (off the UI thread) while
        # this page is visible. No engine is polled.
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh)
        self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._timer.start()
        self.refresh()
        self.image_box.refresh()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self._timer.stop()

    def refresh(self) -> None:
        if not self._closed:
            self.tasks.spawn(self._refresh())

    async def aclose(self) -> None:
        """No reads after this (the timer may be running: an action starts it)."""
        self._closed = True
        self._timer.stop()
        await self.tasks.cancel_all()
        await self.image_box.tasks.cancel_all()

    async def _refresh(self) -> None:
        # Reads overlap (the timer, and the end of an action); one that began before another
        # may finish after it and would show an older state, with buttons enabled for it.
        self._reads_started += 1
        seq = self._reads_started
        busy_before = self.control.busy
        st = await asyncio.to_thread(self.control.full_status)
        tail = await asyncio.to_thread(self.control.console_tail, 60)
        if seq < self._reads_shown:
            return
        self._reads_shown = seq
        # Busy as it was when the state was read: an action that ended while it was read may
        # have changed the state since.
        busy = busy_before or self.control.busy
        if busy_before and not self.control.busy:
            self.refresh()
        note = getattr(st, "start_note", "")
        shown = "sleeping" if getattr(st, "sleeping", False) else st.state
        self.state_label.setText(STATE_TEXT.get(shown, shown) + (f" — {st.detail}" if st.detail else "")
                                 + (f" ({note})" if note and st.state == "running" else "")
                                 + (" (state saved: Start resumes it)" if st.state == "stopped"
                                    and getattr(st, "saved", False) else ""))
        self.accel_label.setText(f"{st.accelerator or '—'}: {st.accelerator_reason}" if st.accelerator_reason
                                 else (st.accelerator or "chosen when the VM starts"))
        self.endpoint_label.setText(f"{st.docker_host} (mutual TLS, 127.0.0.1 only)" if st.docker_host else "—")
        self.resources_label.setText(self.resources_text())
        # The state's words and its buttons change together, before the figures are read.
        running = st.state in ("running", "starting")
        self.buttons["start"].setEnabled(not running and not busy)
        self.buttons["stop"].setEnabled(running and not busy)
        self.buttons["shutdown"].setEnabled(running and not busy)
        self.buttons["restart"].setEnabled(st.state == "running" and not busy)
        self.buttons["wake"].setEnabled(shown == "sleeping" and not busy)
        self.buttons["wake"].setVisible(shown == "sleeping")
        text = "\n".join(tail)
        if text != self.console.toPlainText():
            self.console.setPlainText(text)
            self.console.verticalScrollBar().setValue(self.console.verticalScrollBar().maximum())
        await self.usage.update_from(st)

    def run(self, action: str) -> None:
        self.action_requested.emit(action)
        self.tasks.spawn(self._run(action))

    async def _run(self, action: str) -> None:
        for b in self.buttons.values():
            b.setEnabled(False)
        self.message.show_info({"start": "Starting the VM…", "stop": "Stopping the VM…",
                                "shutdown": "Shutting the VM down…", "restart": "Restarting the VM…",
                                "wake": "Waking the VM…"}[action])
        self._timer.start()
        try:
            say = lambda m: self.message.show_info(f"VM: {m}")  # noqa: E731
            if action == "start":  # here the user sees progress: build the image if there is none
                await self.control.start(progress=say, get_image=True)
            else:
                await getattr(self.control, action)(progress=say)
        except Exception as exc:  # noqa: BLE001 - VMError and friends carry sentences
            self.message.show_error(f"The VM could not {action}: {exc}")
        else:
            self.message.show_info({"start": "The VM is running; its engine is listed as “pilothouse”.",
                                    "stop": "The VM is stopped.", "shutdown": "The VM is shut down.",
                                    "restart": "The VM restarted.", "wake": "The VM is awake."}[action])
        await self._refresh()
        self.image_box.refresh()
