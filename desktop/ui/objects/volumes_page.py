"""The Volumes page: name, driver, mountpoint, size, users; create, remove, browse files, export,
import, clone."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QHeaderView

from desktop.engine.object_records import Volume
from desktop.engine.run_request import FormErrors
from desktop.engine.specs import SpecError, parse_name
from desktop.engine.volume_files import VolumeFiles
from desktop.presentation.objects import USAGE_UNKNOWN_TIP, used_by_text
from desktop.presentation.sizes import human_size
from desktop.state.engine_objects import EngineObjects, merged_key
from desktop.ui.widgets.dialogs import choose_path, confirm
from desktop.ui.widgets.engine_choice import chosen_engine, target
from desktop.ui.widgets.form_dialog import Field, FormDialog
from desktop.ui.objects.object_forms import volume_create_dialog
from desktop.ui.objects.object_model import Column, ObjectTableModel
from desktop.ui.objects.object_page import ObjectPage
from desktop.ui.objects.volume_browser import VolumeBrowser

COL_NAME, COL_DRIVER, COL_MOUNT, COL_SIZE, COL_USED, COL_ENGINE = range(6)


class VolumesPage(ObjectPage):
    """Sidebar page `volumes`: every followed engine's volumes (one engine's when one is selected)."""

    def __init__(self, stores: EngineObjects, parent=None) -> None:
        self.stores = stores
        self._sizes_measured = False

        def users(v: Volume) -> list[str]:
            return stores.state_for(v).usage.volume_users(v.name)

        def known(v: Volume) -> bool:  # the engine's containers were listed
            return stores.state_for(v).usage.loaded

        columns = [
            Column("Name", lambda v: v.name),
            Column("Driver", lambda v: v.driver),
            Column("Mountpoint", lambda v: v.mountpoint),
            Column("Size", lambda v: human_size(v.size) if v.size is not None else "", sort=lambda v: v.size or -1,
                   align_right=True, tooltip=lambda v: "" if v.size is not None else "Press Measure sizes"),
            Column("Used by", lambda v: used_by_text(users(v), known(v)), usage=True,
                   tooltip=lambda v: ("\n".join(users(v)) or "No container uses this volume") if known(v) else USAGE_UNKNOWN_TIP),
            Column("Engine", lambda v: v.engine_id),
        ]
        model = ObjectTableModel(stores.volumes, columns, merged_key)
        super().__init__("Volumes", "volumesPage", model, "volume", parent)
        self.listen(stores.usage_changed, model.usage_changed)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_MOUNT, QHeaderView.ResizeMode.Stretch)
        for c, w in ((COL_NAME, 240), (COL_DRIVER, 80), (COL_SIZE, 90), (COL_USED, 180), (COL_ENGINE, 100)):
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
        if self._engine_available and not self._sizes_measured and self.stores.volumes.loaded:
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

    def files(self, v: Volume) -> VolumeFiles:
        """File access to a volume, through the engine it is on."""
        return VolumeFiles(self.stores.client(v.engine_id))

    def create(self):
        keys = self.stores.targets()
        dlg = volume_create_dialog(self, target(keys, lambda k: self.stores.state(k).calls))
        self.keep("create_dialog_opened", dlg)

        async def go():
            v = await dlg.ask()
            if v:
                engine = chosen_engine(dlg, keys)
                where = f" on {engine}" if self.stores.several else ""
                self.message.show_info(f"Created volume {v.name}{where}.")
                await self.stores.state(engine).volumes.wait_idle()
                self.select_key(f"{engine}|{v.name}")
        return self.spawn(go())

    def remove_selected(self):
        items = self.selected()
        return self.spawn(self._remove(items)) if items else None

    async def _remove(self, items: list[Volume]) -> None:
        busy = await self.engine_users(items, lambda calls, v: calls.volume_users(v.name))
        if busy is None:
            return
        if busy:
            self.message.show_error(" ".join(f"Volume {n} is in use by {', '.join(u)}; remove "
                                             f"{'those containers' if len(u) > 1 else 'that container'} first."
                                             for n, u in busy))
            return
        names = ", ".join(v.name + (f" (on {v.engine_id})" if self.stores.several else "") for v in items)
        ok, _ = await confirm(self, "Remove volumes", f"Remove {names}?", "Remove",
                              details="Every file in the volume is deleted. This cannot be undone.")
        if not ok:
            return
        errors = []
        for v in items:
            try:
                await self.stores.state_for(v).calls.remove_volume(v.name)
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
        dlg = VolumeBrowser(self, self.files(v), v.name)
        self.keep("browser_opened", dlg)
        dlg.open()
        return self.spawn(dlg.load("/"))

    def export_selected(self, path: str | None = None):
        v = self._one()
        if v is None:
            return None
        if path is None:
            choose_path(self, f"Export {v.name}", "save", self.export_selected, suggested=f"{v.name}.tar")
            return None  # exported once a path is chosen
        if not path:
            return None

        async def go():
            self.message.show_info(f"Exporting {v.name}…")
            n = await self.files(v).export(v.name, path)
            self.message.show_info(f"Exported {v.name} to {path} ({human_size(n)}).")
        return self.spawn(go())

    def import_selected(self, path: str | None = None):
        v = self._one()
        if v is None:
            return None
        if path is None:
            choose_path(self, f"Import a tar into {v.name}", "open", self.import_selected)
            return None  # imported once a file is chosen
        if not path:
            return None

        async def go():
            ok, _ = await confirm(self, "Import into volume", f"Unpack {Path(path).name} into {v.name}?", "Import",
                                  details="Files with the same names in the volume are replaced.")
            if ok:
                await self.files(v).import_tar(v.name, path)
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
            if name in self.stores.state_for(v).volumes:
                raise FormErrors({"name": f"A volume named {name} already exists."})
            await self.files(v).clone(v.name, name)
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
            for engine in self.stores.connected():
                await self.stores.state(engine).volumes.load_sizes()
        return self.spawn(go())
