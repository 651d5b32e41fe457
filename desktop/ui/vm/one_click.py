"""The no-engine page's main action: start the bundled VM in one click, or say what to install.

The click gets the image (bundled, cached or built), boots the VM with its boot phases as
progress, and Cancel stops whichever of those runs. When QEMU (or WSL 2) is missing, the exact
install command for this OS is shown, and the folders it would land in are watched (file
system events, no polling), so the button appears as soon as the install finishes.
"""

from __future__ import annotations

import asyncio
import html
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QFileSystemWatcher, Qt, QTimer, Signal
from PySide6.QtWidgets import (QApplication, QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QToolButton,
                               QVBoxLayout, QWidget)

from desktop.state.vm_engine import ENGINE_NAME as CONTEXT_NAME  # the VM writes a docker context of this name
from desktop.system_programs import system_program_env
from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.plain_text import plain_label
from desktop.ui.widgets.palette_sheet import set_sheet

if TYPE_CHECKING:
    from desktop.vm.one_click import Step
    from desktop.vm.readiness import Readiness

PROGRESS_STEPS = 1000


class VMOneClick(QWidget):
    """`check()` returns a Readiness (called off the UI thread); `start(report)` runs the click."""

    started = Signal()
    finished = Signal(bool)  # True: the VM's engine answers

    def __init__(self, check: "Callable[[], Readiness]", start: "Callable[[Callable[[Step], None]], Awaitable[object]]",
                 parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("vmOneClick")
        self._check = check
        self._start = start
        self.tasks = TaskSet()
        self._run_task: asyncio.Task | None = None
        self.readiness: "Readiness | None" = None
        self.checks = 0  # how many times readiness was looked at (tests wait on it)

        self.start_button = QPushButton("Start the bundled VM")
        self.start_button.setObjectName("startVmButton")
        self.start_button.setToolTip("Get the VM image if needed, boot Pilothouse's own Linux VM and use its engine")
        self.start_button.setDefault(True)
        self.start_button.setAutoDefault(True)
        self.start_button.setMinimumHeight(34)
        set_sheet(self.start_button, "QPushButton#startVmButton { font-weight: 600; padding: 4px 18px; }")
        self.start_button.clicked.connect(self._on_start_clicked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelVmButton")
        self.cancel_button.setToolTip("Stop the image build or the boot; nothing half-made is kept")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.intro = QLabel("No engine? Pilothouse brings its own: a small Linux VM with a Docker engine inside, "
                            "reached only by this app over mutual TLS.")
        self.intro.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setObjectName("vmMissing")
        self.problem.setWordWrap(True)
        self.problem.setTextFormat(Qt.TextFormat.RichText)
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem.hide()
        self.copy_button = QPushButton("Copy command")
        self.copy_button.setObjectName("copyInstallCommand")
        self.copy_button.setToolTip("Copy the install command to the clipboard")
        self.copy_button.clicked.connect(self._on_copy_clicked)
        self.copy_button.hide()
        self.progress = QProgressBar()
        self.progress.setObjectName("vmStartProgress")
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setAccessibleName("VM start progress")
        self.progress.hide()
        self.step_label = plain_label()
        self.step_label.setObjectName("vmStartStep")
        self.step_label.setWordWrap(True)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.start_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.copy_button)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.intro)
        lay.addWidget(self.problem)
        lay.addLayout(row)
        lay.addWidget(self.progress)
        lay.addWidget(self.step_label)

        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._on_watcher_directory_changed)
        # An install writes many files in a burst: look once it settles.
        self._recheck = QTimer(self)
        self._recheck.setSingleShot(True)
        self._recheck.setInterval(500)
        self._recheck.timeout.connect(self.recheck)
        self.start_button.setEnabled(False)
        self.recheck()

    # -- is QEMU / WSL there? ---------------------------------------------------------------------
    def recheck(self) -> None:
        self.tasks.spawn(self._recheck_now())

    async def _recheck_now(self) -> None:
        r = await asyncio.to_thread(self._check)
        self.readiness = r
        self.checks += 1
        missing = set(r.watch) - set(self._watcher.directories())
        if missing:
            self._watcher.addPaths(sorted(missing))
        if self.running:
            return
        self.start_button.setEnabled(r.ready)
        self.problem.setVisible(not r.ready)
        self.copy_button.setVisible(not r.ready)
        if not r.ready:
            alt = (f"<br>Or: <code>{html.escape(r.alternative)}</code>" if r.alternative else "")
            self.problem.setText(f"<p style='color:#8a1f14'>{html.escape(r.problem)}</p>"
                                 f"<p>Install it with: <code>{html.escape(r.command)}</code>{alt}</p>"
                                 "<p>This page notices when it is installed.</p>")

    def _on_watcher_directory_changed(self, _path: str) -> None:
        self._recheck.start()

    def _on_copy_clicked(self) -> None:
        if self.readiness is not None:
            QApplication.clipboard().setText(self.readiness.command)

    # -- the click --------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._run_task is not None and not self._run_task.done()

    def _on_start_clicked(self) -> None:
        if self.running:
            return
        self._run_task = self.tasks.spawn(self._run())

    def cancel(self) -> None:
        if self.running:
            self.step_label.setText("Cancelling…")
            self._run_task.cancel()

    def show_step(self, step: "Step") -> None:
        if step.fraction is not None:
            self.progress.setValue(int(step.fraction * PROGRESS_STEPS))
        label = {"image": "VM image", "boot": "Booting", "ready": "Ready"}.get(step.stage, step.stage)
        set_sheet(self.step_label, "")
        self.step_label.setText(f"{label}: {step.text}")

    async def _run(self) -> None:
        self.start_button.setEnabled(False)
        self.cancel_button.show()
        self.progress.setValue(0)
        self.progress.show()
        self.started.emit()
        ok = False
        try:
            await self._start(self.show_step)
            ok = True
        except asyncio.CancelledError:
            set_sheet(self.step_label, "")
            self.step_label.setText("Cancelled. Nothing half-made was kept; click again to start over.")
        except Exception as exc:  # noqa: BLE001 - VMError and ImageError carry sentences
            set_sheet(self.step_label, "color: #8a1f14;")
            self.step_label.setText(f"The VM could not start: {exc}")
        finally:
            self.cancel_button.hide()
            self.progress.setVisible(ok)
            self.start_button.setEnabled(bool(self.readiness and self.readiness.ready) and not ok)
        self.finished.emit(ok)

    async def aclose(self) -> None:
        await self.tasks.cancel_all()


