"""Build the VM image (kernel + initramfs) from Debian packages with Python alone, on any OS.

`pilothouse vm build` (= `python -m desktop.vm.image_build`): verify Debian's signed InRelease
files, follow their sha256s to the Packages indices and to each .deb pinned in the image lock,
unpack the .debs (ar + tar), pick the binaries, libraries and kernel modules, and write a
reproducible initramfs. Blocking: the GUI runs build_image() in a worker thread.

Outputs in the image dir: vmlinuz, initramfs.img (shared, holds no secrets), probe.img (a tiny
initramfs used to check that a hardware accelerator really boots a kernel), manifest.json.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import io
import json
import lzma
import os
import posixpath
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs
import zstandard

from desktop.vm import cpio_newc, deb_file, elf_info, image_lock
from desktop.vm.cpio_newc import Node
from desktop.vm.debian_index import ArchiveError, Sources, load_index
from desktop.vm.download import DownloadCancelled, DownloadError, atomic_write, download, fsync_dir
from desktop.vm.image_recipe import (
    ARCHES, BINARIES, BUSYBOX_LINKS, GUEST_FILES, PROBE_INIT, RECIPE_VERSION, SKELETON_DIRS, SKELETON_FILES,
    SKELETON_LINKS, UNUSED_PLUGIN_LIBS, XTABLES_LINKS, ArchSpec, modules_for, recipe_dir,
)
from desktop.vm.image_files import (  # noqa: F401 - also the builder's public names
    IMAGE_FILES, ImageState, bundled_image_dir, expected_version, find_image, image_state,
)
from desktop.vm.paths import APP, default_image_dir, host_arch

Progress = Callable[[str, int, int], None]
# Bump when what is kept from a package changes shape (the extraction cache is keyed by it).
EXTRACT_FORMAT = 1
EPOCH = 1700000000  # every file's mtime in the initramfs: builds are byte-identical
ZSTD_LEVEL = 12
SEGMENT_MIN = 256 * 1024  # files this large get an initramfs part of their own (cached compressed)


class BuildError(RuntimeError):
    """The image could not be built; the message names the file and says what to do."""


class BuildCancelled(BuildError):
    """The user cancelled the build; the cache and the previous image are intact."""


@dataclass(frozen=True)
class ImageInfo:
    arch: str
    dir: Path
    version: str
    kernel_release: str
    manifest: dict


def default_cache_dir() -> Path:
    env = os.environ.get("PILOTHOUSE_VM_PACKAGE_CACHE")
    return Path(env) if env else Path(platformdirs.user_cache_dir(APP)) / "vm-packages"


# ---- recipe identity ---------------------------------------------------------------------
def _recipe_hash(arch_lock: dict) -> str:
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for mod in ("image_build.py", "image_recipe.py", "cpio_newc.py", "deb_file.py"):
        h.update((here / mod).read_bytes())
    for name, _ in GUEST_FILES:
        h.update((recipe_dir() / name).read_bytes())
    h.update(json.dumps(arch_lock, sort_keys=True).encode())
    return h.hexdigest()[:16]


def up_to_date(out: Path, arch: str | None = None, lock_path: Path | None = None) -> bool:
    """True when out holds a complete image built by this recipe from the current lock."""
    try:
        m = json.loads((out / "manifest.json").read_text())
        lock, data = image_lock.for_arch(lock_path or image_lock.default_lock_path(), m.get("arch") or arch or host_arch())
    except (OSError, ValueError, image_lock.LockError):
        return False
    entry = data["arches"][lock.arch]
    return m.get("recipe") == _recipe_hash(entry) and all((out / f).exists() for f in IMAGE_FILES)


# ---- what to keep from each package --------------------------------------------------------
def _selection_key(arch: str) -> str:
    spec = ARCHES[arch]
    blob = json.dumps([EXTRACT_FORMAT, BINARIES, modules_for(arch), spec.triplet])
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _wanted(spec: ArchSpec) -> Callable[[str], bool]:
    sources = {src for src, _ in BINARIES}
    libdirs = (f"lib/{spec.triplet}", f"usr/lib/{spec.triplet}")

    def want(p: str) -> bool:
        if p in sources or p.startswith("boot/vmlinuz-"):
            return True
        parent, base = posixpath.split(p)
        if parent in libdirs:
            return ".so" in base
        if parent in (f"{d}/xtables" for d in libdirs):
            return True
        if parent in ("lib", "lib64") and base.startswith("ld-linux"):
            return True
        return p.startswith("lib/modules/") and (p.endswith((".ko", ".ko.xz", ".ko.zst")) or
                                                 base in ("modules.builtin", "modules.builtin.modinfo", "modules.order"))
    return want


def _module_name(path: str) -> str:
    base = posixpath.basename(path)
    return base[:base.index(".ko")].replace("-", "_")


def _decompress_module(path: str, data: bytes) -> tuple[str, bytes]:
    if path.endswith(".xz"):
        return path[:-3], lzma.decompress(data)
    if path.endswith(".zst"):
        return path[:-4], zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return path, data


def _select_modules(nodes: list[Node], arch: str, deb_name: str) -> list[Node]:
    """Keep the recipe's modules and, from their modinfo, everything they depend on."""
    mods: dict[str, Node] = {}
    builtin: set[str] = set()
    rest: list[Node] = []
    for n in nodes:
        if n.path.startswith("lib/modules/") and ".ko" in posixpath.basename(n.path):
            path, data = _decompress_module(n.path, n.data)
            mods[_module_name(path)] = Node(path, "file", n.mode, data)
        else:
            if posixpath.basename(n.path) == "modules.builtin":
                builtin |= {_module_name(line) for line in n.data.decode().split() if ".ko" in line}
            rest.append(n)
    keep: dict[str, Node] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        name = name.replace("-", "_")
        if name in keep or name in builtin:
            return
        node = mods.get(name)
        if node is None:
            raise BuildError(f"kernel module {name} (needed by {' <- '.join(chain) or 'the recipe'}) is neither a module "
                             f"nor built into {deb_name}: the recipe's module list does not fit this kernel")
        try:
            deps = elf_info.module_depends(node.data)
        except elf_info.NotELF as e:
            raise BuildError(f"kernel module {node.path} in {deb_name} is damaged ({e})") from None
        for d in deps:
            visit(d, (name, *chain))
        keep[name] = node

    for name in modules_for(arch):
        visit(name, ())
    return rest + list(keep.values())


