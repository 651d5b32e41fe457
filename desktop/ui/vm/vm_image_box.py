"""The VM page's image section (bundled or built, version, size, where, and Build / Update with
progress and Cancel) and its usage line (the running VM's CPU, memory and disk)."""

from __future__ import annotations

import asyncio
import dataclasses

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFormLayout, QGroupBox, QHBoxLayout, QProgressBar, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from desktop.presentation.sizes import binary_size
from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.message_bar import MessageBar
from desktop.ui.widgets.plain_text import plain_label, plain_tooltip
from desktop.vm.image_status import ImageStatus, VMFigures, VMFigureSampler, image_status

ORIGIN_TEXT = {"bundled": "Bundled with Pilothouse", "built": "Built on this computer", "missing": "No image yet"}


def describe_image(st: ImageStatus) -> str:
    if st.state == "missing":
        return f"No image yet: Build makes version {st.expected} from Debian packages (about a minute)."
    fresh = {"current": "current", "outdated": f"older than the {st.expected} this Pilothouse brings"}[st.state]
    parts = [ORIGIN_TEXT[st.origin], f"version {st.version} ({fresh})", binary_size(st.size)]
    return ", ".join(parts + ([f"Linux {st.kernel}"] if st.kernel else []))


def describe_usage(fig: VMFigures | None, disk: tuple[int, int] | None) -> str:
    """The usage line: figures while QEMU runs, the disk alone while it does not."""
    parts = []
    if fig is not None:
        parts.append("CPU measuring…" if fig.cpu_percent is None else f"CPU {fig.cpu_percent:.1f} % of one host CPU")
        parts.append(f"memory {binary_size(fig.memory)}")
        disk = (fig.disk_used, fig.disk_size)
    if disk is not None and disk[0]:
        parts.append(f"disk {binary_size(disk[0])} used" + (f" of {binary_size(disk[1])}" if disk[1] else ""))
    if not parts:
        return "—"
    text = ", ".join(parts)
    return text[0].upper() + text[1:] + ("" if fig is not None else " (the VM is not running)")


