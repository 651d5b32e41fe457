"""Run a container from an image: every field validated, engine refusals shown beside the field."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QWidget

from desktop.engine.client import EngineClient
from desktop.engine.run_request import FormErrors, parse_run_form, run_container
from desktop.engine.wsl_paths import wsl_mount_line
from desktop.engine.specs import (parse_command, parse_image_ref, parse_key_value, parse_lines, parse_mount,
                                  parse_name, parse_port, parse_restart)
from desktop.ui.widgets.engine_choice import chosen, engine_fields
from desktop.ui.widgets.form_dialog import Field, FormDialog


def run_dialog(parent: QWidget, client: EngineClient, image: str = "", images: list[str] = (),
               networks: list[str] = ()) -> FormDialog:
    """A dialog whose `ask()` returns the new container's id (None if cancelled)."""
    dlg: FormDialog

    async def submit(values: dict) -> str:
        target = chosen(client, values)
        # On Windows, Pilothouse's own engine sees the drives at /mnt/<letter>: C:\work -> /mnt/c/work.
        req = parse_run_form(values, wsl_mount_line(getattr(target, "engine_tag", None), sys.platform))
        dlg.set_busy(True, f"Starting a container from {req.image}…")
        return await run_container(target, req)

    dlg = FormDialog(parent, "Run a container", [*engine_fields(client),
        Field("image", "Image", kind="combo", choices=list(images), default=image),
        Field("name", "Name", placeholder="optional: the engine picks one"),
        Field("ports", "Published ports", kind="text", placeholder="8080:80   127.0.0.1::53/udp   (one per line)"),
        Field("env", "Environment", kind="text", placeholder="KEY=VALUE, one per line"),
        Field("mounts", "Bind mounts and volumes", kind="text",
              placeholder="/host/path:/in/container:ro   or   volume-name:/data"),
        Field("network", "Network", kind="combo", choices=["", *networks]),
        Field("restart", "Restart policy", kind="combo", choices=["no", "always", "unless-stopped", "on-failure"],
              default="no"),
        Field("command", "Command", placeholder="optional: overrides the image's command"),
        Field("auto_remove", "Remove the container when it exits", kind="check"),
        Field("detach", "Run in the background (detached)", kind="check", default=True),
    ], "Run", submit, object_name="runDialog")
    dlg.live_check("image", parse_image_ref)
    dlg.live_check("name", parse_name)
    dlg.live_check("ports", lambda t: parse_lines(t, parse_port, "Port"))
    dlg.live_check("env", lambda t: parse_lines(t, parse_key_value, "Variable"))
    def check_mounts(text: str):
        rewrite = wsl_mount_line(getattr(chosen(client, dlg.values()), "engine_tag", None), sys.platform)
        return parse_lines(text, (lambda line: parse_mount(rewrite(line))) if rewrite else parse_mount, "Mount")

    dlg.live_check("mounts", check_mounts)
    dlg.live_check("restart", parse_restart)
    dlg.live_check("command", parse_command)
    return dlg


__all__ = ["run_dialog", "FormErrors"]