def _extract(deb: Path, deb_name: str, arch: str, cache_dir: Path, sha256: str,
             cancel: threading.Event | None = None) -> list[Node]:
    """The recipe's part of one .deb, from the extraction cache when this .deb was unpacked before."""
    cached = cache_dir / "extracted" / f"{sha256}-{_selection_key(arch)}.cpio"
    if cached.exists():
        try:
            return cpio_newc.read(cached.read_bytes())
        except ValueError:
            cached.unlink(missing_ok=True)
    spec = ARCHES[arch]
    nodes: list[Node] = []
    files: dict[str, bytes] = {}
    try:
        wanted = _wanted(spec)

        def want(path: str) -> bool:
            _check_cancel(cancel)  # per member: a kernel package takes seconds to stream
            return wanted(path)
        for e in deb_file.entries(deb, want):
            if e.kind == "file":
                files[e.path] = e.data
                nodes.append(Node(e.path, "file", e.mode, e.data))
            elif e.kind == "symlink":
                nodes.append(Node(e.path, "symlink", 0o777, target=e.target))
            elif e.kind == "hardlink":
                if e.target not in files:
                    raise BuildError(f"{deb_name}: {e.path} is a hard link to {e.target}, which the recipe does not keep")
                nodes.append(Node(e.path, "file", e.mode, files[e.target]))
    except deb_file.DebFormatError as e:
        deb.unlink(missing_ok=True)
        raise BuildError(f"{deb_name} cannot be unpacked ({e}); it was removed from the cache: build again") from None
    if any(n.path.startswith("lib/modules/") for n in nodes):
        nodes = _select_modules(nodes, arch, deb_name)
    buf = io.BytesIO()
    cpio_newc.write(nodes, buf, EPOCH)
    atomic_write(cached, buf.getvalue())
    return nodes


