"""The image builder's own readers and writers, checked against the real Debian tools they
replace (dpkg --compare-versions, dpkg-deb, cpio, readelf, objcopy) where this host has them."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.vm import cpio_newc, deb_file, debian_version, elf_info
from desktop.vm.cpio_newc import Node
from desktop.vm.debian_index import parse_packages, parse_release

needs = lambda tool: pytest.mark.skipif(shutil.which(tool) is None, reason=f"{tool} not installed")  # noqa: E731

_part = st.text(alphabet="0123456789abz.+~", min_size=1, max_size=6).filter(lambda s: s[0].isdigit())
versions = st.builds(lambda e, u, r: (f"{e}:" if e else "") + u + (f"-{r}" if r else ""),
                     st.sampled_from(["", "1", "2"]), _part, st.one_of(st.just(""), _part))


@needs("dpkg")
@settings(max_examples=150, deadline=None)
@given(versions, versions)
def test_version_order_is_dpkgs(a: str, b: str):
    def dpkg(op: str) -> bool:
        return subprocess.run(["dpkg", "--compare-versions", a, op, b]).returncode == 0
    assert (debian_version.compare(a, b) < 0) == dpkg("lt")
    assert (debian_version.compare(a, b) == 0) == dpkg("eq")


def test_version_examples():
    assert debian_version.compare("1.0~rc1", "1.0") < 0
    assert debian_version.compare("1:0.1", "9.9") > 0
    assert debian_version.compare("2.36-9+deb12u14", "2.36-9+deb12u7") > 0
    assert debian_version.compare("6.1.192-3", "6.1.176-1") > 0


def _tree(root: Path) -> None:
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/tool").write_bytes(b"#!/bin/sh\necho hi\n" * 100)
    (root / "usr/bin/tool").chmod(0o755)
    (root / "usr/bin/link").symlink_to("tool")
    (root / "etc").mkdir()
    (root / "etc/conf").write_text("x=1\n")
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN/control").write_text("Package: demo\nVersion: 1.2-3\nArchitecture: all\nMaintainer: t <t@t>\n"
                                         "Description: demo\n multi-line\n")


@needs("dpkg-deb")
@pytest.mark.parametrize("compression", ["xz", "zstd", "gzip", "none"])
def test_deb_read_like_dpkg_deb(tmp_path: Path, compression: str):
    root = tmp_path / "pkg"
    _tree(root)
    deb = tmp_path / "demo.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", f"-Z{compression}", "--build", str(root), str(deb)],
                   check=True, capture_output=True)
    got = {e.path: e for e in deb_file.entries(deb, lambda p: True)}
    assert got["usr/bin/tool"].data == (root / "usr/bin/tool").read_bytes() and got["usr/bin/tool"].mode == 0o755
    assert got["usr/bin/link"].kind == "symlink" and got["usr/bin/link"].target == "tool"
    assert got["etc/conf"].data == b"x=1\n" and got["usr/bin"].kind == "dir"
    only = [e.path for e in deb_file.entries(deb, lambda p: p.startswith("etc/"))]
    assert only == ["etc/conf"]  # "etc" itself is not under "etc/"
    fields = deb_file.control_fields(deb)
    assert fields["Version"] == "1.2-3" and fields["Description"] == "demo\nmulti-line"


def _ar(members: list[tuple[str, bytes]]) -> bytes:
    out = bytearray(b"!<arch>\n")
    for name, data in members:
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode() + data
        if len(data) % 2:
            out += b"\n"
    return bytes(out)


def test_deb_with_a_path_outside_the_root_is_refused(tmp_path: Path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("../../etc/passwd")
        info.size = 4
        tf.addfile(info, io.BytesIO(b"evil"))
    deb = tmp_path / "evil.deb"
    deb.write_bytes(_ar([("debian-binary", b"2.0\n"), ("data.tar", buf.getvalue())]))
    with pytest.raises(deb_file.DebFormatError, match="unsafe path"):
        list(deb_file.entries(deb, lambda p: True))
    (tmp_path / "notadeb.deb").write_bytes(b"hello")
    with pytest.raises(deb_file.DebFormatError, match="not an ar archive"):
        list(deb_file.entries(tmp_path / "notadeb.deb", lambda p: True))


@needs("cpio")
def test_cpio_is_readable_by_gnu_cpio_and_reproducible(tmp_path: Path):
    nodes = [Node("usr", "dir", 0o755), Node("usr/bin", "dir", 0o755), Node("usr/bin/x", "file", 0o755, b"abc" * 1001),
             Node("usr/bin/y", "symlink", 0o777, target="x"), Node("tmp", "dir", 0o1777), Node("e", "file", 0o644, b"")]
    a, b = io.BytesIO(), io.BytesIO()
    cpio_newc.write(nodes, a, 1700000000)
    cpio_newc.write(list(reversed(nodes)), b, 1700000000)
    assert a.getvalue() == b.getvalue()
    listing = subprocess.run(["cpio", "-itv", "--quiet"], input=a.getvalue(), capture_output=True, check=True).stdout.decode()
    lines = listing.splitlines()
    assert [ln.split()[-1] if "->" not in ln else ln.split()[-3] for ln in lines] == [".", "e", "tmp", "usr", "usr/bin", "usr/bin/x", "usr/bin/y"]
    assert "drwxrwxrwt" in lines[2] and "root" in lines[5] and "Nov 14  2023" in lines[5]
    out = tmp_path / "x"
    out.mkdir()
    subprocess.run(["cpio", "-idm", "--quiet", "--no-absolute-filenames"], input=a.getvalue(), cwd=out, check=True)
    assert (out / "usr/bin/x").read_bytes() == b"abc" * 1001 and (out / "usr/bin/y").readlink() == Path("x")
    back = {n.path: n for n in cpio_newc.read(a.getvalue() + a.getvalue())}  # parts laid end to end
    assert back["usr/bin/x"].data == b"abc" * 1001 and back["usr/bin/y"].target == "x"


@needs("readelf")
def test_elf_links_match_readelf():
    exe = Path(sys.executable).resolve()
    got = elf_info.links(exe.read_bytes())
    out = subprocess.run(["readelf", "-d", "-l", str(exe)], capture_output=True, text=True).stdout
    needed = [line.rsplit("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line]
    assert list(got.needed) == needed
    interp = next((line.split(":", 1)[1].strip().rstrip("]") for line in out.splitlines() if "interpreter:" in line), "")
    assert got.interpreter == interp


@needs("objcopy")
def test_modinfo_depends_from_the_section(tmp_path: Path):
    info = tmp_path / "modinfo"
    info.write_bytes(b"license=GPL\0depends=bridge,llc\0alias=net-pf-7\0alias=fs-x\0name=demo\0vermagic=6.1\0")
    obj = tmp_path / "demo.ko"
    shutil.copy(sys.executable, obj)
    subprocess.run(["objcopy", "--add-section", f".modinfo={info}", str(obj)], check=True)
    data = obj.read_bytes()
    assert elf_info.module_depends(data) == ["bridge", "llc"]
    assert elf_info.modinfo(data)["alias"] == ["net-pf-7", "fs-x"]
    with pytest.raises(elf_info.NotELF):
        elf_info.modinfo(b"not an elf")


def test_release_and_packages_parsing():
    text = ("Origin: Debian\nCodename: bookworm\nAcquire-By-Hash: yes\nMD5Sum:\n 00 12 main/x\nSHA256:\n"
            " " + "a" * 64 + " 123 main/binary-amd64/Packages.xz\n " + "b" * 64 + " 9 main/binary-amd64/Release\n")
    fields, sums = parse_release(text)
    assert fields["Codename"] == "bookworm" and sums["main/binary-amd64/Packages.xz"] == ("a" * 64, 123)
    packages = ("Package: tini\nVersion: 0.19.0-1\nArchitecture: amd64\nFilename: pool/main/t/tini/tini_0.19.0-1_amd64.deb\n"
                "Size: 255\nSHA256: " + "c" * 64 + "\nDescription: x\n more\n\nPackage: other\nVersion: 1\n"
                "Filename: o.deb\nSize: 1\nSHA256: d\n")
    got = list(parse_packages(packages, "bookworm", lambda n: n == "tini"))
    assert len(got) == 1 and got[0].version == "0.19.0-1" and got[0].size == 255 and got[0].suite == "bookworm"
