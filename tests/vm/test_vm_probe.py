"""The accelerator probe boots the real kernel with the probe initramfs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from desktop.vm import qemu

pytestmark = pytest.mark.vm


def test_probe_passes_under_tcg_and_fails_for_a_broken_accelerator(vm_image_dir: Path):
    exe = qemu.find_qemu("x86_64")
    ok, detail = asyncio.run(qemu._probe_once(exe, "x86_64", "tcg", vm_image_dir, 60))
    assert ok, detail
    ok, detail = asyncio.run(qemu._probe_once(exe, "x86_64", "no-such-accel", vm_image_dir, 60))
    assert not ok and "probe boot" in detail


def test_choose_accelerator_explains_its_choice(vm_image_dir: Path, tmp_path: Path):
    accel = asyncio.run(qemu.choose_accelerator(qemu.find_qemu("x86_64"), "x86_64", vm_image_dir, cache=tmp_path / "a.json"))
    assert accel.name in ("kvm", "tcg") and accel.reason
    again = asyncio.run(qemu.choose_accelerator(qemu.find_qemu("x86_64"), "x86_64", vm_image_dir, cache=tmp_path / "a.json"))
    assert again == accel, "the probe result is cached"
