"""The image's recorded version, the update offer, the bundled image, and the download cache
(served by a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import hashlib
import http.server
import json
import sys
import threading
from pathlib import Path

import pytest

from desktop.vm import download, image_build
from desktop.vm.config import VMConfig
from desktop.vm.machine import VMImageOutdated, VMManager
from desktop.vm.image_files import user_vm_paths
from desktop.vm.paths import VMPaths, host_arch


def _image(d: Path, version: str | None, recipe_version: int = 5) -> Path:
    d.mkdir(parents=True)
    for f in image_build.IMAGE_FILES:
        (d / f).write_bytes(b"x")
    m = {"arch": host_arch(), "recipe_version": recipe_version}
    if version:
        m["version"] = version
    (d / "manifest.json").write_text(json.dumps(m))
    return d


def test_image_state_compares_versions(tmp_path: Path):
    want = image_build.expected_version()
    major, serial = (int(x) for x in want.split("."))
    assert image_build.image_state(tmp_path / "none").status == "missing"
    assert image_build.image_state(_image(tmp_path / "same", want)).status == "current"
    assert image_build.image_state(_image(tmp_path / "newer", f"{major}.{serial + 1}")).status == "current"
    old = image_build.image_state(_image(tmp_path / "old", f"{major}.{serial - 1}"))
    assert (old.status, old.found_version, old.expected_version) == ("outdated", f"{major}.{serial - 1}", want)
    before_versions = image_build.image_state(_image(tmp_path / "v4", None, recipe_version=4))
    assert before_versions.status == "outdated" and before_versions.found_version == "4"


def test_start_offers_the_update_and_leaves_the_data_disk(tmp_path: Path):
    paths = VMPaths(tmp_path / "state", _image(tmp_path / "img", None, recipe_version=4), tmp_path / "docker")
    paths.ensure()
    paths.data_disk.write_bytes(b"the user's containers")
    with pytest.raises(VMImageOutdated) as e:
        asyncio.run(VMManager(VMConfig(), paths).start())
    assert "version 4" in str(e.value) and "pilothouse vm build" in str(e.value) and "kept" in str(e.value)
    assert e.value.expected == image_build.expected_version()
    assert paths.data_disk.read_bytes() == b"the user's containers"


def test_cli_image_reports_an_outdated_image(tmp_path: Path, monkeypatch, capsys):
    from desktop.vm.cli import main

    monkeypatch.setenv("PILOTHOUSE_VM_IMAGE_DIR", str(_image(tmp_path / "img", "1.0")))
    monkeypatch.setenv("PILOTHOUSE_VM_STATE_DIR", str(tmp_path / "state"))
    assert main(["image"]) == 3
    out = capsys.readouterr().out
    assert "outdated (version 1.0; this Pilothouse expects" in out


def test_a_bundled_current_image_is_preferred(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("PILOTHOUSE_VM_IMAGE_DIR", raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    bundled = _image(tmp_path / "vm-image" / host_arch(), image_build.expected_version())
    assert image_build.bundled_image_dir() == bundled
    assert user_vm_paths().image_dir == bundled
    (bundled / "manifest.json").write_text(json.dumps({"arch": host_arch(), "version": "1.0"}))
    assert user_vm_paths().image_dir != bundled, "an outdated bundled image is not used"


class _Server:
    """Serves one body; honours Range; can break the connection after `cut` bytes once."""

    def __init__(self, body: bytes, cut: int | None = None, ignore_range: bool = False) -> None:
        self.body, self.cut, self.ignore_range, self.ranges = body, cut, ignore_range, []
        srv = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *_a) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                rng = self.headers.get("Range")
                start = int(rng.split("=")[1].split("-")[0]) if rng and not srv.ignore_range else 0
                srv.ranges.append(rng)
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(srv.body) - start))
                self.end_headers()
                if srv.cut is not None:
                    self.wfile.write(srv.body[start:srv.cut])
                    srv.cut = None
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                self.wfile.write(srv.body[start:])

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/pkg.deb"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


BODY = bytes(range(256)) * 12000  # ~3 MB: several chunks


@pytest.mark.parametrize("ignore_range", [False, True])
def test_download_resumes_after_a_break(tmp_path: Path, ignore_range: bool):
    srv = _Server(BODY, cut=1_500_000, ignore_range=ignore_range)
    dest = tmp_path / "debs" / "pkg.deb"
    sha = hashlib.sha256(BODY).hexdigest()
    try:
        with pytest.raises(download.DownloadError, match="broke off after 1500000 of"):
            download.download(srv.url, dest, sha, len(BODY))
        assert not dest.exists() and (tmp_path / "debs/partial/pkg.deb.part").stat().st_size == 1_500_000
        seen = []
        download.download(srv.url, dest, sha, len(BODY), progress=seen.append)
    finally:
        srv.close()
    assert dest.read_bytes() == BODY and srv.ranges[-1] == "bytes=1500000-"
    assert sum(seen) == len(BODY), "progress counts each byte once, also when the server restarts from 0"
    assert not list((tmp_path / "debs/partial").iterdir())


def test_download_mismatch_and_cancel(tmp_path: Path):
    srv = _Server(BODY)
    dest = tmp_path / "pkg.deb"
    try:
        with pytest.raises(download.DownloadError, match="does not match the archive's signed checksum"):
            download.download(srv.url, dest, "0" * 64, len(BODY))
        assert not dest.exists() and not list((tmp_path / "partial").iterdir())
        cancel = threading.Event()
        with pytest.raises(download.DownloadCancelled):
            download.download(srv.url, dest, hashlib.sha256(BODY).hexdigest(), len(BODY),
                              progress=lambda _n: cancel.set(), cancel=cancel)
        assert not dest.exists() and (tmp_path / "partial/pkg.deb.part").stat().st_size < len(BODY)
    finally:
        srv.close()


def test_cli_progress_bar_on_a_terminal_and_plain_lines_elsewhere():
    import io

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, plain = Tty(), io.StringIO()
    for stream in (tty, plain):
        bar = image_build._Bar(stream)
        bar("download", 0, 200_000_000)
        bar("download", 100_000_000, 200_000_000)
        bar("extract", 3, 31)
        bar.close()
    assert "[###############               ]  50.0% 100.0/200.0 MB" in tty.getvalue() and "3/31" in tty.getvalue()
    assert plain.getvalue() == "download ...\nextract ...\n"


def test_an_unwritable_cache_is_a_sentence(tmp_path: Path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(image_build.BuildError, match="cannot write .*cache.*free some disk space or check"):
        image_build.build_image(cache_dir=blocker, out_dir=tmp_path / "out", force=True)
