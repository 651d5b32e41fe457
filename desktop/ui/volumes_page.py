"""The Volumes page: name, driver, mountpoint, size, users; create, remove, browse files, export,
import, clone."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QHeaderView

from desktop.engine.client import EngineClient
from desktop.engine.object_records import Volume
from desktop.engine.run_request import FormErrors
from desktop.engine.specs import SpecError, parse_name
from desktop.engine.volume_files import VolumeFiles
from desktop.object_presentation import human_size, used_by_text
from desktop.state.objects_state import ObjectsState
from desktop.ui.dialogs import confirm
from desktop.ui.form_dialog import Field, FormDialog
from desktop.ui.object_forms import volume_create_dialog
from desktop.ui.object_model import Column, ObjectTableModel
from desktop.ui.object_page import ObjectPage
from desktop.ui.volume_browser import VolumeBrowser

COL_NAME, COL_DRIVER, COL_MOUNT, COL_SIZE, COL_USED = range(5)


class VolumesPage(ObjectPage):
    """Sidebar page `volumes`."""

    def __init__(self, client: EngineClient, state: ObjectsState, parent=None) -> None:
        self.client = client
        self.state = state
        self.files = VolumeFiles(client)
        self._sizes_measured = False
        usage = state.usage
        columns = [
            Column("Name", lambda v: v.name),
            Column("Driver", lambda v: v.driver),
            Column("Mountpoint", lambda v: v.mountpoint),
            Column("Size", lambda v: human_size(v.size) if v.size is not None else "", sort=lambda v: v.size or -1,
                   align_right=True, tooltip=lambda v: "" if v.size is not None else "Press Measure sizes"),
            Column("Used by", lambda v: used_by_text(usage.volume_users(v.name)), usage=True,
                   tooltip=lambda v: "\n".join(usage.volume_users(v.name)) or "No container uses this volume"),
        ]
        model = ObjectTableModel(state.volumes, columns, lambda v: v.name)
        super().__init__("Volumes", "volumesPage", model, "volume", parent)
        self.listen(usage.changed, model.usage_changed)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_MOUNT, QHeaderView.ResizeMode.Stretch)
        for c, w in ((COL_NAME, 240), (COL_DRIVER, 80), (COL_SIZE, 90), (COL_USED, 180)):
            header.resizeSection(c, w)
        self.add_button("create", "Create…", self.create)
        self.add_button("browse", "Browse files", self.browse_selected, needs_selection=True)
        self.add_button("export", "Export…", self.export_selected, needs_selection=True,
                        tip="Write the volume's files to a tar file")
        self.add_button("import", "Import…", self.import_selected, needs_selection=True,
                        tip="Unpack a tar file into the volume")
        self.add_button("clone", "Clone…", self.clone_selected, needs_selection=True)
        self.add_button("remove", "Remove", self.remove_selected, needs_selection=True)
        self.add_button("sizes", "Measure sizes", self.measure_sizes, tip="Read sizes from disk usage")
        self.finish_toolbar()
        self.view.doubleClicked.connect(lambda _idx: self.browse_selected())

    def showEvent(self, event) -> None:  # noqa: N802 - sizes need `system df`: measured when first looked at
        super().showEvent(event)
        if self._engine_available and not self._sizes_measured and self.state.volumes.loaded:
            self._sizes_measured = True
            self.measure_sizes()

    def context_actions(self, items: list) -> list:
        if not items:
            return [("Create…", self.create)]
        return [("Browse files", self.browse_selected), ("Export…", self.export_selected),
                ("Import…", self.import_selected), ("Clone…", self.clone_selected), ("-", None),
                ("Remove", self.remove_selected)]

    def _one(self) -> Volume | None:
        items = self.selected()
        return items[0] if items else None

    def create(self):
        dlg = volume_create_dialog(self, self.state.objects)
        self.keep("create_dialog_opened", dlg)

        async def go():
            v = await dlg.ask()
            if v:
                self.message.show_info(f"Created volume {v.name}.")
                await self.state.volumes.wait_idle()
                self.select_key(v.name)
        return self.spawn(go())

    def remove_selected(self):
        items = self.selected()
        return self.spawn(self._remove(items)) if items else None

    async def _remove(self, items: list[Volume]) -> None:
        usage = self.state.usage
        busy = [(v.name, usage.volume_users(v.name)) for v in items if usage.volume_users(v.name)]
        if busy:
            self.message.show_error(" ".join(f"Volume {n} is in use by {', '.join(u)}; remove "
                                             f"{'those containers' if len(u) > 1 else 'that container'} first."
                                             for n, u in busy))
            return
        names = ", ".join(v.name for v in items)
        ok, _ = await confirm(self, "Remove volumes", f"Remove {names}?", "Remove",
                              details="Every file in the volume is deleted. This cannot be undone.")
        if not ok:
            return
        errors = []
        for v in items:
            try:
                await self.state.objects.remove_volume(v.name)
            except Exception as err:  # noqa: BLE001 - the engine's own in-use check, a race with a new user
                errors.append(str(err))
        if errors:
            self.message.show_error(" ".join(errors))
        else:
            self.message.show_info(f"Removed {names}.")

    def browse_selected(self):
        v = self._one()
        if v is None:
            return None
        dlg = VolumeBrowser(self, self.files, v.name)
        self.keep("browser_opened", dlg)
        dlg.open()
        return self.spawn(dlg.load("/"))

    def export_selected(self, path: str | None = None):
        v = self._one()
        if v is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, f"Export {v.name}", f"{v.name}.tar")
        if not path:
            return None

        async def go():
            self.message.show_info(f"Exporting {v.name}…")
            n = await self.files.export(v.name, path)
            self.message.show_info(f"Exported {v.name} to {path} ({human_size(n)}).")
        return self.spawn(go())

    def import_selected(self, path: str | None = None):
        v = self._one()
        if v is None:
            return None
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, f"Import a tar into {v.name}")
        if not path:
            return None

        async def go():
            ok, _ = await confirm(self, "Import into volume", f"Unpack {Path(path).name} into {v.name}?", "Import",
                                  details="Files with the same names in the volume are replaced.")
            if ok:
                await self.files.import_tar(v.name, path)
                self.message.show_info(f"Imported {Path(path).name} into {v.name}.")
        return self.spawn(go())

    def clone_selected(self):
        v = self._one()
        if v is None:
            return None

        async def submit(values: dict) -> str:
            try:
                name = parse_name(values["name"], "volume")
            except SpecError as err:
                raise FormErrors({"name": str(err)}) from None
            if name in self.state.volumes:
                raise FormErrors({"name": f"A volume named {name} already exists."})
            await self.files.clone(v.name, name)
            return name

        dlg = FormDialog(self, f"Clone {v.name}", [Field("name", "New volume", default=f"{v.name}-copy")], "Clone",
                         submit, object_name="cloneDialog")
        self.keep("clone_dialog_opened", dlg)

        async def go():
            name = await dlg.ask()
            if name:
                self.message.show_info(f"Cloned {v.name} to {name}.")
        return self.spawn(go())

    def measure_sizes(self):
        async def go():
            await self.state.volumes.load_sizes()
        return self.spawn(go())