# ---- assembly ------------------------------------------------------------------------------
class Tree:
    """The image's file system, in memory: path -> Node, parents made as needed."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}

    def add(self, node: Node) -> None:
        parent = posixpath.dirname(node.path)
        if parent and parent not in self.nodes:
            self.add(Node(parent, "dir", 0o755))
        self.nodes[node.path] = node

    def file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        self.add(Node(path, "file", mode, data))

    def symlink(self, path: str, target: str) -> None:
        self.add(Node(path, "symlink", 0o777, target=target))

    def resolve(self, path: str) -> Node | None:
        """Follow symlinks inside the tree (absolute targets are relative to the image root)."""
        parts = [p for p in path.strip("/").split("/") if p]
        cur: list[str] = []
        hops = 0
        while parts:
            cur.append(parts.pop(0))
            node = self.nodes.get("/".join(cur))
            if node is None:
                return None
            if node.kind == "symlink":
                hops += 1
                if hops > 40:
                    return None
                target = node.target
                base = [] if target.startswith("/") else cur[:-1]
                parts = [p for p in posixpath.normpath("/".join(base + [target.strip("/")])).split("/") if p and p != "."] + parts
                cur = []
        return self.nodes.get("/".join(cur)) if cur else None

    def initramfs(self, segment_cache: Path | None, cancel: threading.Event | None = None) -> bytes:
        """zstd-compressed newc: one part with the directories and small files, then one part
        per large file. A large file's part is compressed once and kept in segment_cache
        (keyed by its bytes), so a rebuild compresses only what changed: the output is the
        same bytes either way."""
        small = [n for n in self.nodes.values() if not (n.kind == "file" and len(n.data) >= SEGMENT_MIN)]
        large = sorted((n for n in self.nodes.values() if n.kind == "file" and len(n.data) >= SEGMENT_MIN),
                       key=lambda n: n.path)
        buf = io.BytesIO()
        cpio_newc.write(small, buf, EPOCH)
        parts = [_zstd(buf.getvalue())]
        ino = len(small) + 2
        for node in large:
            _check_cancel(cancel)
            key = hashlib.sha256(b"%d %d %d %o %s\0" % (EXTRACT_FORMAT, ZSTD_LEVEL, ino, node.mode, node.path.encode()))
            key.update(node.data)
            cached = segment_cache / f"{key.hexdigest()}.zst" if segment_cache else None
            part = None
            if cached is not None and cached.exists():
                part = cached.read_bytes()
            if part is None:
                one = io.BytesIO()
                cpio_newc.write([node], one, EPOCH, first_ino=ino, root=False)
                part = _zstd(one.getvalue())
                if cached is not None:
                    atomic_write(cached, part)
            parts.append(part)
            ino += 1
        return b"".join(parts)


def _skeleton(tree: Tree) -> None:
    for d in SKELETON_DIRS:
        tree.add(Node(d, "dir", 0o755))
    for link in SKELETON_LINKS:
        tree.symlink(link, f"usr/{link}")
    tree.add(Node("usr/lib64", "dir", 0o755))
    tree.add(Node("tmp", "dir", 0o1777))
    for path, text in SKELETON_FILES.items():
        tree.file(path, text.encode())


def _place_libs(tree: Tree, pkg: dict[str, Node], spec: ArchSpec) -> None:
    for libdir in (f"lib/{spec.triplet}", f"usr/lib/{spec.triplet}"):
        for path in sorted(pkg):
            parent, base = posixpath.split(path)
            if parent == libdir:
                tree.add(Node(f"usr/lib/{spec.triplet}/{base}", pkg[path].kind, pkg[path].mode, pkg[path].data, pkg[path].target))
            elif parent == f"{libdir}/xtables":
                tree.add(Node(f"usr/lib/{spec.triplet}/xtables/{base}", pkg[path].kind, pkg[path].mode, pkg[path].data,
                              pkg[path].target))
    for loader in ("lib64", "lib"):
        for path in sorted(pkg):
            parent, base = posixpath.split(path)
            if parent == loader and base.startswith("ld-linux"):
                tree.add(Node(f"usr/{loader}/{base}", pkg[path].kind, pkg[path].mode, pkg[path].data, pkg[path].target))


def check_library_closure(tree: Tree, spec: ArchSpec) -> None:
    """Every binary's loader and DT_NEEDED libraries, and theirs in turn, are in the image."""
    roots = [dst for _, dst in BINARIES]
    roots += sorted(p for p in tree.nodes if p.startswith(f"usr/lib/{spec.triplet}/xtables/") and p.endswith(".so"))
    missing: set[str] = set()
    seen: set[str] = set()
    todo = [(r, r) for r in roots]
    while todo:
        path, user = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        node = tree.resolve(path)
        if node is None or node.kind != "file" or not elf_info.is_elf(node.data):
            continue
        try:
            info = elf_info.links(node.data)
        except elf_info.NotELF as e:
            raise BuildError(f"{path} in the image is not a readable ELF file ({e})") from None
        if info.interpreter and tree.resolve(info.interpreter) is None:
            missing.add(f"{user}: {info.interpreter}")
        for lib in info.needed:
            lib_path = f"usr/lib/{spec.triplet}/{lib}"
            if tree.resolve(lib_path) is None:
                if lib in UNUSED_PLUGIN_LIBS.get(posixpath.basename(user), ()):
                    continue
                missing.add(f"{user}: {lib}")
            else:
                todo.append((lib_path, f"{user} -> {lib}"))
    if missing:
        raise BuildError("libraries missing from the image (add their packages to the recipe): " + ", ".join(sorted(missing)))