class ContextOffer(QFrame):
    """After a one-click start: the docker CLI can use the VM too (`docker context use pilothouse`)."""

    COMMAND = ("docker", "context", "use", CONTEXT_NAME)

    def __init__(self, docker_config_dir: Path, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("vmContextOffer")
        set_sheet(self, "#vmContextOffer { background: #e8f0fa; border-bottom: 1px solid #b8cde6; }"
                        " QLabel { color: #1d3b5c; }")
        self.docker_config_dir = docker_config_dir
        self.tasks = TaskSet()
        self.label = QLabel()
        self.label.setObjectName("vmContextText")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.use_button = QPushButton("Make it the docker CLI's default")
        self.use_button.setObjectName("useDockerContext")
        self.use_button.setToolTip("Run `docker context use pilothouse`, so plain `docker` commands reach the VM")
        self.use_button.clicked.connect(self._on_use_clicked)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.setAccessibleName("Dismiss")
        close.clicked.connect(self.hide)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 6, 8, 6)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.use_button)
        lay.addWidget(close)
        self.hide()

    def offer(self) -> None:
        self.label.setText("The engine runs in Pilothouse's VM. The docker CLI reaches it with "
                           f"<code>docker --context {CONTEXT_NAME} …</code>, or everywhere after "
                           f"<code>{' '.join(self.COMMAND)}</code>.")
        self.use_button.setEnabled(True)
        self.show()

    def _env(self) -> dict[str, str]:
        env = system_program_env()
        env["DOCKER_CONFIG"] = str(self.docker_config_dir)
        return env

    def _on_use_clicked(self) -> None:
        self.use_button.setEnabled(False)
        self.tasks.spawn(self._use())

    async def _use(self) -> None:
        exe = shutil.which("docker")
        if exe is None:
            self.label.setText("The docker CLI is not installed here. Once it is, run "
                               f"<code>{' '.join(self.COMMAND)}</code>.")
            return
        proc = await asyncio.create_subprocess_exec(exe, *self.COMMAND[1:], stdin=asyncio.subprocess.DEVNULL,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                                    env=self._env())
        out, err = await proc.communicate()
        if proc.returncode == 0:
            self.label.setText(f"Done: plain <code>docker</code> commands now reach the VM (context "
                               f"<code>{CONTEXT_NAME}</code>). <code>docker context use default</code> switches back.")
        else:
            self.use_button.setEnabled(True)
            reason = (err or out).decode(errors="replace").strip().splitlines()
            self.label.setText(f"<span style='color:#8a1f14'><code>{' '.join(self.COMMAND)}</code> failed: "
                               f"{html.escape(reason[-1] if reason else f'exit status {proc.returncode}')}</span>")

    async def aclose(self) -> None:
        await self.tasks.cancel_all()
