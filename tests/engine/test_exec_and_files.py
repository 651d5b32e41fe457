"""Exec sessions and the archive API against the real engine."""

from __future__ import annotations

import asyncio
import os

import pytest

from desktop.engine.archive import ContainerFiles
from desktop.engine.errors import EngineError, NotFoundError
from desktop.engine.exec_session import ExecSession


def test_exec_session_echo_resize_exit(client, run, make_container):
    cid = make_container(start=True)
    run(client.connect())

    async def go():
        out = bytearray()
        ended = asyncio.get_running_loop().create_future()
        s = ExecSession(client, cid, on_output=out.extend, on_exit=lambda m: ended.set_result(m))
        await s.start(100, 30)

        async def expect(text: bytes):
            for _ in range(500):
                if text in out:
                    return
                await asyncio.sleep(0.01)
            raise AssertionError(f"{text!r} not in {bytes(out)!r}")

        s.write(b"echo he''llo\r")
        await expect(b"hello")
        await s.resize(91, 21)
        s.write(b"stty size\r")
        await expect(b"21 91")
        s.write(b"exit 4\r")
        return s.command, await asyncio.wait_for(ended, 10)

    command, message = run(go())
    assert command == ["/bin/sh"]
    assert message == "The shell exited with code 4."


def test_exec_in_stopped_container_is_a_sentence(client, run, make_container):
    cid = make_container()
    run(client.connect())
    s = ExecSession(client, cid, on_output=lambda b: None, on_exit=lambda m: None)
    with pytest.raises(EngineError) as e:
        run(s.start())
    assert "not running" in str(e.value)


def test_archive_list_download_upload(client, run, make_container, docker_api, tmp_path):
    cid = make_container()
    run(client.connect())
    files = ContainerFiles(client, cid)
    seen = []
    entries = run(files.list_dir("/bin", seen.extend))
    names = {e.name for e in entries}
    assert {"busybox", "sh", "ls"} <= names and len(seen) == len(entries)
    assert all("/" not in e.name for e in entries)  # direct children only
    root = run(files.list_dir("/"))
    assert [e.name for e in root if e.is_dir][:3] == sorted(e.name for e in root if e.is_dir)[:3]
    dest = tmp_path / "etc"
    run(files.download("/etc", str(dest)))
    assert (dest / "etc" / "passwd").exists() or (dest / "passwd").exists()
    src = tmp_path / "up.bin"
    src.write_bytes(os.urandom(70_000))
    run(files.upload([str(src)], "/tmp"))
    back = tmp_path / "back.bin"
    run(files.download("/tmp/up.bin", str(back)))
    assert back.read_bytes() == src.read_bytes()
    with pytest.raises(NotFoundError) as e:
        run(files.list_dir("/does/not/exist"))
    assert str(e.value) == "There is no /does/not/exist in the container."
    with pytest.raises(EngineError) as e:
        run(files.upload([str(src)], "/no/such/folder"))
    assert "/no/such/folder" in str(e.value)
    with pytest.raises(EngineError) as e:
        run(files.list_dir("/etc/passwd"))
    assert "not a folder" in str(e.value)
