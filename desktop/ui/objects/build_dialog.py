"""Build an image from a folder with a Dockerfile: streamed log, step progress, failing step named."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

from desktop.engine.client import EngineClient
from desktop.engine.image_transfer import build_job
from desktop.engine.run_request import FormErrors
from desktop.engine.specs import SpecError, parse_image_ref, parse_key_value, parse_lines
from desktop.engine.streams import StreamError
from desktop.ui.widgets.engine_choice import chosen, engine_fields
from desktop.ui.widgets.form_dialog import Field
from desktop.ui.objects.pull_dialog import TransferDialog
from desktop.ui.widgets.palette_sheet import set_sheet


def build_dialog(parent: QWidget, client: EngineClient, folder: str = "") -> TransferDialog:
    dlg: TransferDialog

    async def submit(values: dict) -> str:
        errors = {}
        path = Path(values["folder"].strip()).expanduser()
        if not values["folder"].strip():
            errors["folder"] = "Choose the folder that holds the Dockerfile."
        elif not path.is_dir():
            errors["folder"] = f"{path} is not a folder."
        elif not (path / (values["dockerfile"].strip() or "Dockerfile")).is_file():
            errors["folder"] = f"There is no {values['dockerfile'].strip() or 'Dockerfile'} in {path}."
        tag = values["tag"].strip()
        if tag:
            try:
                if parse_image_ref(tag).digest:
                    errors["tag"] = "A build tag cannot have a digest."
            except SpecError as err:
                errors["tag"] = str(err)
        try:
            args = dict(parse_lines(values["build_args"], lambda s: parse_key_value(s, "build argument"), "Argument"))
        except SpecError as err:
            errors["build_args"] = str(err)
        if errors:
            raise FormErrors(errors)
        dlg.progress.log.clear()
        set_sheet(dlg.progress.bar, "")
        dlg.progress.start(f"Building {path.name}…")
        try:
            await build_job(chosen(client, values), path, dlg.progress.feed_build, tag=tag, dockerfile=values["dockerfile"].strip() or "Dockerfile",
                            build_args=args, target=values["target"].strip(), no_cache=values["no_cache"]).run()
        except StreamError as err:
            b = dlg.progress.build
            where = f" at {b.failed_step}" if b.failed_step else ""
            dlg.progress.caption.setText(f"Failed at step {b.step}/{b.steps}." if b.steps else "Failed.")
            set_sheet(dlg.progress.bar, "QProgressBar::chunk { background: #d92d20; }")
            dlg.progress.stop()  # flush the last lines before looking for the step
            if b.failed_step:
                dlg.progress.show_failed_step(b.failed_step)
            raise FormErrors({"form": f"The build failed{where}: {b.error or err.detail}"}) from err
        finally:
            dlg.progress.stop()
        return tag or dlg.progress.build.image_id

    dlg = TransferDialog(parent, "Build an image", [*engine_fields(client),
        Field("folder", "Folder", kind="folder", placeholder="The build context: a folder with a Dockerfile",
              default=folder),
        Field("dockerfile", "Dockerfile", default="Dockerfile"),
        Field("tag", "Tag", placeholder="myapp:dev (optional)"),
        Field("build_args", "Build arguments", kind="text", placeholder="NAME=value, one per line"),
        Field("target", "Target stage", placeholder="optional"),
        Field("no_cache", "Do not use the build cache", kind="check"),
    ], "Build", submit, object_name="buildDialog", mode="build")
    dlg.live_check("tag", parse_image_ref)
    return dlg
