"""The Debug tab: a terminal in a helper container beside this one (its processes, network and
files at /proc/1/root), for images without a shell and for stopped containers too.

The Terminal tab's machinery draws and drives the shell; this tab only makes the helper first
and removes it when the shell ends, the tab closes or the app quits.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from desktop.engine.debug_helper import DebugHelper, find_toolbox
from desktop.engine.errors import EngineError, InvalidInputError
from desktop.engine.specs import SpecError, parse_image_ref
from desktop.ui.containers.detail.terminal_tab import TerminalTab

INTRO = ("A shell in a helper container from the toolbox image: it sees this container's processes (ps), "
         "network and files (at /proc/1/root), and is removed when the shell ends. A stopped container is "
         "debugged on a snapshot of its filesystem.")


class DebugTab(TerminalTab):
    """Signals as TerminalTab's; `helper` is the running DebugHelper, if any."""

    def __init__(self, client, container, settings, parent=None) -> None:
        super().__init__(client, container, parent)
        self.setObjectName("debugTab")
        self.settings = settings
        self.helper: DebugHelper | None = None
        self._start_when_found = False
        self._asked = False  # no toolbox was found: what the user typed is remembered in Settings
        self.shell.setCurrentIndex(self.shell.findData("/bin/sh"))
        self.toolbox = QLineEdit(settings.current.debug_toolbox)
        self.toolbox.setObjectName("debugToolbox")
        self.toolbox.setAccessibleName("Toolbox image")
        self.toolbox.setPlaceholderText("looking for busybox…")
        self.toolbox.setToolTip("The image the helper runs (Settings → Debugging chooses the default)")
        self.toolbox.returnPressed.connect(self.connect_shell)
        top = self.layout().itemAt(0).layout()
        top.insertWidget(2, QLabel("Toolbox"))  # after the shell, before the Start button
        top.insertWidget(3, self.toolbox)
        QWidget.setTabOrder(self.shell, self.toolbox)  # Tab in that order too (made last, it would come last)
        self.connect_button.setText("Start debug shell")
        self.connect_button.setObjectName("debugStart")
        self.session_started.connect(self._on_self_session_started)

    def activate(self) -> None:
        """First shown: explain, and find the engine's busybox if no toolbox is chosen."""
        self.status.setText(INTRO)
        if not self.toolbox.text().strip():
            self.tasks.spawn(self._find_toolbox())

    async def _find_toolbox(self) -> None:
        try:
            found = await find_toolbox(self.client)
        except EngineError as err:
            self.status.setText(str(err))
            return
        if self.toolbox.text().strip():
            return  # the user typed one meanwhile
        if found:
            self.toolbox.setText(found)
            if self._start_when_found:
                self.connect_shell()
        else:
            self._asked = True
            self.toolbox.setPlaceholderText("for example busybox:latest")
            self.status.setText("This engine has no busybox image: enter the toolbox image to debug with "
                                "(it must be on this engine), then press Start debug shell.")
            self.toolbox.setFocus()

    def request_start(self) -> None:
        """Start the shell now, or as soon as the toolbox is known ("Debug…" in a menu)."""
        if self.toolbox.text().strip():
            self.connect_shell()
        else:
            self._start_when_found = True

    def chosen_toolbox(self) -> str:
        try:
            return str(parse_image_ref(self.toolbox.text()))
        except SpecError as err:
            raise InvalidInputError(f"Toolbox image: {err}") from err

    async def _exec_target(self) -> str:
        await self._remove_helper()
        toolbox = self.chosen_toolbox()
        helper = DebugHelper(self.client, self.container.id, toolbox, on_note=self.status.setText)
        self.helper = helper
        await helper.start()
        if self._asked and not self.settings.current.debug_toolbox:
            self.settings.update(debug_toolbox=toolbox)  # asked once: not again
        return helper.helper_id

    def _on_self_session_started(self) -> None:
        h = self.helper
        if h is None:
            return
        where = "a snapshot of its filesystem" if h.from_snapshot else "the running container"
        ipc = "" if "ipc" in h.shared else " (its IPC namespace is private, so not shared)"
        self.status.setText(f"Debugging {where} from {h.toolbox}: its processes and network are shared{ipc}; "
                            "its files are at /proc/1/root.")
        self.connect_button.setText("Restart debug shell")

    def _on_session_exit(self, message: str) -> None:
        super()._on_session_exit(message.replace("The container stopped", "The helper stopped"))
        self.connect_button.setText("Start debug shell")
        self.tasks.spawn(self._remove_helper())

    async def _remove_helper(self) -> None:
        helper, self.helper = self.helper, None
        if helper is not None:
            await helper.aclose()

    async def aclose(self) -> None:
        await super().aclose()
        await self._remove_helper()
