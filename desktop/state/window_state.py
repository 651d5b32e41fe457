"""What the window looked like when it was last closed (size, place, page, splitters, columns),
kept as a small JSON file beside the settings and written atomically."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FILE_NAME = "window.json"
VERSION = 1


def load(path: str | os.PathLike) -> dict[str, Any]:
    """The saved state, or {} when there is none or it cannot be read (the window's defaults)."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("window state: %s could not be read (%s); using the defaults", path, exc)
        return {}
    if not isinstance(raw, dict) or raw.get("version") != VERSION:
        return {}
    return raw


def save(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write `state` so that a crash leaves the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".window-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({**state, "version": VERSION}, f, indent=1, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
