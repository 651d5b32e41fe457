"""The app's own log file (written by its thread, private) and the window-state file (atomic)."""

from __future__ import annotations

import json
import logging
import os

import pytest

from desktop.app_log import FILE_NAME, LogFile
from desktop.state import window_state


def test_log_file_is_written_by_its_thread_and_private(tmp_path):
    folder = tmp_path / "log"
    log = LogFile(folder).start()
    try:
        logging.getLogger("pilothouse.test").warning("engine %s lost", "build-host")
    finally:
        log.stop()  # flushes the queue and joins the writer
    path = folder / FILE_NAME
    assert "WARNING pilothouse.test: engine build-host lost" in path.read_text()
    assert (folder.stat().st_mode & 0o777) == 0o700
    assert (path.stat().st_mode & 0o777) == 0o600
    assert log._handler not in logging.getLogger().handlers


def test_log_file_rotates(tmp_path):
    log = LogFile(tmp_path, max_bytes=2_000, backups=2).start()
    try:
        for i in range(200):
            logging.getLogger("pilothouse.test").warning("line %d %s", i, "x" * 40)
    finally:
        log.stop()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [FILE_NAME, f"{FILE_NAME}.1", f"{FILE_NAME}.2"]
    assert all(p.stat().st_size <= 2_200 for p in tmp_path.iterdir())


def test_window_state_round_trip_and_bad_files(tmp_path):
    path = tmp_path / "cfg" / window_state.FILE_NAME
    assert window_state.load(path) == {}
    window_state.save(path, {"page": "images", "splitters": {"compose/0": [1, 2]}})
    assert window_state.load(path)["page"] == "images"
    assert [p.name for p in path.parent.iterdir()] == [window_state.FILE_NAME]  # no temp file left
    path.write_text("{not json")
    assert window_state.load(path) == {}
    path.write_text(json.dumps({"version": 99, "page": "x"}))  # a future format: not guessed at
    assert window_state.load(path) == {}
    path.write_text("[1, 2]")
    assert window_state.load(path) == {}


def test_window_state_write_failure_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / window_state.FILE_NAME
    window_state.save(path, {"page": "images"})

    def broken(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken)  # a fault a real disk seldom offers on cue
    with pytest.raises(OSError):
        window_state.save(path, {"page": "volumes"})
    assert window_state.load(path)["page"] == "images"
    assert [p.name for p in tmp_path.iterdir()] == [window_state.FILE_NAME]
