"""The Files tab's engine side with awkward real content: names that are not UTF-8, symlinks
(followed, or explained when they lead nowhere), and a folder listed under a byte cap."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from desktop.engine.archive import ContainerFiles
from desktop.engine.errors import NotFoundError
from desktop.engine.tar_safety import printable

RAW_NAME = b"caf\xe9-\x1b[31m.txt"  # Latin-1 bytes and an escape sequence: hostile to a display


def put(docker_api, cid, folder, members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, kind, data in members:
            ti = tarfile.TarInfo(name)
            if kind == "sym":
                ti.type, ti.linkname = tarfile.SYMTYPE, data
                tar.addfile(ti)
            else:
                ti.size = len(data)
                tar.addfile(ti, io.BytesIO(data))
    assert docker_api.put_archive(cid, folder, buf.getvalue())


@pytest.fixture
def files(client, run, make_container, docker_api):
    cid = make_container()
    run(client.connect())
    put(docker_api, cid, "/tmp", [(os.fsdecode(RAW_NAME), "file", b"latin"), ("target.txt", "file", b"pointed at"),
                                  ("link", "sym", "target.txt"), ("abs-link", "sym", "/tmp/target.txt"),
                                  ("dangling", "sym", "/nowhere/at/all")])
    return ContainerFiles(client, cid)


def test_undecodable_names_list_escaped_and_download(files, run, tmp_path):
    entries = {e.name: e for e in run(files.list_dir("/tmp"))}
    name = os.fsdecode(RAW_NAME)
    assert name in entries
    assert printable(name) == "caf\\xe9-\\x1b[31m.txt"
    run(files.download(entries[name].path, str(tmp_path / "out")))
    assert (tmp_path / "out").read_bytes() == b"latin"


def test_symlinks_are_followed_or_explained(files, run, tmp_path):
    run(files.download("/tmp/link", str(tmp_path / "a")))
    run(files.download("/tmp/abs-link", str(tmp_path / "b")))
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes() == b"pointed at"
    with pytest.raises(NotFoundError) as err:
        run(files.download("/tmp/dangling", str(tmp_path / "c")))
    assert str(err.value) == "/tmp/dangling is a link to /nowhere/at/all, which does not exist in the container."
    assert not (tmp_path / "c").exists()


def test_a_folder_bigger_than_the_cap_is_listed_as_partial(files, run, docker_api):
    put(docker_api, files.cid, "/tmp", [("a-big.bin", "file", os.urandom(600_000)), ("z-after.txt", "file", b"z")])
    whole = run(files.list_dir("/tmp"))
    assert whole.complete and "z-after.txt" in {e.name for e in whole}
    part = run(files.list_dir("/tmp", byte_limit=300_000))
    assert not part.complete
    assert "a-big.bin" in {e.name for e in part} and "z-after.txt" not in {e.name for e in part}
