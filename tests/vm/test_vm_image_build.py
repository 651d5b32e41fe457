"""The Python-only image build against Debian's real archive: byte-identical builds from one
lock, module metadata equal to depmod's, and each bad input (bad signature, sha256 mismatch,
package missing from the index, unreachable archive, interrupted or cancelled download) stopping
with a sentence that names the file while the previous image stays usable.

Faults come from a proxy on 127.0.0.1 in front of the real archive, which changes bytes on the
way: the one thing a real archive cannot be asked to do. Packages other than the one a test
needs are hard-linked from the session's package cache, so each test downloads little."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from desktop.vm import image_build, image_lock
from desktop.vm.debian_index import Sources
from desktop.vm.image_recipe import PACKAGES

pytestmark = [pytest.mark.vm, pytest.mark.timeout(900)]
SMALL = "tini"  # a ~250 kB package the fault tests download through the proxy


@dataclass
class Proxy:
    """Forwards GETs to the real archive; `fault(path, body) -> body | None` may change them."""

    upstream: dict[str, str]
    fault: Callable[[str, bytes], bytes | None] = lambda _p, body: body
    drop_after: dict[str, int] = field(default_factory=dict)  # path suffix -> bytes sent, then close
    ranges: list[str] = field(default_factory=list)
    server: http.server.ThreadingHTTPServer | None = None

    def start(self) -> "Proxy":
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *_a) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                prefix, _, rest = self.path.lstrip("/").partition("/")
                try:
                    with urllib.request.urlopen(f"{proxy.upstream[prefix]}/{rest}", timeout=60) as r:
                        body = r.read()
                except Exception:  # noqa: BLE001 - pass upstream errors on as 404
                    self.send_error(404)
                    return
                body = proxy.fault(rest, body)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                rng = self.headers.get("Range")
                if rng:
                    proxy.ranges.append(f"{rest} {rng}")
                    start = int(rng.split("=")[1].split("-")[0])
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                limit = next((n for suffix, n in proxy.drop_after.items() if rest.endswith(suffix)), None)
                if limit is not None:
                    del proxy.drop_after[next(s for s in proxy.drop_after if rest.endswith(s))]
                    self.wfile.write(body[start:start + limit])
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body[start:])

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def sources(self) -> Sources:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        return Sources(f"{base}/debian", f"{base}/debian-security")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def warm_cache() -> Path:
    """The user's package cache, filled by building the current image once."""
    image_build.build_image(force=False)
    return image_build.default_cache_dir()


@pytest.fixture(scope="module")
def good_image(tmp_path_factory, warm_cache: Path) -> Path:
    out = tmp_path_factory.mktemp("good") / "image"
    image_build.build_image(out_dir=out, cache_dir=warm_cache)
    return out


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    real = Sources()
    p = Proxy({"debian": real.archive, "debian-security": real.security_archive}).start()
    yield p
    p.stop()


def _cache_without(warm: Path, dest: Path, missing: str) -> Path:
    """A package cache with every .deb of the warm one (hard links) but `missing`'s, and the
    index subsets (derived from verified indices), so a build fetches InRelease and one .deb."""
    (dest / "debs").mkdir(parents=True)
    for deb in (warm / "debs").glob("*.deb"):
        if not deb.name.startswith(f"{missing}_"):
            os.link(deb, dest / "debs" / deb.name)
    shutil.copytree(warm / "indices", dest / "indices")
    return dest


def _image_bytes(d: Path) -> dict[str, bytes]:
    return {f: (d / f).read_bytes() for f in (*image_build.IMAGE_FILES, "manifest.json")}


def _unchanged(good: Path, before: dict[str, bytes]) -> None:
    assert _image_bytes(good) == before, "the previous image must stay as it was"
    assert image_build.image_state(good).status == "current"


def test_two_builds_from_one_lock_are_byte_identical(tmp_path: Path, warm_cache: Path, good_image: Path):
    # A cold extraction and compression (empty caches but the .debs) against the warm result.
    cold = _cache_without(warm_cache, tmp_path / "cache", missing="\0")
    info = image_build.build_image(out_dir=tmp_path / "a", cache_dir=cold, force=True)
    assert _image_bytes(tmp_path / "a") == _image_bytes(good_image)
    lock, _ = image_lock.for_arch(image_lock.default_lock_path(), info.arch)
    assert info.manifest["packages"] == {f"{p.name}:{'amd64' if info.arch == 'x86_64' else 'arm64'}": p.version
                                         for p in lock.packages}
    assert not list((cold / "debs" / "partial").glob("*")), "nothing half-written may stay behind"


