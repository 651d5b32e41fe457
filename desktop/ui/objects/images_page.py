"""The Images page: every tag, size, age, which containers use it; pull, build, run, tag, push,
remove, history, save/load and import."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QDialog, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout

from desktop.engine.object_records import Image
from desktop.presentation.objects import USAGE_UNKNOWN_TIP, image_usage_state, used_by_text
from desktop.presentation.sizes import human_size
from desktop.presentation.containers import age
from desktop.state.engine_objects import EngineObjects, merged_key
from desktop.ui.objects.build_dialog import build_dialog
from desktop.ui.widgets.dialogs import confirm
from desktop.ui.widgets.engine_choice import chosen_engine, target
from desktop.ui.objects.object_forms import (commit_dialog, export_dialog, import_dialog, load_dialog, login_dialog,
                                     save_dialog, tag_dialog)
from desktop.ui.objects.object_model import Column, ObjectTableModel
from desktop.ui.objects.object_page import ObjectPage
from desktop.ui.objects.pull_dialog import pull_dialog, push_dialog
from desktop.ui.objects.run_dialog import run_dialog
from desktop.ui.widgets.plain_text import plain_tooltip

COL_NAME, COL_ID, COL_SIZE, COL_CREATED, COL_USED, COL_ENGINE = range(6)


class ImagesPage(ObjectPage):
    """Sidebar page `images`: every followed engine's images (one engine's when one is selected)."""

    container_created = Signal(str)  # id of a container started from the Run form
    image_pulled = Signal(str)

    def __init__(self, stores: EngineObjects, parent=None) -> None:
        self.stores = stores

        def users(i: Image) -> list[str]:
            return stores.state_for(i).usage.image_users(i.id)

        def known(i: Image) -> bool:  # the engine's containers were listed
            return stores.state_for(i).usage.loaded

        columns = [
            Column("Repository:Tag", lambda i: i.display_name + ("  (dangling)" if i.dangling else ""),
                   tooltip=lambda i: "\n".join(i.tags + i.digests) or "No tag: a dangling image"),
            Column("Image ID", lambda i: i.short_id),
            Column("Size", lambda i: human_size(i.size), sort=lambda i: i.size, align_right=True),
            Column("Created", lambda i: age(i.created), sort=lambda i: i.created),
            Column("Used by", lambda i: used_by_text(users(i), known(i)), usage=True, sort=lambda i: len(users(i)),
                   tooltip=lambda i: ("\n".join(users(i)) or "No container uses this image") if known(i) else USAGE_UNKNOWN_TIP),
            Column("Engine", lambda i: i.engine_id),
        ]
        model = ObjectTableModel(stores.images, columns, merged_key)
        super().__init__("Images", "imagesPage", model, "image", parent)
        self.listen(stores.usage_changed, self._on_usage_changed)
        header = self.view.horizontalHeader()
        for c, w in ((COL_ID, 120), (COL_SIZE, 90), (COL_CREATED, 130), (COL_USED, 200), (COL_ENGINE, 100)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(c, w)
        self.view.sortByColumn(COL_CREATED, Qt.SortOrder.DescendingOrder)

        self.toggles: dict[str, QCheckBox] = {}
        for key, text in (("in use", "In use"), ("unused", "Unused"), ("dangling", "Dangling")):
            cb = QCheckBox(text)
            cb.setObjectName(f"show_{key.replace(' ', '_')}")
            cb.setChecked(True)
            cb.toggled.connect(self._on_toggles_toggled)
            self.toggles[key] = cb
            self.top.addWidget(cb)

        self.add_button("pull", "Pull…", self.pull, tip="Pull an image from a registry")
        self.add_button("build", "Build…", self.build, tip="Build an image from a folder with a Dockerfile")
        self.add_button("run", "Run…", self.run_selected, needs_selection=True, tip="Run a container from the image")
        self.add_button("tag", "Tag…", self.tag_selected, needs_selection=True)
        self.add_button("push", "Push…", self.push_selected, needs_selection=True)
        self.add_button("history", "Layers", self.history_selected, needs_selection=True,
                        tip="Each layer's command and size")
        self.add_button("remove", "Remove", self.remove_selected, needs_selection=True)
        self.toolbar.addSpacing(16)
        self.add_button("save", "Save…", self.save_selected, needs_selection=True, tip="Save images to a tar file")
        self.add_button("load", "Load…", self.load, tip="Load images from a tar file")
        self.add_button("import", "Import…", self.import_tar, tip="Import a filesystem tar as an image")
        self.add_button("login", "Log in…", self.login, tip="Log in to a registry")
        self.finish_toolbar()
        self.view.doubleClicked.connect(lambda _idx: self.run_selected())

    # -- filtering ------------------------------------------------------------------------------
    def _on_toggles_toggled(self, _on: bool) -> None:
        shown = {k for k, cb in self.toggles.items() if cb.isChecked()}
        if len(shown) == 3:
            self.proxy.set_predicate(None)
        else:
            stores = self.stores

            def keep(i: Image) -> bool:  # an image not known to be unused yet stays listed until it is
                usage = stores.state_for(i).usage
                state = image_usage_state(usage.image_users(i.id), i.dangling, usage.loaded)
                return state == "unknown" or state in shown
            self.proxy.set_predicate(keep)
        self._update_count()

    def _on_usage_changed(self) -> None:
        self.model.usage_changed()
        if any(not cb.isChecked() for cb in self.toggles.values()):
            self.proxy.refilter()

    def context_actions(self, items: list) -> list:
        if not items:
            return [("Pull…", self.pull), ("Build…", self.build), ("Load…", self.load)]
        return [("Run…", self.run_selected), ("Tag…", self.tag_selected), ("Push…", self.push_selected),
                ("Layers", self.history_selected), ("Save…", self.save_selected), ("-", None),
                ("Remove", self.remove_selected)]

    # -- actions --------------------------------------------------------------------------------
    def _one(self) -> Image | None:
        items = self.selected()
        return items[0] if items else None

    async def _report_done(self, dlg, what) -> None:
        result = await dlg.ask()
        if result:
            self.message.show_info(what(result))
        return result

    def _client(self, item):
        return self.stores.client(item.engine_id)

    def _target(self):
        """The selected engine's client, or (all engines shown) a choice the form asks for."""
        return target(self.stores.targets(), self.stores.client)

    def pull(self, reference: str = ""):
        keys = self.stores.targets()
        dlg = pull_dialog(self, self._target(), reference)
        self.keep("pull_dialog_opened", dlg)

        async def go():
            ref = await self._report_done(dlg, lambda r: f"Pulled {r}.")
            if ref:
                self.image_pulled.emit(ref)
                engine = chosen_engine(dlg, keys)
                await self.stores.state(engine).images.wait_idle()
                im = self.stores.images.by_reference(ref, engine)
                if im:
                    self.select_key(merged_key(im))
        return self.spawn(go())

    def build(self, folder: str = ""):
        dlg = build_dialog(self, self._target(), folder)
        self.keep("build_dialog_opened", dlg)
        return self.spawn(self._report_done(dlg, lambda r: f"Built {r}."))

    def run_selected(self):
        return self.run_image(self._one())

    def run_image(self, im: Image | None):
        """The Run dialog, from `im` (on its own engine), or from an image the user picks (None)."""
        # A selected image runs on its own engine; otherwise the selected engine, or the user picks.
        engines = [im.engine_id] if im else self.stores.targets()
        images = sorted({t for i in self.stores.images.all() if i.engine_id in engines for t in i.tags})
        default = (im.tags[0] if im.tags else im.id) if im else ""
        nets = sorted({n.name for n in self.stores.networks.all() if n.engine_id in engines})
        dlg = run_dialog(self, target(engines, self.stores.client), default, images, nets)
        self.keep("run_dialog_opened", dlg)

        async def go():
            cid = await dlg.ask()
            if cid:
                self.message.show_info(f"Started container {cid[:12]} from {default or 'the image'}.")
                self.container_created.emit(cid)
        return self.spawn(go())

    def tag_selected(self):
        im = self._one()
        if im is None:
            return None
        dlg = tag_dialog(self, self.stores.state_for(im).calls, im.id)
        self.keep("tag_dialog_opened", dlg)
        return self.spawn(self._report_done(dlg, lambda r: f"Tagged {im.short_id} as {r}."))

    def push_selected(self):
        im = self._one()
        if im is None:
            return None
        dlg = push_dialog(self, self._client(im), list(im.tags))
        self.keep("push_dialog_opened", dlg)
        return self.spawn(self._report_done(dlg, lambda r: f"Pushed ({r})."))

    def remove_selected(self):
        items = self.selected()
        if not items:
            return None
        return self.spawn(self._remove(items))

    async def _remove(self, items: list[Image]) -> None:
        def usage(im: Image) -> list[str]:
            return self.stores.state_for(im).usage.image_users(im.id)

        names = [i.display_name if not i.dangling else i.short_id for i in items]
        if self.stores.several:
            names = [f"{n} (on {i.engine_id})" for n, i in zip(names, items)]
        users = sorted({u for i in items for u in usage(i)})
        details = "The images' layers are deleted unless another image shares them."
        if users:
            details = (f"In use by {', '.join(users)}: the engine refuses unless you force it, and a running "
                       "container's image cannot be removed even then.")
        ok, force = await confirm(self, "Remove images", f"Remove {', '.join(names)}?", "Remove", details=details,
                                  checkbox="Force (also untag images used by stopped containers)")
        if not ok:
            return
        errors = []
        for im in items:
            try:
                # The engine's word, not the page's: a container removed a moment ago from the CLI
                # may still be in the usage the page knows.
                in_use = [] if force else await self.stores.state_for(im).calls.image_users(im.id)
            except Exception as err:  # noqa: BLE001 - reported per image, the rest continue
                errors.append(str(err))
                continue
            if in_use and not force:
                # Refuse before untagging anything: a half-untagged image helps nobody.
                errors.append(f"{im.display_name} is used by {', '.join(in_use)}: remove "
                              f"{'those containers' if len(in_use) > 1 else 'that container'} first, "
                              "or remove with force.")
                continue
            try:
                # Untag each tag (the last removal deletes the image); a dangling image by id.
                for ref in (im.tags or (im.id,)):
                    await self.stores.state_for(im).calls.remove_image(ref, force=force, label=ref if im.tags else im.short_id)
            except Exception as err:  # noqa: BLE001 - reported per image, the rest continue
                errors.append(str(err))
        if errors:
            self.message.show_error(" ".join(errors))
        else:
            self.message.show_info(f"Removed {', '.join(names)}.")

    def history_selected(self):
        im = self._one()
        if im is None:
            return None
        return self.spawn(self._history(im))

    async def _history(self, im: Image) -> None:
        layers = await self.stores.state_for(im).calls.image_history(im.id)
        dlg = QDialog(self)
        dlg.setObjectName("historyDialog")
        dlg.setWindowTitle(f"Layers of {im.display_name}")
        dlg.resize(820, 420)
        table = QTableWidget(len(layers), 3, dlg)
        table.setTabKeyNavigation(False)  # Tab leaves the table (arrows move between cells)
        table.setObjectName("historyTable")
        table.setHorizontalHeaderLabels(["Created", "Command", "Size"])
        table.verticalHeader().hide()
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, layer in enumerate(layers):
            cmd = layer.created_by.replace("/bin/sh -c #(nop) ", "").replace("/bin/sh -c ", "RUN ")
            for c, text in enumerate((age(layer.created, time.time()), cmd.strip(), human_size(layer.size))):
                it = QTableWidgetItem(text)
                if c == 1:
                    it.setToolTip(plain_tooltip(layer.created_by))
                table.setItem(r, c, it)
        QVBoxLayout(dlg).addWidget(table)
        self.keep("history_dialog_opened", dlg)
        dlg.open()

    def save_selected(self):
        items = self.selected()
        if not items:
            return None
        if len({i.engine_id for i in items}) > 1:
            self.message.show_error("These images are on different engines: save one engine's images at a time.")
            return None
        refs = [i.tags[0] if i.tags else i.id for i in items]
        dlg = save_dialog(self, self._client(items[0]), refs, sum(i.size for i in items))
        self.keep("save_dialog_opened", dlg)
        return self.spawn(self._report_done(dlg, lambda p: f"Saved {', '.join(refs)} to {p}."))

    def load(self):
        dlg = load_dialog(self, self._target())
        self.keep("load_dialog_opened", dlg)
        return self.spawn(self._report_done(dlg, lambda r: f"Loaded {r}."))

    def import_tar(self):
        dlg = import_dialog(self, self._target())
        self.keep("import_dialog_opened", dlg)
        return self.spawn(self._report_done(dlg, lambda r: f"Imported as image {r[7:19]}."))

    def login(self, registry: str = ""):
        dlg = login_dialog(self, self._target(), registry)
        self.keep("login_dialog_opened", dlg)
        return self.spawn(self._report_done(dlg, lambda r: r))

    # -- container → image (from the Containers page's context menu or the detail page) -------------
    def commit_container(self, container_id: str, name: str, engine: str | None = None):
        """Open the Commit form for a container (on `engine`, default the primary); the message says what was made."""
        dlg = commit_dialog(self.window(), self.stores.state(engine or self.stores.primary).calls, container_id, name)
        self.keep("commit_dialog_opened", dlg)
        return self.spawn(self._report_done(dlg, lambda image_id: f"Committed {name} as image {image_id[7:19]}."))

    def export_container(self, container_id: str, name: str, engine: str | None = None):
        """Open the Export form: the container's filesystem to a tar file, with progress."""
        dlg = export_dialog(self.window(), self.stores.client(engine or self.stores.primary), container_id, name)
        self.keep("export_dialog_opened", dlg)
        return self.spawn(self._report_done(dlg, lambda path: f"Exported {name}'s filesystem to {path}."))
