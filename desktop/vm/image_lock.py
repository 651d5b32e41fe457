"""The image lock (packaging/vm/image-lock.json): each package's version and .deb sha256 per
architecture, so two builds from one lock are byte-identical. `pilothouse vm build
--update-lock` rewrites it from the archive's current candidates (apt's choice: the highest
version across the release, -updates and -security)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from desktop.vm.debian_index import ArchiveError, Index, PackageEntry, Sources
from desktop.vm.download import atomic_write
from desktop.vm.image_recipe import ARCHES, LOCK_NAME, PACKAGES, recipe_dir


class LockError(RuntimeError):
    """The lock file is missing, unreadable or does not cover what was asked."""


@dataclass(frozen=True)
class LockedPackage:
    name: str
    version: str
    sha256: str
    size: int
    filename: str
    suite: str


@dataclass(frozen=True)
class ArchLock:
    arch: str
    kernel: str  # the concrete kernel package linux-image-<arch> pointed at
    packages: tuple[LockedPackage, ...]  # kernel first, then the recipe's order


def default_lock_path() -> Path:
    env = os.environ.get("PILOTHOUSE_VM_LOCK")
    return Path(env) if env else recipe_dir() / LOCK_NAME


def read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise LockError(f"no image lock at {path}: run `pilothouse vm build --update-lock` to create it") from None
    except (OSError, ValueError) as e:
        raise LockError(f"the image lock {path} cannot be read ({e}): restore it from the Pilothouse sources "
                        "or run `pilothouse vm build --update-lock`") from None


def serial(path: Path) -> int:
    try:
        return int(read(path).get("serial", 0))
    except LockError:
        return 0


def for_arch(path: Path, arch: str) -> tuple[ArchLock, dict]:
    data = read(path)
    entry = data.get("arches", {}).get(arch)
    if not entry:
        raise LockError(f"the image lock {path} has no packages for {arch}: run `pilothouse vm build --update-lock`")
    pkgs = tuple(LockedPackage(name=n, **entry["packages"][n]) for n in [entry["kernel"], *PACKAGES])
    return ArchLock(arch, entry["kernel"], pkgs), data


def _locked(e: PackageEntry) -> dict:
    return {"version": e.version, "sha256": e.sha256, "size": e.size, "filename": e.filename, "suite": e.suite}


def resolve(index: Index, arch: str) -> dict:
    """The lock entry for one architecture from the archive's current candidates."""
    spec = ARCHES[arch]
    meta = index.candidate(spec.kernel_meta)
    if meta is None:
        raise ArchiveError(f"the archive's index for {spec.deb_arch} has no {spec.kernel_meta}")
    kernel = meta.depends.split(",")[0].split("|")[0].split("(")[0].strip()
    packages = {}
    for name in [kernel, *PACKAGES]:
        cand = index.candidate(name)
        if cand is None:
            raise ArchiveError(f"package {name} is missing from the archive's index for {spec.deb_arch}: "
                               "the recipe names a package this Debian release does not have")
        packages[name] = _locked(cand)
    return {"kernel": kernel, "packages": packages}


def write(path: Path, sources: Sources, arches: dict[str, dict], say: Callable[[str], None] = print) -> dict:
    """Merge the resolved arches into the lock; serial goes up only when something changed."""
    try:
        old = read(path)
    except LockError:
        old = {}
    new_arches = {**old.get("arches", {}), **arches}
    changed = new_arches != old.get("arches") or old.get("release") != sources.release
    data = {
        "comment": "Pinned Debian packages of the Pilothouse VM image; refresh with `pilothouse vm build --update-lock`.",
        "release": sources.release,
        "serial": int(old.get("serial", 0)) + (1 if changed else 0),
        "arches": new_arches,
    }
    for arch, entry in arches.items():
        before = old.get("arches", {}).get(arch, {}).get("packages", {})
        for name, p in entry["packages"].items():
            if before.get(name, {}).get("version") != p["version"]:
                say(f"{arch}: {name} {before.get(name, {}).get('version', '(new)')} -> {p['version']}")
    try:
        atomic_write(path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())
    except OSError as e:
        raise LockError(f"cannot write the image lock {path} ({e}): pass a writable file with PILOTHOUSE_VM_LOCK") from None
    return data