class VMImageBox(QGroupBox):
    """`build_finished(ok, sentence)` after each build (cancelled: ok False)."""

    build_finished = Signal(bool, str)

    def __init__(self, manager, builder_factory=None, parent=None) -> None:
        super().__init__("Image", parent)
        self.setObjectName("vmImageBox")
        self.manager = manager
        self._builder_factory = builder_factory
        self.tasks = TaskSet()
        self.status: ImageStatus | None = None
        self._build_task: asyncio.Task | None = None
        self.state_label = plain_label("Looking at the image…")
        self.state_label.setObjectName("vmImageState")
        self.state_label.setWordWrap(True)
        self.where_label = plain_label()
        self.where_label.setObjectName("vmImageWhere")
        self.where_label.setWordWrap(True)  # a long path wraps; the page never widens for it
        self.where_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.where_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.build_button = QPushButton("Build image")
        self.build_button.setObjectName("vmImageBuild")
        self.build_button.clicked.connect(self.build)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("vmImageCancel")
        self.cancel_button.setToolTip("Stop the build; the package cache keeps what was downloaded")
        self.cancel_button.setAccessibleName("Cancel the image build")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.progress = QProgressBar()
        self.progress.setObjectName("vmImageProgress")
        self.progress.setRange(0, 1000)
        self.progress.hide()
        self.progress_text = plain_label()  # the builder's lines name files and packages
        self.progress_text.setObjectName("vmImageProgressText")
        self.progress_text.setWordWrap(True)
        self.progress_text.hide()
        self.message = MessageBar(self)
        form = QFormLayout()
        form.addRow("Status", self.state_label)
        form.addRow("Where", self.where_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.build_button)
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(0)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.progress_text)
        lay.addWidget(self.message)

    @property
    def building(self) -> bool:
        return self._build_task is not None and not self._build_task.done()

    def refresh(self):
        return self.tasks.spawn(self._refresh())

    async def _refresh(self) -> ImageStatus:
        st = await asyncio.to_thread(image_status, self.manager.paths.image_dir)
        self.status = st
        self.state_label.setText(describe_image(st))
        self.where_label.setText(str(st.where))
        self.where_label.setToolTip(plain_tooltip(str(st.where)))
        self._update_button()
        return st

    def _update_button(self) -> None:
        st, b = self.status, self.build_button
        if st is None:
            return
        text, tip = {"missing": ("Build image", "Make the image from Debian's packages (needs the network)"),
                     "outdated": ("Update image", "Build the image this Pilothouse brings; the VM's containers, "
                                                  "images and volumes are kept (they live on its data disk)"),
                     "current": ("Image is up to date", "Nothing to build: this is the image this Pilothouse brings")}[st.state]
        b.setText(text)
        b.setToolTip(tip)
        b.setAccessibleName(text)
        b.setEnabled(st.state != "current" and not self.building)

    def build(self):
        if self.building:
            return self._build_task
        self._build_task = self.tasks.spawn(self._build())
        return self._build_task

    def cancel(self) -> None:
        if self.building:
            self._build_task.cancel()

    def _on_progress(self, p) -> None:
        if p.fraction is not None:
            self.progress.setValue(int(p.fraction * 1000))
        self.progress_text.setText(p.text)

    async def _build(self) -> bool:
        from desktop.vm.image_source import ImageError, default_builder
        from desktop.vm.paths import default_image_dir

        st = self.status or await self._refresh()
        # A bundled image is part of the app: a newer one goes to the cache, which then wins.
        out = self.manager.paths.image_dir if st.origin != "bundled" else default_image_dir(self.manager.arch)
        builder = (self._builder_factory or default_builder)()
        self.message.hide()
        self.build_button.setEnabled(False)
        for w in (self.progress, self.cancel_button, self.progress_text):
            w.show()
        self.progress.setValue(0)
        self.progress_text.setText("Starting the build…")
        ok, sentence = False, ""
        try:
            await builder.build(self.manager.arch, out, self._on_progress)
        except asyncio.CancelledError:
            sentence = "The build was cancelled; the image is as it was, and the next build resumes the downloads."
            self.message.show_info(sentence)
        except (ImageError, OSError) as exc:
            sentence = f"The image could not be built: {exc}"
            self.message.show_error(sentence)
        else:
            if out != self.manager.paths.image_dir:
                self.manager.paths = dataclasses.replace(self.manager.paths, image_dir=out)
            new = await asyncio.to_thread(image_status, out)
            running = self.manager.status().state in ("running", "starting")
            sentence = f"The image is ready (version {new.version})." + (
                " The VM uses it from its next start." if running else "")
            ok = True
            self.message.show_info(sentence)
        finally:
            for w in (self.progress, self.cancel_button, self.progress_text):
                w.hide()
            self._build_task = None
        await self._refresh()
        self.build_finished.emit(ok, sentence)
        return ok


class VMUsage(QWidget):
    """The usage line; `update_from(status)` reads the figures off the UI thread."""

    def __init__(self, manager, parent=None) -> None:
        super().__init__(parent)
        self.manager = manager
        self.sampler = VMFigureSampler()
        self.figures: VMFigures | None = None
        self.label = plain_label("—")
        self.label.setObjectName("vmUsage")
        self.label.setWordWrap(True)
        self.label.setAccessibleName("VM usage")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label)

    async def update_from(self, st) -> None:
        disk = getattr(getattr(self.manager, "paths", None), "data_disk", None)
        if disk is None:
            self.label.setText("—")
            return
        from desktop.vm.image_status import disk_use

        pid = st.pid if st.state in ("running", "starting") else None
        self.figures = await asyncio.to_thread(self.sampler.sample, pid, disk)
        used = None if self.figures is not None else await asyncio.to_thread(disk_use, disk)
        self.label.setText(describe_usage(self.figures, used))
