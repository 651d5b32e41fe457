"""One click from "no engine" to the VM's engine: get the image, boot, wait for dockerd.

Qt-free. Progress arrives as Step records (what is happening, and how far along the whole
thing is); cancelling the awaiting task stops whatever runs (the image build or QEMU).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from desktop.vm.image_source import ImageBuilder, ImageChoice, ImageProgress, ensure_image
from desktop.vm.machine import BOOT_PHASES

# Shares of the progress bar: getting the image, then booting to a ready engine.
IMAGE_SHARE = 0.5


@dataclass(frozen=True)
class Step:
    stage: str  # image | boot | ready
    text: str
    fraction: float | None = None  # of the whole click, 0..1, when known


def boot_fraction(phase: str) -> float:
    """How far along the boot is once the guest reports `phase`."""
    try:
        i = BOOT_PHASES.index(phase) + 1
    except ValueError:
        return IMAGE_SHARE
    return IMAGE_SHARE + (1 - IMAGE_SHARE) * 0.95 * i / len(BOOT_PHASES)


async def start_from_nothing(manager, start_vm: Callable[..., Awaitable[None]], report: Callable[[Step], None],
                             builder: ImageBuilder | None = None,
                             follow: Callable[[], Awaitable[None]] | None = None) -> ImageChoice | None:
    """Get an image for `manager`, then `start_vm(progress=, on_phase=)` (which boots and follows
    the engine). Returns where the image came from. A VM that already runs (started from the
    command line, say) is only followed (`follow()`); then None is returned."""
    if follow is not None and await asyncio.to_thread(lambda: manager.status().state) == "running":
        report(Step("boot", "the VM is already running: connecting to its engine", IMAGE_SHARE))
        await follow()
        report(Step("ready", "the VM's engine answers", 1.0))
        return None
    def image_step(p: ImageProgress) -> None:
        report(Step("image", p.text, None if p.fraction is None else IMAGE_SHARE * p.fraction))

    choice = await ensure_image(manager.arch, manager.paths.image_dir, image_step, builder)
    if choice.dir != manager.paths.image_dir:
        manager.paths = dataclasses.replace(manager.paths, image_dir=choice.dir)
    report(Step("boot", "booting the VM", IMAGE_SHARE))
    await start_vm(progress=lambda text: report(Step("boot", text)),
                   on_phase=lambda name: report(Step("boot", f"guest: {name} is up", boot_fraction(name))))
    report(Step("ready", "the VM's engine answers", 1.0))
    return choice
