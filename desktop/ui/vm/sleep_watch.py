"""Learns when the VM falls asleep or wakes, from file system events on its state folder (the
helper rewrites sleep.json on every change): no polling. Announces `sleeping_changed(bool)`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, Signal

from desktop.ui.async_tasks import TaskSet


class VMSleepWatch(QObject):
    sleeping_changed = Signal(bool)
    # (ConnectionStatus of the VM's engine, "sleeping" or ""): for the footer, sent by the VM wing
    engine_noted = Signal(object, str)

    def __init__(self, state_dir: Path, read_sleeping: Callable[[], bool], parent=None) -> None:
        super().__init__(parent)
        self.state_dir = state_dir
        self._read = read_sleeping  # blocking (reads state files): run off the UI thread
        self.sleeping = False
        self.tasks = TaskSet()
        self._lock = asyncio.Lock()  # one read at a time: the last answer is the current one
        self._closed = False
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._on_watcher_directory_changed)
        self.follow()

    def follow(self) -> None:
        """Watch the state folder, or until it exists (made at the VM's first start) its
        nearest existing parent; and read it now."""
        if self._closed:
            return
        watched = set(self._watcher.directories())
        target = self.state_dir
        while not target.is_dir() and target.parent != target:
            target = target.parent
        if str(target) not in watched:
            if watched:
                self._watcher.removePaths(list(watched))
            self._watcher.addPath(str(target))
        self.check()

    def check(self) -> None:
        if not self._closed:
            self.tasks.spawn(self._check())

    def _on_watcher_directory_changed(self, _path: str) -> None:
        self.follow()

    async def _check(self) -> None:
        async with self._lock:
            sleeping = bool(await asyncio.to_thread(self._read))
        if sleeping != self.sleeping:
            self.sleeping = sleeping
            self.sleeping_changed.emit(sleeping)

    async def aclose(self) -> None:
        # Folder events keep coming after the app closes (the VM lives on): stop listening.
        self._closed = True
        self._watcher.directoryChanged.disconnect(self._on_watcher_directory_changed)
        if self._watcher.directories():
            self._watcher.removePaths(self._watcher.directories())
        await self.tasks.cancel_all()
