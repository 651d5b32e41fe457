"""Benchmark baseline: the VM image built the old way, with apt-get, dpkg-deb, depmod, cpio, zstd
and readelf (Debian/Ubuntu hosts only), from the same recipe (desktop/vm/image_recipe.py).
bench/vm.py times it against desktop.vm.image_build, which needs none of these tools.

Run as `python -m desktop.vm.image_build [--arch x86_64|aarch64] [--out DIR]` (what
`packaging/vm/build-image.sh` and `pilothouse vm build` call). Needs a Debian/Ubuntu host with
apt-get, dpkg-deb, depmod (kmod), cpio, zstd and readelf (binutils). For arm64 on an amd64 host
run `dpkg --add-architecture arm64 && apt-get update` first.

Outputs in the image dir: vmlinuz, initramfs.img (shared, holds no secrets), probe.img (a tiny
initramfs used to check that a hardware accelerator really boots a kernel), manifest.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

from desktop.vm.image_recipe import ARCHES, BINARIES, BUSYBOX_LINKS, GUEST_FILES, MODULES, ARCH_MODULES, PACKAGES, XTABLES_LINKS, ArchSpec  # noqa: F401
from desktop.vm.paths import default_image_dir, host_arch

RECIPE_VERSION = 4
INIT_SCRIPT = Path(__file__).resolve().parents[1] / "packaging" / "vm" / "init"


class BuildError(RuntimeError):
    """The image could not be built; the message says what to do."""


def _run(argv: list[str], cwd: Path | None = None, **kw) -> subprocess.CompletedProcess:
    res = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, **kw)
    if res.returncode != 0:
        raise BuildError(f"{' '.join(argv)} failed: {res.stderr.strip()[-2000:]}")
    return res


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def apt_options(spec: ArchSpec, state_root: Path) -> list[str]:
    """apt options: none for the host's own architecture; for another one (arm64 on an amd64
    host) a private apt state under state_root, so the host's dpkg setup is left alone."""
    native = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    if spec.deb_arch == native:
        return []
    (state_root / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (state_root / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    (state_root / "status").touch()
    return ["-o", f"APT::Architecture={spec.deb_arch}", "-o", f"APT::Architectures={spec.deb_arch}",
            "-o", f"Dir::State::Lists={state_root / 'lists'}", "-o", f"Dir::Cache={state_root / 'cache'}",
            "-o", f"Dir::State::status={state_root / 'status'}", "-o", "Debug::NoLocking=1",
            "-o", "APT::Sandbox::User=root"]


def _candidate(pkg: str, opts: list[str]) -> str:
    out = _run(["apt-cache", *opts, "show", "--no-all-versions", pkg]).stdout
    for line in out.splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    raise BuildError(f"apt-cache knows no version of {pkg}")


def resolve_packages(spec: ArchSpec, opts: list[str]) -> dict[str, str]:
    """Map each package (the concrete kernel included) to the version apt would fetch."""
    names = [f"{p}:{spec.deb_arch}" for p in PACKAGES]
    meta = _run(["apt-cache", *opts, "depends", f"{spec.kernel_meta}:{spec.deb_arch}"]).stdout
    kernel = next((l.split(":", 1)[1].strip() for l in meta.splitlines() if l.strip().startswith("Depends:")), None)
    if not kernel:
        raise BuildError(f"cannot resolve {spec.kernel_meta}")
    names.insert(0, kernel if ":" in kernel else f"{kernel}:{spec.deb_arch}")
    return {n: _candidate(n, opts) for n in names}


def _ensure_apt_lists(spec: ArchSpec, opts: list[str]) -> None:
    res = subprocess.run(["apt-cache", *opts, "show", f"{spec.kernel_meta}:{spec.deb_arch}"], capture_output=True)
    if res.returncode == 0 and res.stdout:
        return
    if os.geteuid() != 0 and not opts:
        raise BuildError("apt has no package lists: run `sudo apt-get update` and try again")
    _run(["apt-get", *opts, "update", "-qq"])


def _download(versions: dict[str, str], debs: Path, opts: list[str]) -> list[Path]:
    debs.mkdir(parents=True, exist_ok=True)
    os.chmod(debs, 0o755)  # apt's _apt sandbox user must be able to write here
    wanted = [f"{n}={v}" for n, v in versions.items()]
    res = subprocess.run(["apt-get", *opts, "download", "-q", *wanted], cwd=debs, capture_output=True, text=True)
    if res.returncode != 0 and (os.geteuid() == 0 or opts):
        _run(["apt-get", *opts, "update", "-qq"])
        res = subprocess.run(["apt-get", *opts, "download", "-q", *wanted], cwd=debs, capture_output=True, text=True)
    if res.returncode != 0:
        raise BuildError(f"apt-get download failed: {res.stderr.strip()[-2000:]}")
    files = []
    for n, v in versions.items():
        name, arch = n.split(":")
        epochless = v.split(":", 1)[-1]
        matches = list(debs.glob(f"{name}_{epochless.replace('~', '?')}_*.deb")) or list(debs.glob(f"{name}_*{epochless.split(':')[-1]}*_*.deb"))
        if not matches:
            matches = [p for p in debs.glob(f"{name}_*.deb")]
        if not matches:
            raise BuildError(f"downloaded .deb for {n} not found in {debs}")
        files.append(matches[0])
    return files


def _place(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists() or dst.is_symlink():
        dst.unlink()
    if src.is_symlink():
        dst.symlink_to(os.readlink(src))
    else:
        shutil.copy2(src, dst)


def _merged(rel: str) -> str:
    """Map a Debian path to the image's merged-/usr layout."""
    for top in ("lib/", "lib64/", "bin/", "sbin/"):
        if rel.startswith(top):
            return "usr/" + rel
    return rel


def _copy_libs(x: Path, root: Path, spec: ArchSpec) -> None:
    for libdir in (f"lib/{spec.triplet}", f"usr/lib/{spec.triplet}"):
        src = x / libdir
        if not src.is_dir():
            continue
        for p in sorted(src.iterdir()):
            if ".so" in p.name and (p.is_file() or p.is_symlink()):
                _place(p, root / "usr/lib" / spec.triplet / p.name)
        xt = src / "xtables"
        if xt.is_dir():
            for p in sorted(xt.iterdir()):
                _place(p, root / "usr/lib" / spec.triplet / "xtables" / p.name)
    for loader in ("lib64", "lib"):
        d = x / loader
        if d.is_dir():
            for p in d.glob("ld-linux*"):
                _place(p, root / "usr" / loader / p.name)


def _check_needed(root: Path, spec: ArchSpec) -> None:
    libdir = root / "usr/lib" / spec.triplet
    have = {p.name for p in libdir.iterdir()}
    missing: set[str] = set()
    for _, dst in BINARIES:
        out = subprocess.run(["readelf", "-d", str(root / dst)], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if "(NEEDED)" in line:
                lib = line.rsplit("[", 1)[1].rstrip("]")
                if lib not in have and not lib.startswith("ld-linux"):
                    missing.add(f"{dst}: {lib}")
    if missing:
        raise BuildError("libraries missing from the image (add their packages): " + ", ".join(sorted(missing)))


def _module_order(moddir: Path, wanted: list[str]) -> list[str]:
    """Modules to insmod, dependencies first, as paths relative to moddir."""
    deps: dict[str, list[str]] = {}
    for line in (moddir / "modules.dep").read_text().splitlines():
        mod, _, rest = line.partition(":")
        deps[mod] = rest.split()
    by_name = {Path(m).name.split(".ko")[0].replace("-", "_"): m for m in deps}
    order: list[str] = []

    def visit(m: str) -> None:
        if m in order:
            return
        for d in deps.get(m, []):
            visit(d)
        order.append(m)

    for name in wanted:
        mod = by_name.get(name.replace("-", "_"))
        if mod is None:
            builtin = (moddir / "modules.builtin").read_text()
            if f"/{name}.ko" in builtin or f"/{name.replace('_', '-')}.ko" in builtin:
                continue
            raise BuildError(f"kernel module {name} is neither a module nor built in")
        visit(mod)
    return order


def _copy_modules(x: Path, root: Path, wanted: list[str]) -> tuple[str, list[str]]:
    kver = next((x / "lib/modules").iterdir()).name
    _run(["depmod", "-b", str(x), kver])
    src = x / "lib/modules" / kver
    order = _module_order(src, wanted)
    dst = root / "usr/lib/modules" / kver
    loaded = []
    for rel in order:
        target = dst / rel.removesuffix(".xz")
        target.parent.mkdir(parents=True, exist_ok=True)
        data = (src / rel).read_bytes()
        target.write_bytes(lzma.decompress(data) if rel.endswith(".xz") else data)
        loaded.append(rel.removesuffix(".xz"))
    for f in ("modules.builtin", "modules.builtin.modinfo", "modules.order"):
        if (src / f).exists():
            shutil.copy2(src / f, dst / f)
    _run(["depmod", "-b", str(root / "usr"), kver])
    (root / "etc").mkdir(exist_ok=True)
    (root / "etc/modules.boot").write_text("".join(f"/lib/modules/{kver}/{m}\n" for m in loaded))
    return kver, loaded


def _skeleton(root: Path) -> None:
    for d in ("usr/bin", "usr/sbin", "usr/lib", "etc", "proc", "sys", "dev", "run", "tmp", "var/lib/docker", "root", "mnt"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for link in ("bin", "sbin", "lib", "lib64"):
        if not (root / link).exists():
            (root / link).symlink_to(f"usr/{link}")
    if not (root / "usr/lib64").exists():
        (root / "usr/lib64").mkdir()
    os.chmod(root / "tmp", 0o1777)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    (root / "etc/group").write_text("root:x:0:\ndocker:x:999:\nnobody:x:65534:\n")
    (root / "etc/hosts").write_text("127.0.0.1 localhost pilothouse-vm\n::1 localhost\n")
    (root / "etc/resolv.conf").write_text("nameserver 10.0.2.3\n")
    (root / "etc/hostname").write_text("pilothouse-vm\n")
    (root / "usr/lib/os-release").write_text('NAME="Pilothouse VM"\nID=pilothouse\nPRETTY_NAME="Pilothouse VM (Debian packages)"\n')


def _cpio(root: Path, out: Path, epoch: int) -> None:
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    for rel in files:
        os.utime(root / rel, (epoch, epoch), follow_symlinks=False)
    listing = "\n".join(["."] + files) + "\n"
    raw = out.with_suffix(".cpio")
    with open(raw, "wb") as f:
        res = subprocess.run(["cpio", "-o", "-H", "newc", "-R", "0:0", "--reproducible", "--quiet"],
                             cwd=root, input=listing.encode(), stdout=f, stderr=subprocess.PIPE)
    if res.returncode != 0:
        raise BuildError(f"cpio failed: {res.stderr.decode()[-500:]}")
    _run(["zstd", "-q", "-f", "-12", "--rm", str(raw), "-o", str(out)])


def _recipe_hash() -> str:
    h = hashlib.sha256(Path(__file__).read_bytes())
    for script in (INIT_SCRIPT.with_name(name) for name, _ in GUEST_FILES):
        h.update(script.read_bytes())
    return h.hexdigest()[:16]


def up_to_date(out: Path) -> bool:
    """True when out holds a complete image built by this recipe."""
    try:
        m = json.loads((out / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return m.get("recipe") == _recipe_hash() and all((out / f).exists() for f in ("vmlinuz", "initramfs.img", "probe.img"))


def build(arch: str | None = None, out: Path | None = None, progress: Callable[[str], None] = print,
          force: bool = False) -> dict:
    """Build the image into out (default: the per-arch cache dir); return the manifest."""
    arch = arch or host_arch()
    if arch not in ARCHES:
        raise BuildError(f"unsupported architecture {arch}: choose one of {', '.join(ARCHES)}")
    spec = ARCHES[arch]
    out = Path(out or default_image_dir(arch))
    if not force and up_to_date(out):
        progress(f"image in {out} is up to date")
        return json.loads((out / "manifest.json").read_text())
    for tool in ("apt-get", "dpkg-deb", "depmod", "cpio", "zstd", "readelf"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists() and not Path(f"/sbin/{tool}").exists():
            raise BuildError(f"{tool} not found: `pilothouse vm build` needs a Debian/Ubuntu host with apt, kmod, cpio, zstd, binutils")
    out.mkdir(parents=True, exist_ok=True)
    progress("resolving package versions")
    opts = apt_options(spec, out.parent / f".apt-{spec.deb_arch}")
    _ensure_apt_lists(spec, opts)
    versions = resolve_packages(spec, opts)
    with tempfile.TemporaryDirectory(prefix="pilothouse-vm-build-") as tmp:
        tmp_p = Path(tmp)
        os.chmod(tmp_p, 0o755)
        progress(f"downloading {len(versions)} packages")
        debs = _download(versions, tmp_p / "debs", opts)
        x = tmp_p / "x"
        for deb in debs:
            _run(["dpkg-deb", "-x", str(deb), str(x)])
        root = tmp_p / "root"
        _skeleton(root)
        progress("assembling the root filesystem")
        for src, dst in BINARIES:
            if not (x / src).exists():
                raise BuildError(f"{src} not found in the downloaded packages")
            _place(x / src, root / dst)
        for name in XTABLES_LINKS:
            (root / "usr/sbin" / name).symlink_to("xtables-legacy-multi")
        for name in BUSYBOX_LINKS:
            (root / "usr/bin" / name).symlink_to("busybox")
        _copy_libs(x, root, spec)
        _check_needed(root, spec)
        kver, modules = _copy_modules(x, root, MODULES + ARCH_MODULES.get(arch, []))
        for name, dst in GUEST_FILES:
            shutil.copy2(INIT_SCRIPT.with_name(name), root / dst)
            os.chmod(root / dst, 0o755)
        # busybox acpid runs /etc/acpi/<ACTION>/<PARAM> for an event: the power button.
        (root / "etc/acpi/PWRF").mkdir(parents=True)
        (root / "etc/acpi/PWRF/00000080").symlink_to("/etc/pilothouse-shutdown")
        epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "1700000000"))
        progress("packing the initramfs (zstd)")
        _cpio(root, tmp_p / "initramfs.img", epoch)
        probe = tmp_p / "probe"
        (probe / "bin").mkdir(parents=True)
        shutil.copy2(x / "bin/busybox", probe / "bin/busybox")
        (probe / "init").write_text(
            "#!/bin/busybox sh\n/bin/busybox mount -t proc proc /proc 2>/dev/null\n"
            "echo PILOTHOUSE-PROBE-OK > /dev/console\n/bin/busybox poweroff -f\n")
        (probe / "proc").mkdir()
        (probe / "dev").mkdir()
        os.chmod(probe / "init", 0o755)
        _cpio(probe, tmp_p / "probe.img", epoch)
        kernel_src = next((x / "boot").glob("vmlinuz-*"))
        if kernel_src.read_bytes()[56:60] == b"ARM\x64":  # an uncompressed arm64 Image: QEMU loads it gzipped
            _run(["gzip", "-9", "-n", "-k", str(kernel_src)])
            kernel_src = kernel_src.with_name(kernel_src.name + ".gz")
        for name, src in (("vmlinuz", kernel_src), ("initramfs.img", tmp_p / "initramfs.img"), ("probe.img", tmp_p / "probe.img")):
            shutil.copy2(src, out / f".{name}.new")
            os.replace(out / f".{name}.new", out / name)
    manifest = {
        "recipe": _recipe_hash(),
        "recipe_version": RECIPE_VERSION,
        "arch": arch,
        "kernel_release": kver,
        "packages": versions,
        "modules": [Path(m).name for m in modules],
        "files": {f: {"sha256": _sha256(out / f), "size": (out / f).stat().st_size}
                  for f in ("vmlinuz", "initramfs.img", "probe.img")},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    total = sum(v["size"] for k, v in manifest["files"].items() if k != "probe.img")
    progress(f"image ready in {out}: kernel {manifest['files']['vmlinuz']['size'] / 1e6:.1f} MB + "
             f"initramfs {manifest['files']['initramfs.img']['size'] / 1e6:.1f} MB = {total / 1e6:.1f} MB")
    return manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="pilothouse vm build", description="Build the Pilothouse VM image from Debian packages.")
    p.add_argument("--arch", choices=sorted(ARCHES), default=None, help="guest architecture (default: this host's)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: the per-user cache)")
    p.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = p.parse_args(argv)
    try:
        build(args.arch, args.out, force=args.force)
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