@pytest.mark.skipif(shutil.which("depmod") is None, reason="kmod not installed")
def test_module_metadata_matches_depmod(tmp_path: Path, good_image: Path):
    nodes = image_build.read_initramfs((good_image / "initramfs.img").read_bytes())
    root = tmp_path / "root"
    for n in nodes:
        if n.path.startswith("usr/lib/modules/") and n.kind == "file":
            (root / n.path).parent.mkdir(parents=True, exist_ok=True)
            (root / n.path).write_bytes(n.data)
    kver = next((root / "usr/lib/modules").iterdir()).name
    ours = {p: (root / "usr/lib/modules" / kver / p).read_text() for p in ("modules.dep", "modules.alias", "modules.softdep")}
    subprocess.run(["depmod", "-b", str(root / "usr"), kver], check=True, capture_output=True)

    def deps(text: str) -> dict[str, list[str]]:
        return {line.split(":")[0]: line.split(":")[1].split() for line in text.splitlines() if ":" in line}
    theirs = (root / "usr/lib/modules" / kver / "modules.dep").read_text()
    assert deps(ours["modules.dep"]).keys() == deps(theirs).keys()
    for mod, want in deps(theirs).items():
        assert sorted(deps(ours["modules.dep"])[mod]) == sorted(want), mod
    their_alias = {ln for ln in (root / "usr/lib/modules" / kver / "modules.alias").read_text().splitlines() if ln.startswith("alias")}
    assert {ln for ln in ours["modules.alias"].splitlines() if ln.startswith("alias")} == their_alias


def test_bad_signature_stops_and_keeps_the_image(tmp_path: Path, proxy: Proxy, warm_cache: Path, good_image: Path):
    before = _image_bytes(good_image)

    def tamper(path: str, body: bytes) -> bytes:
        if path.endswith("bookworm-updates/InRelease"):
            return body.replace(b"Debian", b"Debxan", 1)
        return body
    proxy.fault = tamper
    cache = _cache_without(warm_cache, tmp_path / "cache", missing="\0")
    with pytest.raises(image_build.BuildError) as e:
        image_build.build_image(out_dir=good_image, cache_dir=cache, force=True, sources=proxy.sources())
    msg = str(e.value)
    assert "bookworm-updates/InRelease" in msg and "not signed by a Debian archive key" in msg and "--archive" in msg
    _unchanged(good_image, before)


def test_sha256_mismatch_names_the_deb_and_leaves_nothing(tmp_path: Path, proxy: Proxy, warm_cache: Path, good_image: Path):
    before = _image_bytes(good_image)
    proxy.fault = lambda path, body: body[:-1] + bytes([body[-1] ^ 1]) if f"/{SMALL}_" in path else body
    cache = _cache_without(warm_cache, tmp_path / "cache", missing=SMALL)
    with pytest.raises(image_build.BuildError) as e:
        image_build.build_image(out_dir=good_image, cache_dir=cache, force=True, sources=proxy.sources())
    msg = str(e.value)
    assert f"/{SMALL}_" in msg and ".deb does not match the archive's signed checksum" in msg and "Try again" in msg
    assert not list((cache / "debs").glob(f"{SMALL}_*")) and not list((cache / "debs" / "partial").iterdir())
    _unchanged(good_image, before)


def test_package_missing_from_the_index(tmp_path: Path, warm_cache: Path, good_image: Path):
    before = _image_bytes(good_image)
    data = json.loads(image_lock.default_lock_path().read_text())
    arch = image_build.host_arch()
    data["arches"][arch]["packages"][SMALL]["version"] = "0.0.1-0"
    lock = tmp_path / "lock.json"
    lock.write_text(json.dumps(data))
    with pytest.raises(image_build.BuildError) as e:
        image_build.build_image(out_dir=good_image, cache_dir=warm_cache, lock_path=lock)
    msg = str(e.value)
    assert f"{SMALL} 0.0.1-0" in msg and str(lock) in msg and "missing from the archive's index" in msg
    assert "--update-lock" in msg
    _unchanged(good_image, before)