def _module_files(tree: Tree, kver: str, kernel_nodes: list[Node], arch: str) -> list[str]:
    """Place the modules; write modules.dep/.alias/.softdep (text, what busybox modprobe reads)
    from each module's modinfo; return the boot load order (dependencies first)."""
    prefix = f"lib/modules/{kver}/"
    mods = {}
    for n in kernel_nodes:
        if not n.path.startswith(prefix):
            continue
        rel = n.path[len(prefix):]
        tree.add(Node(f"usr/lib/modules/{kver}/{rel}", "file", n.mode, n.data))
        if ".ko" in posixpath.basename(rel):
            mods[_module_name(rel)] = (rel, elf_info.modinfo(n.data))

    def closure(name: str) -> list[str]:
        out: list[str] = []

        def visit(m: str) -> None:
            for d in mods[m][1].get("depends", [""])[0].split(","):
                d = d.replace("-", "_")
                if d and d in mods and d not in out:
                    visit(d)
                    out.append(d)
        visit(name)
        return out

    dep_lines, alias_lines, softdep_lines = [], [], []
    for name in sorted(mods, key=lambda m: mods[m][0]):
        rel, info = mods[name]
        deps = closure(name)
        # modules.dep lists a module's dependencies so that the last one loads first.
        dep_lines.append(f"{rel}:" + "".join(f" {mods[d][0]}" for d in reversed(deps)))
        alias_lines += [f"alias {a} {name}" for a in info.get("alias", [])]
        softdep_lines += [f"softdep {name} {s}" for s in info.get("softdep", [])]
    base = f"usr/lib/modules/{kver}/"
    tree.file(base + "modules.dep", ("\n".join(dep_lines) + "\n").encode())
    tree.file(base + "modules.alias", ("# Aliases extracted from modules themselves.\n" + "".join(f"{a}\n" for a in alias_lines)).encode())
    tree.file(base + "modules.softdep", ("# Soft dependencies extracted from modules themselves.\n" + "".join(f"{s}\n" for s in softdep_lines)).encode())
    order: list[str] = []
    for name in modules_for(arch):
        name = name.replace("-", "_")
        if name not in mods:
            continue  # built in
        for m in [*closure(name), name]:
            if m not in order:
                order.append(m)
    rels = [mods[m][0] for m in order]
    tree.file("etc/modules.boot", "".join(f"/lib/modules/{kver}/{r}\n" for r in rels).encode())
    return rels


def read_initramfs(data: bytes) -> list[Node]:
    """The entries of an initramfs this builder wrote (all its zstd parts)."""
    raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True).read()
    return cpio_newc.read(raw)


def _zstd(data: bytes) -> bytes:
    # Multi-threaded zstd output depends on the level, not on the number of workers (>= 1),
    # so every machine writes the same bytes.
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=-1, write_checksum=True).compress(data)


def _reporter(progress: Progress | None) -> Progress:
    return progress or (lambda _phase, _done, _total: None)


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise BuildCancelled("the image build was cancelled; the package cache keeps what was downloaded")


