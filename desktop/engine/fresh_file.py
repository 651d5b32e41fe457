"""Write a file through a fresh temporary file beside it, then rename it into place.

A fixed name such as `dest.part` may already exist, planted as a link to some other file,
and opening it would write through. mkstemp creates a new file (O_EXCL: never follows a link
or reuses one), and the rename replaces `dest` itself only once the content is complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import BinaryIO


@contextlib.contextmanager
def fresh_file(dest: str | os.PathLike) -> Iterator[BinaryIO]:
    """Yield a new file opened for writing; on success it becomes `dest`, on any failure it is removed."""
    dest = os.fspath(dest)
    folder = os.path.dirname(os.path.abspath(dest))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(dest)}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
