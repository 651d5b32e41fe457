"""Pull and push dialogs: the reference is checked as it is typed; layers and overall progress
while it runs; Cancel (or closing) stops the transfer."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from desktop.engine.client import EngineClient
from desktop.engine.image_transfer import pull_job, push_job
from desktop.engine.run_request import FormErrors
from desktop.engine.specs import SpecError, parse_image_ref
from desktop.ui.widgets.engine_choice import chosen, engine_fields
from desktop.ui.widgets.form_dialog import Field, FormDialog
from desktop.ui.widgets.progress_panel import ProgressPanel


class TransferDialog(FormDialog):
    """A FormDialog with a ProgressPanel under the fields."""

    def __init__(self, *a, mode: str = "layers", **k) -> None:
        super().__init__(*a, **k)
        self.progress = ProgressPanel(mode, self)
        self.body.addWidget(self.progress)


def _ref(values: dict, key: str = "reference"):
    try:
        return parse_image_ref(values[key])
    except SpecError as err:
        raise FormErrors({key: str(err)}) from None


def pull_dialog(parent: QWidget, client: EngineClient, reference: str = "") -> TransferDialog:
    """`client` may be an EngineChoice: the form then asks which engine pulls."""
    dlg: TransferDialog

    async def submit(values: dict) -> str:
        ref = _ref(values)  # nothing is sent when the reference is malformed
        dlg.progress.start(f"Pulling {ref}…")
        try:
            await pull_job(chosen(client, values), ref, dlg.progress.feed_layers).run()
        finally:
            dlg.progress.stop()
        return str(ref)

    dlg = TransferDialog(parent, "Pull an image", [*engine_fields(client),
        Field("reference", "Image", placeholder="busybox:latest or registry:5000/team/app:1.0", default=reference)],
        "Pull", submit, object_name="pullDialog")
    dlg.live_check("reference", parse_image_ref)
    return dlg


def push_dialog(parent: QWidget, client: EngineClient, tags: list[str]) -> TransferDialog:
    dlg: TransferDialog

    async def submit(values: dict) -> str:
        ref = _ref(values)
        if ref.digest:
            raise FormErrors({"reference": "Push a tag, not a digest."})
        dlg.progress.start(f"Pushing {ref}…")
        try:
            await push_job(client, ref, dlg.progress.feed_layers).run()
        finally:
            dlg.progress.stop()
        return dlg.progress.layers.digest or str(ref)

    dlg = TransferDialog(parent, "Push an image", [
        Field("reference", "Tag to push", kind="combo", choices=tags, default=tags[0] if tags else "",
              help="Tag the image as registry-host/name:tag first to push to a registry other than Docker Hub.")],
        "Push", submit, object_name="pushDialog")
    dlg.live_check("reference", parse_image_ref)
    return dlg
