"""Pilothouse's own log file: a rotating file in the platform's log folder (Help > Open the log
folder), written by a thread of its own so a slow disk never stalls the window."""

from __future__ import annotations

import logging
import logging.handlers
import os
import queue
from pathlib import Path

FILE_NAME = "pilothouse.log"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_dir() -> Path:
    """Where the log file lives (~/.local/state/pilothouse/log on Linux, ~/Library/Logs on macOS)."""
    import platformdirs

    return Path(platformdirs.user_log_dir("pilothouse", appauthor=False))


class _PrivateRotatingFile(logging.handlers.RotatingFileHandler):
    """Engine addresses and container names are the user's business: the folder is 0700 and the
    file 0600, made on first write (in the writer thread)."""

    def _open(self):
        Path(self.baseFilename).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding or "utf-8", errors=self.errors)


class LogFile:
    """Hands every record of the root logger to a writer thread; `stop()` flushes and closes."""

    def __init__(self, directory: str | os.PathLike | None = None, max_bytes: int = 2_000_000,
                 backups: int = 3) -> None:
        self.path = Path(directory if directory is not None else log_dir()) / FILE_NAME
        file_handler = _PrivateRotatingFile(self.path, maxBytes=max_bytes, backupCount=backups,
                                            encoding="utf-8", delay=True)
        file_handler.setFormatter(logging.Formatter(FORMAT))
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._handler = logging.handlers.QueueHandler(self._queue)
        self._listener = logging.handlers.QueueListener(self._queue, file_handler)
        self._file_handler = file_handler

    def start(self) -> "LogFile":
        self._listener.start()
        logging.getLogger().addHandler(self._handler)
        return self

    def stop(self) -> None:
        logging.getLogger().removeHandler(self._handler)
        self._listener.stop()  # writes what is queued, then joins the thread
        self._file_handler.close()
