"""Where the VM image comes from for a start: the copy bundled with the app, else the cache,
else a build into the cache, with progress and cancellation (cancel the awaiting task).

The builder is behind `ImageBuilder` so the app does not care how the image is made; the
default one runs `pilothouse vm build` as a child process, which is what makes a build
cancellable at any point and leaves the cache as it was (the builder replaces files only
once the whole image is made).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from desktop.vm.image_files import IMAGE_FILES, find_image, image_state


@dataclass(frozen=True)
class ImageProgress:
    """One step of getting the image: text for the user, fraction 0..1 when known."""

    text: str
    fraction: float | None = None


@dataclass(frozen=True)
class ImageChoice:
    dir: Path
    origin: str  # bundled | cached | built


class ImageError(RuntimeError):
    """No image could be found or made; the message says what to do."""


ProgressFn = Callable[[ImageProgress], None]


class ImageBuilder(Protocol):
    def up_to_date(self, out: Path) -> bool: ...

    async def build(self, arch: str, out: Path, progress: ProgressFn) -> None: ...


def bundled_image_dir(arch: str, bundle_root: str | None = None) -> Path | None:
    """The image a packaged app carries for `arch`, if it carries a complete one."""
    root = bundle_root or getattr(sys, "_MEIPASS", None)
    if not root:
        return None
    d = Path(root) / "vm-image" / arch
    return d if all((d / f).is_file() for f in IMAGE_FILES) and (d / "manifest.json").is_file() else None


# The current builder's own progress lines, and how far along each one is.
_BUILD_STEPS = (("resolving", 0.05), ("downloading", 0.15), ("assembling", 0.55), ("packing", 0.75),
                ("image ready", 1.0), ("up to date", 1.0))


def _build_argv(arch: str, out: Path) -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, "vm", "build", "--arch", arch]
    return [sys.executable, "-m", "desktop.vm.image_build", "--arch", arch, "--out", str(out)]


class SubprocessBuilder:
    """`pilothouse vm build` in a child process; cancelling the awaiting task interrupts it."""

    def up_to_date(self, out: Path) -> bool:
        from desktop.vm.image_build import up_to_date

        return up_to_date(out)

    async def build(self, arch: str, out: Path, progress: ProgressFn) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PILOTHOUSE_VM_IMAGE_DIR": str(out)}
        proc = await asyncio.create_subprocess_exec(
            *_build_argv(arch, out), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=env, start_new_session=True)
        tail: list[str] = []
        try:
            assert proc.stdout is not None
            fraction = 0.0
            async for raw in proc.stdout:
                line = raw.decode(errors="replace").strip()
                if not line:
                    continue
                tail = (tail + [line])[-5:]
                for key, f in _BUILD_STEPS:
                    if key in line:
                        fraction = f
                progress(ImageProgress(line.removeprefix("error: "), fraction))
            code = await proc.wait()
        except BaseException:
            await _interrupt(proc)
            raise
        if code != 0:
            raise ImageError(f"building the VM image failed: {' '.join(tail[-2:]) or f'exit status {code}'}")


async def _interrupt(proc: asyncio.subprocess.Process) -> None:
    """Stop a build: SIGINT lets it remove its temporary folder; kill it if it lingers."""
    if proc.returncode is not None:
        return
    try:
        proc.send_signal(signal.SIGINT if sys.platform != "win32" else signal.SIGTERM)
        await asyncio.wait_for(asyncio.shield(proc.wait()), 10)
    except (ProcessLookupError, asyncio.TimeoutError):
        try:
            proc.kill()
        except ProcessLookupError:
            pass
        await proc.wait()


# The in-process builder's phases and their share of the whole build (downloads dominate).
_PHASES = {"index": (0.0, 0.05, "reading the package index"), "download": (0.05, 0.70, "downloading packages"),
           "extract": (0.70, 0.80, "unpacking packages"), "assemble": (0.80, 0.90, "assembling the root filesystem"),
           "pack": (0.90, 1.0, "packing the initramfs"), "done": (1.0, 1.0, "image ready")}


def phase_progress(phase: str, done: int, total: int) -> ImageProgress:
    """An in-process build's (phase, done, total) as text and a fraction of the whole build."""
    lo, hi, text = _PHASES.get(phase, (0.0, 0.0, phase))
    part = min(max(done / total, 0.0), 1.0) if total > 0 else 0.0
    if phase == "download" and total > 0:
        text = f"{text}: {done / 1e6:.1f} of {total / 1e6:.1f} MB"
    elif total > 1:
        text = f"{text} ({done}/{total})"
    return ImageProgress(text, lo + (hi - lo) * part)


class ThreadBuilder:
    """The Python-only builder (image_build.build_image) in a worker thread; cancelling the
    awaiting task sets its cancel event and waits for it to clean up."""

    def up_to_date(self, out: Path) -> bool:
        return image_state(out).status == "current"

    async def build(self, arch: str, out: Path, progress: ProgressFn) -> None:
        import threading

        from desktop.vm.image_build import BuildCancelled, BuildError, build_image

        loop = asyncio.get_running_loop()
        cancel = threading.Event()

        def report(phase: str, done: int, total: int) -> None:
            loop.call_soon_threadsafe(progress, phase_progress(phase, done, total))

        work = asyncio.ensure_future(asyncio.to_thread(build_image, arch=arch, out_dir=out, progress=report,
                                                       cancel=cancel))
        try:
            await asyncio.shield(work)
        except asyncio.CancelledError:
            cancel.set()
            try:
                await work
            except BuildError:  # BuildCancelled, or an error that raced the cancel
                pass
            raise
        except BuildCancelled:
            raise asyncio.CancelledError() from None
        except BuildError as e:
            raise ImageError(str(e)) from e


def default_builder() -> ImageBuilder:
    """The in-process builder (the child-process one remains for a builder run apart)."""
    return ThreadBuilder()


def _manifest_ok(d: Path) -> bool:
    try:
        json.loads((d / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return all((d / f).is_file() for f in IMAGE_FILES)


async def ensure_image(arch: str, cache_dir: Path, progress: ProgressFn,
                       builder: ImageBuilder | None = None, bundle_root: str | None = None) -> ImageChoice:
    """The image to boot: bundled, else cached and current, else built into cache_dir."""
    bundled = bundled_image_dir(arch, bundle_root)
    meipass = getattr(sys, "_MEIPASS", None)
    if bundled is None and bundle_root is None and meipass:
        found = find_image(arch)
        if found is not None and Path(found).is_relative_to(meipass):
            bundled = Path(found)
    if bundled is not None:
        progress(ImageProgress("using the VM image bundled with Pilothouse", 1.0))
        return ImageChoice(bundled, "bundled")
    builder = builder or default_builder()
    if await asyncio.to_thread(builder.up_to_date, cache_dir):
        progress(ImageProgress(f"using the VM image in {cache_dir}", 1.0))
        return ImageChoice(cache_dir, "cached")
    progress(ImageProgress("no VM image yet: building it from Debian packages (about a minute)", 0.0))
    await builder.build(arch, cache_dir, progress)
    if not await asyncio.to_thread(_manifest_ok, cache_dir):
        raise ImageError(f"the build finished but {cache_dir} holds no complete image")
    return ImageChoice(cache_dir, "built")
