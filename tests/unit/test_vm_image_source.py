"""Where the one click's image comes from, and how its progress adds up (no build, no boot)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from desktop.vm.image_source import IMAGE_FILES, bundled_image_dir, ensure_image, phase_progress
from desktop.vm.machine import BOOT_PHASES
from desktop.vm.one_click import IMAGE_SHARE, boot_fraction


def _image(d: Path) -> Path:
    d.mkdir(parents=True)
    for f in IMAGE_FILES:
        (d / f).write_bytes(b"x")
    (d / "manifest.json").write_text(json.dumps({"arch": "x86_64"}))
    return d


def test_a_bundled_image_is_used_without_building(tmp_path: Path):
    bundle = tmp_path / "bundle"
    _image(bundle / "vm-image" / "x86_64")
    assert bundled_image_dir("x86_64", str(bundle)) == bundle / "vm-image" / "x86_64"
    assert bundled_image_dir("aarch64", str(bundle)) is None
    seen = []
    choice = asyncio.run(ensure_image("x86_64", tmp_path / "cache", seen.append, bundle_root=str(bundle)))
    assert choice.origin == "bundled" and choice.dir == bundle / "vm-image" / "x86_64"
    assert seen[-1].fraction == 1.0 and not (tmp_path / "cache").exists()


def test_an_incomplete_bundle_is_not_used(tmp_path: Path):
    d = _image(tmp_path / "bundle" / "vm-image" / "x86_64")
    (d / "initramfs.img").unlink()
    assert bundled_image_dir("x86_64", str(tmp_path / "bundle")) is None


def test_build_progress_moves_forward_through_the_phases():
    steps = [("index", 1, 3), ("index", 3, 3), ("download", 0, 50_000_000), ("download", 25_000_000, 50_000_000),
             ("download", 50_000_000, 50_000_000), ("extract", 10, 31), ("assemble", 1, 4), ("pack", 2, 2),
             ("done", 1, 1)]
    fractions = [phase_progress(*s).fraction for s in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and fractions[0] > 0
    assert phase_progress("download", 25_000_000, 50_000_000).text == "downloading packages: 25.0 of 50.0 MB"
    assert phase_progress("extract", 0, 0).fraction == 0.70  # an unknown total does not divide by zero


def test_boot_phases_fill_the_second_half_of_the_bar():
    fractions = [boot_fraction(p) for p in BOOT_PHASES]
    assert fractions == sorted(fractions) and IMAGE_SHARE < fractions[0] and fractions[-1] < 1.0
    assert boot_fraction("something-new") == IMAGE_SHARE
