"""An image holding one static binary and nothing else (no shell, no /bin): busybox-static's
binary copied as /busybox (busybox picks its applet from its own name, so it keeps it), its
entry point `/busybox sleep 3600`. What a distroless image looks like to a debugger."""

from __future__ import annotations

import io
import os
import tarfile

import docker

STATIC_IMAGE = "pilothouse-test/static-app:latest"


def ensure_static_image(host: str) -> str:
    """Import the image if the engine lacks it; returns its id."""
    api = docker.APIClient(base_url=host, timeout=120)
    try:
        try:
            return api.inspect_image(STATIC_IMAGE)["Id"]
        except docker.errors.ImageNotFound:
            pass
        busybox = next(p for p in ("/bin/busybox", "/usr/bin/busybox") if os.path.exists(p))
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            tar.add(busybox, arcname="busybox")
        api.import_image_from_data(buf.getvalue(), repository=STATIC_IMAGE.split(":")[0], tag="latest",
                                   changes=['ENTRYPOINT ["/busybox", "sleep", "3600"]'])
        return api.inspect_image(STATIC_IMAGE)["Id"]
    finally:
        api.close()
