"""Small forms: tag, commit, create volume/network, clone, connect, login, save/load/export/import."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

from desktop.engine.client import EngineClient
from desktop.engine.image_transfer import export_job, import_image, load_job, login, save_job
from desktop.engine.objects import ObjectsClient
from desktop.engine.run_request import FormErrors
from desktop.engine.specs import SpecError, parse_image_ref, parse_key_value, parse_lines, parse_name, parse_subnet
from desktop.ui.widgets.engine_choice import chosen, engine_fields
from desktop.ui.widgets.form_dialog import Field, FormDialog
from desktop.ui.objects.pull_dialog import TransferDialog


def _field_error(key: str, fn, *a):
    try:
        return fn(*a)
    except SpecError as err:
        raise FormErrors({key: str(err)}) from None


def tag_dialog(parent: QWidget, objects: ObjectsClient, image_id: str) -> FormDialog:
    async def submit(v: dict) -> str:
        ref = _field_error("reference", parse_image_ref, v["reference"])
        if ref.digest:
            raise FormErrors({"reference": "A tag cannot have a digest."})
        return await objects.tag_image(image_id, ref.repository, ref.tag or "latest")

    return FormDialog(parent, "Tag image", [Field("reference", "New tag", placeholder="registry:5000/team/app:1.0")],
                      "Tag", submit, object_name="tagDialog")


def commit_dialog(parent: QWidget, objects: ObjectsClient, container_id: str, container_name: str) -> FormDialog:
    async def submit(v: dict) -> str:
        ref = _field_error("reference", parse_image_ref, v["reference"])
        if ref.digest:
            raise FormErrors({"reference": "A tag cannot have a digest."})
        return await objects.commit(container_id, ref.repository, ref.tag or "latest", v["message"].strip())

    return FormDialog(parent, f"Commit {container_name} to an image", [
        Field("reference", "Image", placeholder="myapp:snapshot"),
        Field("message", "Message", placeholder="optional")], "Commit", submit, object_name="commitDialog")


def volume_create_dialog(parent: QWidget, objects: ObjectsClient) -> FormDialog:
    async def submit(v: dict):
        name = v["name"].strip()
        if name:
            _field_error("name", parse_name, name, "volume")
        labels = dict(_field_error("labels", parse_lines, v["labels"], lambda s: parse_key_value(s, "label"), "Label"))
        return await chosen(objects, v).create_volume(name, v["driver"].strip() or "local", labels)

    return FormDialog(parent, "Create a volume", [*engine_fields(objects),
        Field("name", "Name", placeholder="optional: the engine picks one"),
        Field("driver", "Driver", default="local"),
        Field("labels", "Labels", kind="text", placeholder="key=value, one per line")],
        "Create", submit, object_name="volumeCreateDialog")


def network_create_dialog(parent: QWidget, objects: ObjectsClient) -> FormDialog:
    async def submit(v: dict) -> str:
        errors = {}
        try:
            parse_name(v["name"], "network")
        except SpecError as err:
            errors["name"] = str(err)
        if v["gateway"].strip() and not v["subnet"].strip():
            errors["subnet"] = "A gateway needs a subnet."
        elif v["subnet"].strip():
            try:
                parse_subnet(v["subnet"])
                parse_subnet(v["subnet"], v["gateway"])
            except SpecError as err:
                # the subnet alone is checked first: an error after that is the gateway's
                try:
                    parse_subnet(v["subnet"])
                    errors["gateway"] = str(err)
                except SpecError:
                    errors["subnet"] = str(err)
        if errors:
            raise FormErrors(errors)
        return await chosen(objects, v).create_network(v["name"], v["subnet"], v["gateway"], internal=v["internal"])

    return FormDialog(parent, "Create a bridge network", [*engine_fields(objects),
        Field("name", "Name"),
        Field("subnet", "Subnet", placeholder="optional, like 172.28.0.0/16"),
        Field("gateway", "Gateway", placeholder="optional, like 172.28.0.1"),
        Field("internal", "Internal (no outside access)", kind="check")],
        "Create", submit, object_name="networkCreateDialog")


def choose_dialog(parent: QWidget, title: str, label: str, choices: list[str], ok: str, submit) -> FormDialog:
    return FormDialog(parent, title, [Field("choice", label, kind="combo", choices=choices,
                                            default=choices[0] if choices else "")],
                      ok, submit, object_name="chooseDialog")


def login_dialog(parent: QWidget, client: EngineClient, registry: str = "") -> FormDialog:
    async def submit(v: dict) -> str:
        return await login(chosen(client, v), v["registry"], v["username"], v["password"])

    return FormDialog(parent, "Log in to a registry", [*engine_fields(client),
        Field("registry", "Registry", default=registry, placeholder="registry.example.com or localhost:5000"),
        Field("username", "User name"),
        Field("password", "Password or token", kind="password")], "Log in", submit,
        intro="The login is stored by your docker configuration's credential helper, as the docker CLI does.",
        object_name="loginDialog")


def save_dialog(parent: QWidget, client: EngineClient, images: list[str], total: int = 0) -> TransferDialog:
    dlg: TransferDialog

    async def submit(v: dict) -> str:
        path = v["path"].strip()
        if not path:
            raise FormErrors({"path": "Choose where to save the tar file."})
        if not Path(path).expanduser().parent.is_dir():
            raise FormErrors({"path": f"The folder {Path(path).parent} does not exist."})
        dlg.progress.bytes_total = total
        dlg.progress.start(f"Saving {', '.join(images)}…")
        try:
            await save_job(client, images, Path(path).expanduser(), dlg.progress.feed_bytes).run()
        finally:
            dlg.progress.stop()
        return path

    dlg = TransferDialog(parent, "Save images to a tar file", [Field("path", "File", kind="save_file",
                                                                     placeholder="images.tar")],
                         "Save", submit, mode="bytes", object_name="saveDialog")
    return dlg


def load_dialog(parent: QWidget, client: EngineClient) -> TransferDialog:
    dlg: TransferDialog

    async def submit(v: dict) -> str:
        path = Path(v["path"].strip()).expanduser()
        if not v["path"].strip() or not path.is_file():
            raise FormErrors({"path": "Choose a tar file made by Save (or docker save)."})
        dlg.progress.bytes_total = path.stat().st_size
        dlg.progress.start(f"Loading {path.name}…")
        loaded: list[str] = []

        def on_item(item) -> None:
            if isinstance(item, dict) and item.get("stream", "").startswith("Loaded image"):
                loaded.append(item["stream"].split(":", 1)[1].strip())
            dlg.progress.feed_bytes(item)

        # byte counts come from the upload thread; hand them to the loop
        import asyncio
        loop = asyncio.get_running_loop()
        try:
            await load_job(chosen(client, v), path, lambda it: loop.call_soon_threadsafe(on_item, it)).run()
        finally:
            dlg.progress.stop()
        return ", ".join(loaded) or path.name

    dlg = TransferDialog(parent, "Load images from a tar file", [*engine_fields(client), Field("path", "File", kind="open_file")],
                         "Load", submit, mode="bytes", object_name="loadDialog")
    return dlg


def export_dialog(parent: QWidget, client: EngineClient, container_id: str, name: str) -> TransferDialog:
    dlg: TransferDialog

    async def submit(v: dict) -> str:
        path = v["path"].strip()
        if not path or not Path(path).expanduser().parent.is_dir():
            raise FormErrors({"path": "Choose a file in an existing folder."})
        dlg.progress.start(f"Exporting {name}…")
        try:
            await export_job(client, container_id, Path(path).expanduser(), dlg.progress.feed_bytes).run()
        finally:
            dlg.progress.stop()
        return path

    return (dlg := TransferDialog(parent, f"Export {name}'s filesystem", [
        Field("path", "File", kind="save_file", placeholder=f"{name}.tar")], "Export", submit, mode="bytes",
        object_name="exportDialog"))


def import_dialog(parent: QWidget, client: EngineClient) -> FormDialog:
    async def submit(v: dict) -> str:
        path = Path(v["path"].strip()).expanduser()
        errors = {}
        if not v["path"].strip() or not path.is_file():
            errors["path"] = "Choose a filesystem tar file (for example one made by Export)."
        try:
            ref = parse_image_ref(v["reference"])
            if ref.digest:
                errors["reference"] = "A tag cannot have a digest."
        except SpecError as err:
            errors["reference"] = str(err)
        if errors:
            raise FormErrors(errors)
        return await import_image(chosen(client, v), path, ref.repository, ref.tag or "latest")

    return FormDialog(parent, "Import a filesystem tar as an image", [*engine_fields(client),
        Field("path", "File", kind="open_file"), Field("reference", "Image", placeholder="imported:latest")],
        "Import", submit, object_name="importDialog")