@contextlib.contextmanager
def _cache_lock(cache: Path, cancel: threading.Event | None):
    """One build at a time per package cache (two would append to the same partial download)."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "a+b") as f:
        while True:
            try:
                if os.name == "nt":
                    import msvcrt

                    msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
                else:
                    import fcntl

                    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                _check_cancel(cancel)
                # Another build holds the cache; it ends on its own, and there is no event to wait on.
                (cancel or threading.Event()).wait(0.2)
        yield


def _fetch_packages(lock: image_lock.ArchLock, sources: Sources, cache_dir: Path, spec: ArchSpec,
                    report: Progress, cancel: threading.Event | None, lock_path: Path) -> list[Path]:
    report("index", 0, len(sources.suites()))
    names = {p.name for p in lock.packages}
    key = hashlib.sha256(" ".join(sorted(names)).encode()).hexdigest()[:12]
    try:
        index = load_index(sources, spec.deb_arch, cache_dir, lambda n: n in names, key,
                           progress=lambda d, t: report("index", d, t))
    except (ArchiveError, DownloadError) as e:
        raise BuildError(str(e)) from None
    for p in lock.packages:
        entry = index.exact(p.name, p.version)
        if entry is None:
            now = index.candidate(p.name)
            raise BuildError(f"{p.name} {p.version} (pinned in {lock_path}) is missing from the archive's index for "
                             f"{spec.deb_arch}" + (f" (it now has {now.version})" if now else "") +
                             ": run `pilothouse vm build --update-lock` to pin the current packages")
        if entry.sha256 != p.sha256:
            raise BuildError(f"the archive's {posixpath.basename(entry.filename)} has sha256 {entry.sha256}, but {lock_path} "
                             f"pins {p.sha256}: the lock does not match this archive; run `pilothouse vm build --update-lock`")
    debs_dir = cache_dir / "debs"
    total = sum(p.size for p in lock.packages)
    done = 0
    report("download", 0, total)
    paths = []
    for p in lock.packages:
        _check_cancel(cancel)
        dest = debs_dir / posixpath.basename(p.filename)

        def step(n: int) -> None:
            nonlocal done
            done += n
            report("download", done, total)
        before = done
        try:
            download(f"{sources.url_for(p.suite)}/{p.filename}", dest, p.sha256, p.size, progress=step, cancel=cancel)
        except DownloadCancelled as e:
            raise BuildCancelled(str(e)) from None
        except DownloadError as e:
            raise BuildError(str(e)) from None
        done = before + p.size
        report("download", done, total)
        paths.append(dest)
    return paths


def build_image(arch: str | None = None, cache_dir: Path | None = None, out_dir: Path | None = None,
                progress: Progress | None = None, cancel: threading.Event | None = None, force: bool = False,
                sources: Sources | None = None, lock_path: Path | None = None) -> ImageInfo:
    """Build the image for arch into out_dir from the lock; see /packaging/vm/README.md.

    Raises BuildError (BuildCancelled when cancel was set); out_dir's previous image is kept."""
    arch = arch or host_arch()
    if arch not in ARCHES:
        raise BuildError(f"unsupported architecture {arch}: choose one of {', '.join(ARCHES)}")
    spec = ARCHES[arch]
    out = Path(out_dir or default_image_dir(arch))
    cache = Path(cache_dir or default_cache_dir())
    lock_path = Path(lock_path or image_lock.default_lock_path())
    sources = sources or Sources.from_env()
    report = _reporter(progress)
    try:
        lock, lock_data = image_lock.for_arch(lock_path, arch)
    except image_lock.LockError as e:
        raise BuildError(str(e)) from None
    if lock_data.get("release") and lock_data["release"] != sources.release:
        sources = Sources(sources.archive, sources.security_archive, lock_data["release"])
    version = f"{RECIPE_VERSION}.{lock_data.get('serial', 0)}"
    if not force and up_to_date(out, arch, lock_path):
        m = json.loads((out / "manifest.json").read_text())
        report("done", 1, 1)
        return ImageInfo(arch, out, m.get("version", version), m["kernel_release"], m)
    try:
        with _cache_lock(cache, cancel):
            return _build_locked(arch, spec, out, cache, lock, lock_data, lock_path, sources, version, report, cancel)
    except OSError as e:  # the local side: a full disk, a read-only folder, an image file in use (Windows)
        where = e.filename or cache
        raise BuildError(f"cannot write {where} ({e.strerror or e}): free some disk space or check the folder's "
                         "permissions (on Windows, stop the VM before updating its image), then build again") from None


