"""What the Compose files named by container labels hold, read off the UI thread and with care.

A container's labels are whatever its creator wrote: `config_files` may name /dev/zero, a FIFO
(opening it blocks for ever), a 10 GB file, a path on a hung network mount, or, for a remote
engine, a path that means something only on that other machine. So a file is read only for
local engines (and files the user opened), in a worker thread, only when it is a regular file
under MAX_BYTES; the result is cached and announced, and until then nothing is assumed.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass

MAX_BYTES = 1 << 20  # a compose file is a few KiB; anything this big is not one


@dataclass(frozen=True)
class ComposeFileInfo:
    present: bool  # a regular file under the cap
    services: tuple[str, ...] = ()


ABSENT = ComposeFileInfo(False)


def read_compose_file(path: str) -> ComposeFileInfo:
    """Blocking: the file's top-level service names, if it is a regular file under MAX_BYTES."""
    try:
        # O_NONBLOCK: if the path is swapped for a FIFO after any check, open() must not wait.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return ABSENT
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_BYTES:
            return ABSENT
        data = os.read(fd, MAX_BYTES + 1)
    except OSError:
        return ABSENT
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        return ABSENT
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ComposeFileInfo(True)
    return ComposeFileInfo(True, services_in(text))


def services_in(text: str) -> tuple[str, ...]:
    """Service names from a compose file's top-level `services:` block, without a YAML parser:
    enough to list services before the first `up` (Compose itself does the real parsing)."""
    names, inside, indent = [], False, None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            inside = line.rstrip().startswith("services:")
            indent = None
            continue
        if not inside:
            continue
        width = len(line) - len(line.lstrip())
        if indent is None:
            indent = width
        if width == indent and line.strip().endswith(":"):
            names.append(line.strip()[:-1].strip("'\""))
    return tuple(names)


class ComposeFileCache:
    """`get(path)` answers from the cache at once; an unknown path is read in a worker and
    `on_read()` is called on the loop when its answer is in."""

    def __init__(self, on_read: Callable[[], None], reader: Callable[[str], ComposeFileInfo] = read_compose_file) -> None:
        self._known: dict[str, ComposeFileInfo] = {}
        self._reading: set[str] = set()
        self._on_read = on_read
        self._reader = reader

    def get(self, path: str) -> ComposeFileInfo | None:
        """The file's info, or None while it is being read (or when no loop runs to read it)."""
        info = self._known.get(path)
        if info is not None or path in self._reading:
            return info
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        self._reading.add(path)
        fut = loop.run_in_executor(None, self._reader, path)
        fut.add_done_callback(lambda f, p=path: self._done(p, f))
        return None

    def _done(self, path: str, fut: "asyncio.Future[ComposeFileInfo]") -> None:
        self._reading.discard(path)
        if fut.cancelled():
            return
        self._known[path] = ABSENT if fut.exception() is not None else fut.result()
        self._on_read()

    def forget(self, path: str) -> None:
        """Read it again next time."""
        self._known.pop(path, None)

    def prime(self, path: str) -> ComposeFileInfo:
        """Read a file the user has just chosen, now: a regular file they picked (checked by the
        caller), read with the same cap, so its services show at once and Up is not greyed."""
        info = self._known[path] = self._reader(path)
        return info