def test_unreachable_archive(tmp_path: Path, warm_cache: Path, good_image: Path):
    before = _image_bytes(good_image)
    import socket
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = Sources(f"http://127.0.0.1:{port}/debian", f"http://127.0.0.1:{port}/debian-security")
    with pytest.raises(image_build.BuildError) as e:
        image_build.build_image(out_dir=good_image, cache_dir=warm_cache, force=True, sources=dead)
    msg = str(e.value)
    assert f"127.0.0.1:{port}/debian/dists/bookworm/InRelease" in msg and "cannot reach the Debian archive" in msg
    _unchanged(good_image, before)


def test_interrupted_download_resumes_and_cancel_keeps_the_cache_clean(tmp_path: Path, proxy: Proxy, warm_cache: Path,
                                                                      good_image: Path):
    cache = _cache_without(warm_cache, tmp_path / "cache", missing=SMALL)
    out = tmp_path / "image"
    shutil.copytree(good_image, out)
    before = _image_bytes(out)
    proxy.drop_after[".deb"] = 100_000  # the connection breaks after 100 kB of the one download
    with pytest.raises(image_build.BuildError) as e:
        image_build.build_image(out_dir=out, cache_dir=cache, force=True, sources=proxy.sources())
    assert f"/{SMALL}_" in str(e.value)
    part = next((cache / "debs" / "partial").glob(f"{SMALL}_*.part"))
    assert part.stat().st_size == 100_000 and not list((cache / "debs").glob(f"{SMALL}_*.deb"))
    _unchanged(out, before)

    cancel = threading.Event()
    seen: list[tuple[str, int, int]] = []

    def progress(phase: str, done: int, total: int) -> None:
        seen.append((phase, done, total))
        if phase == "extract":
            cancel.set()
    with pytest.raises(image_build.BuildCancelled):
        image_build.build_image(out_dir=out, cache_dir=cache, force=True, sources=proxy.sources(), progress=progress,
                                cancel=cancel)
    assert any(r.endswith("Range: bytes=100000-") or "bytes=100000-" in r for r in proxy.ranges), proxy.ranges
    downloads = [s for s in seen if s[0] == "download"]
    assert downloads[-1][1] == downloads[-1][2] and downloads[0][2] > 100e6, "byte progress over all packages"
    assert list((cache / "debs").glob(f"{SMALL}_*.deb")) and not list((cache / "debs" / "partial").iterdir())
    _unchanged(out, before)
    info = image_build.build_image(out_dir=out, cache_dir=cache, force=True, sources=proxy.sources())
    assert _image_bytes(out) == _image_bytes(good_image) and info.version == image_build.expected_version()


def test_update_lock_pins_both_architectures_and_is_stable(tmp_path: Path, monkeypatch, warm_cache: Path, capsys):
    lock = tmp_path / "image-lock.json"
    shutil.copy(image_lock.default_lock_path(), lock)
    monkeypatch.setenv("PILOTHOUSE_VM_LOCK", str(lock))
    assert image_build.main(["--update-lock", "--out", str(tmp_path / "out")]) == 0
    data = json.loads(lock.read_text())
    for arch, spec in image_build.ARCHES.items():
        entry = data["arches"][arch]
        assert entry["kernel"].startswith("linux-image-") and entry["kernel"].endswith(f"-{spec.deb_arch}")
        assert set(entry["packages"]) == {entry["kernel"], *PACKAGES}
        assert all(len(p["sha256"]) == 64 and p["filename"].endswith(f"_{spec.deb_arch}.deb") or
                   p["filename"].endswith("_all.deb") for p in entry["packages"].values())
    again = image_build.update_lock(lock_path=lock, cache_dir=warm_cache, say=lambda _m: None)
    assert again["serial"] == data["serial"], "an unchanged archive must not bump the serial"
    assert image_build.image_state(tmp_path / "out", lock).status == "current"
    assert "ready in" in capsys.readouterr().out


def test_build_needs_no_tool_on_path(tmp_path: Path, warm_cache: Path, good_image: Path):
    """No apt, dpkg, cpio, depmod, zstd or readelf: the build runs with an empty PATH."""
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("PATH", "PYTHONPATH")}
    env.update(PATH=str(tmp_path / "empty"), PILOTHOUSE_VM_PACKAGE_CACHE=str(warm_cache))
    res = subprocess.run([sys.executable, "-m", "desktop.vm.image_build", "--out", str(tmp_path / "out"), "--force"],
                         cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert _image_bytes(tmp_path / "out") == _image_bytes(good_image)