def _build_locked(arch: str, spec: ArchSpec, out: Path, cache: Path, lock: image_lock.ArchLock, lock_data: dict,
                  lock_path: Path, sources: Sources, version: str, report: Progress,
                  cancel: threading.Event | None) -> ImageInfo:
    debs = _fetch_packages(lock, sources, cache, spec, report, cancel, lock_path)

    tree = Tree()
    _skeleton(tree)
    per_pkg: list[tuple[str, dict[str, Node]]] = []
    for i, (p, deb) in enumerate(zip(lock.packages, debs)):
        _check_cancel(cancel)
        report("extract", i, len(debs))
        nodes = _extract(deb, deb.name, arch, cache, p.sha256, cancel)
        per_pkg.append((p.name, {n.path: n for n in nodes}))
    report("extract", len(debs), len(debs))
    # Later packages win where two ship the same path, as when they were unpacked in this order.
    merged_pkg: dict[str, Node] = {}
    for _, nodes in per_pkg:
        merged_pkg.update(nodes)
    _check_cancel(cancel)
    report("assemble", 0, 3)
    for src, dst in BINARIES:
        node = merged_pkg.get(src)
        if node is None:
            raise BuildError(f"{src} is in none of the pinned packages: the recipe does not fit this Debian release")
        tree.add(Node(dst, node.kind, node.mode, node.data, node.target))
    for name in XTABLES_LINKS:
        tree.symlink(f"usr/sbin/{name}", "xtables-legacy-multi")
    for name in BUSYBOX_LINKS:
        tree.symlink(f"usr/bin/{name}", "busybox")
    _place_libs(tree, merged_pkg, spec)
    check_library_closure(tree, spec)
    report("assemble", 1, 3)
    kernel_nodes = [n for n in per_pkg[0][1].values()]
    kvers = sorted({n.path.split("/")[2] for n in kernel_nodes if n.path.startswith("lib/modules/")})
    vmlinuz = next((n for n in kernel_nodes if n.path.startswith("boot/vmlinuz-")), None)
    if not kvers or vmlinuz is None:
        raise BuildError(f"{debs[0].name} holds no kernel and modules: the lock's kernel package is not a kernel image")
    kver = kvers[0]
    modules = _module_files(tree, kver, kernel_nodes, arch)
    for name, dst in GUEST_FILES:
        tree.file(dst, (recipe_dir() / name).read_bytes(), 0o755)
    # busybox acpid runs /etc/acpi/<ACTION>/<PARAM> for an event: the power button.
    tree.symlink("etc/acpi/PWRF/00000080", "/etc/pilothouse-shutdown")
    report("assemble", 3, 3)
    _check_cancel(cancel)
    report("pack", 0, 2)
    initramfs = tree.initramfs(cache / "segments", cancel)
    report("pack", 1, 2)
    probe = Tree()
    probe.file("bin/busybox", merged_pkg["bin/busybox"].data, merged_pkg["bin/busybox"].mode)
    probe.file("init", PROBE_INIT.encode(), 0o755)
    probe.add(Node("proc", "dir", 0o755))
    probe.add(Node("dev", "dir", 0o755))
    probe_img = probe.initramfs(None)
    kernel = vmlinuz.data
    if kernel[56:60] == b"ARM\x64":  # an uncompressed arm64 Image: QEMU loads it gzipped
        kernel = gzip.compress(kernel, 9, mtime=0)
    report("pack", 2, 2)
    _check_cancel(cancel)

    outputs = {"vmlinuz": kernel, "initramfs.img": initramfs, "probe.img": probe_img}
    manifest = {
        "recipe": _recipe_hash(lock_data["arches"][arch]),
        "recipe_version": RECIPE_VERSION,
        "version": version,
        "arch": arch,
        "kernel_release": kver,
        "packages": {f"{p.name}:{spec.deb_arch}": p.version for p in lock.packages},
        "modules": [posixpath.basename(m) for m in modules],
        "files": {f: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)} for f, d in outputs.items()},
    }
    out.mkdir(parents=True, exist_ok=True)
    # The old manifest goes first: an interrupted swap then reads as "no image" and is rebuilt,
    # never as a current image made of two builds.
    (out / "manifest.json").unlink(missing_ok=True)
    for name, data in outputs.items():
        atomic_write(out / name, data)
    atomic_write(out / "manifest.json", (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    fsync_dir(out)
    report("done", 1, 1)
    return ImageInfo(arch, out, version, kver, manifest)


def update_lock(arches: list[str] | None = None, cache_dir: Path | None = None, sources: Sources | None = None,
                lock_path: Path | None = None, say: Callable[[str], None] = print) -> dict:
    """Pin the archive's current candidates for each arch (default: all) in the lock."""
    from desktop.vm.image_recipe import PACKAGES

    sources = sources or Sources.from_env()
    cache = Path(cache_dir or default_cache_dir())
    lock_path = Path(lock_path or image_lock.default_lock_path())
    resolved = {}
    for arch in arches or list(ARCHES):
        spec = ARCHES[arch]
        wanted = set(PACKAGES) | {spec.kernel_meta}

        def names(n: str, wanted=wanted, spec=spec) -> bool:
            return n in wanted or (n.startswith("linux-image-") and n.endswith(f"-{spec.deb_arch}"))
        try:
            key = hashlib.sha256(" ".join(sorted(wanted)).encode()).hexdigest()[:12]
            index = load_index(sources, spec.deb_arch, cache, names, f"lock-{key}")
            resolved[arch] = image_lock.resolve(index, arch)
        except (ArchiveError, DownloadError) as e:
            raise BuildError(str(e)) from None
    try:
        return image_lock.write(lock_path, sources, resolved, say)
    except image_lock.LockError as e:
        raise BuildError(str(e)) from None


def build(arch: str | None = None, out: Path | None = None, progress: Callable[[str], None] = print,
          force: bool = False) -> dict:
    """Build with one-line text progress (tests, bench, older callers); return the manifest."""
    last = {"phase": ""}

    def report(phase: str, done: int, total: int) -> None:
        if phase != last["phase"]:
            last["phase"] = phase
            progress(f"{phase} ...")
    info = build_image(arch, out_dir=out, progress=report, force=force)
    progress(f"image {info.version} ready in {info.dir}: kernel {info.manifest['files']['vmlinuz']['size'] / 1e6:.1f} MB + "
             f"initramfs {info.manifest['files']['initramfs.img']['size'] / 1e6:.1f} MB")
    return info.manifest


class _Bar:
    """A one-line progress bar on a terminal; plain lines per phase elsewhere."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.phase = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase != self.phase:
            if self.phase and self.tty:
                self.stream.write("\n")
            self.phase = phase
            if not self.tty:
                self.stream.write(f"{phase} ...\n")
        if self.tty and total:
            frac = min(1.0, done / total)
            width = 30
            amount = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB" if phase == "download" else f"{done}/{total}"
            self.stream.write(f"\r{phase:<9} [{'#' * int(frac * width):<{width}}] {frac * 100:5.1f}% {amount}   ")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.phase:
            self.stream.write("\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="pilothouse vm build",
                                description="Build the Pilothouse VM image from Debian packages (Python only, any OS).")
    p.add_argument("--arch", choices=sorted(ARCHES), default=None, help="guest architecture (default: this host's)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: the per-user cache)")
    p.add_argument("--force", action="store_true", help="rebuild even when up to date")
    p.add_argument("--update-lock", action="store_true", help="pin the archive's current packages in the lock, then build")
    p.add_argument("--archive", default=None, help=f"Debian mirror (default {Sources().archive})")
    p.add_argument("--security-archive", default=None, help=f"Debian security mirror (default {Sources().security_archive})")
    args = p.parse_args(argv)
    env = Sources.from_env()
    sources = Sources((args.archive or env.archive).rstrip("/"), (args.security_archive or env.security_archive).rstrip("/"),
                      env.release)
    bar = _Bar()
    cancel = threading.Event()
    try:
        if args.update_lock:
            update_lock(sources=sources, say=lambda m: print(f"  {m}", flush=True))
        info = build_image(args.arch, out_dir=args.out, progress=bar, cancel=cancel, force=args.force, sources=sources)
    except KeyboardInterrupt:
        cancel.set()
        bar.close()
        print("cancelled; the next build resumes the downloads", file=sys.stderr)
        return 130
    except BuildError as e:
        bar.close()
        print(f"error: {e}", file=sys.stderr)
        return 1
    bar.close()
    files = info.manifest["files"]
    print(f"image {info.version} ready in {info.dir}: kernel {files['vmlinuz']['size'] / 1e6:.1f} MB + "
          f"initramfs {files['initramfs.img']['size'] / 1e6:.1f} MB (kernel {info.kernel_release})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
