"""Save the running VM's whole state to a file at "Stop" and resume it at "Start".

QEMU's own migration stream carries the memory and device state; the data disk is the same
qcow2 file, unchanged between the save and the resume (QEMU is not running then; its mtime and
size are recorded and compared). The state is written to a temporary file, hashed, fsynced and
renamed, and its description (`saved.json`) is written last, after QEMU has exited: a crash or
kill at any point before leaves no description, so the next start boots from scratch, with the
data disk as the guest had synced it just before the save.

A saved state is used only when everything it depends on still matches (image files, QEMU
binary, accelerator, architecture, CPUs, memory, disk size, shared folders, TLS material);
otherwise `check()` says why in a sentence and the VM boots cold. The state file is hostile
input: its size is checked before QEMU sees it, its sha256 while QEMU reads it (through a pipe)
and before the guest runs again; QEMU itself exits on a stream it cannot parse.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from qemu.qmp import QMPClient

from desktop.vm.qemu import machine_args
from desktop.vm.unix_socket import monitor_address

STATE_NAME = "memory.state"
META_NAME = "saved.json"
FORMAT = 1
CHUNK = 1 << 20
# QEMU's default migration bandwidth cap (128 MiB/s) is meant for a live guest over a network;
# a paused guest going to a local file should go as fast as the disk takes it.
MAX_BANDWIDTH = 1 << 40

Progress = Callable[[str], None]


class SaveFailed(RuntimeError):
    """The state could not be saved; the message is for the user."""


class ResumeFailed(RuntimeError):
    """The saved state could not be resumed; the message is for the user."""


def _file_id(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def fingerprint(*, qemu: Path, image_dir: Path, tls_dir: Path, accel: str, arch: str, cpus: int, memory_mib: int,
                disk_gib: int, shares: tuple[str, ...]) -> dict:
    """What a saved state depends on; any difference means it cannot be resumed."""
    try:
        manifest = json.loads((image_dir / "manifest.json").read_text())
        image = {name: manifest["files"][name]["sha256"] for name in ("vmlinuz", "initramfs.img")}
        image["version"] = manifest.get("version", "")
    except (OSError, ValueError, KeyError):
        image = {name: _file_id(image_dir / name) for name in ("vmlinuz", "initramfs.img")}
    tls = hashlib.sha256()
    for name in ("ca.pem", "server-cert.pem", "server-key.pem"):
        try:
            tls.update((tls_dir / name).read_bytes())
        except OSError:
            pass
    return {"image": image, "qemu": {"path": str(qemu), **_file_id(qemu)}, "accelerator": accel, "arch": arch,
            "cpus": cpus, "memory_mib": memory_mib, "disk_gib": disk_gib, "shares": list(shares),
            "tls": tls.hexdigest(),
            # The board, accelerator options and CPU model QEMU is started with, and the host
            # processor: `-cpu host` (and TCG's `max`) give the guest this processor's features,
            # and a guest resumed on one without them can fault at its next instruction.
            "machine": machine_args(arch, accel, cpus, memory_mib), "host_cpu": host_cpu_id()}


def host_cpu_id() -> str:
    """This computer's processor: its model and feature flags (Linux), else what Python's
    platform module says (macOS and Windows: never run)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            first = f.read().split("\n\n", 1)[0]
    except OSError:
        first = ""
    keep = [line for line in first.splitlines()
            if line.split(":", 1)[0].strip() in ("vendor_id", "model name", "flags", "CPU implementer", "CPU part",
                                                   "Features")]
    text = "\n".join(keep) or f"{platform.machine()} {platform.processor()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _difference(saved: dict, now: dict) -> str:
    if saved.get("image") != now["image"]:
        return "the VM image changed since the state was saved"
    if saved.get("qemu") != now["qemu"]:
        return "QEMU was updated since the state was saved"
    for key, label, unit in (("accelerator", "the accelerator", ""), ("arch", "the architecture", ""),
                             ("cpus", "the number of CPUs", ""), ("memory_mib", "the memory", " MiB"),
                             ("disk_gib", "the disk size", " GiB")):
        if saved.get(key) != now[key]:
            return f"{label} changed from {saved.get(key)}{unit} to {now[key]}{unit}"
    if saved.get("shares") != now["shares"]:
        return "the shared folders changed"
    if saved.get("tls") != now["tls"]:
        return "the VM's TLS certificates changed"
    if saved.get("machine") != now["machine"]:
        return "the VM's machine (board, CPU model or accelerator options) changed since the state was saved"
    if saved.get("host_cpu") != now["host_cpu"]:
        return "this computer's processor is not the one the state was saved on"
    return ""


@dataclass(frozen=True)
class Verdict:
    usable: bool
    reason: str = ""  # why not, as a sentence; empty when there is simply nothing saved


class SavedState:
    """The saved state in `folder` (the VM state dir's `saved/`), next to the data disk `disk`."""

    def __init__(self, folder: Path, disk: Path) -> None:
        self.folder = folder
        self.disk = disk
        self.state = folder / STATE_NAME
        self.meta = folder / META_NAME

    def exists(self) -> bool:
        return self.meta.exists()

    def discard(self) -> None:
        # The description first: without it the state file is never used, whatever happens next.
        for path in (self.meta, self.state, self.state.with_suffix(".tmp")):
            try:
                path.unlink()
            except FileNotFoundError:
                pass

    def describe(self) -> dict:
        try:
            return json.loads(self.meta.read_text())
        except (OSError, ValueError):
            return {}

    def check(self, now: dict) -> Verdict:
        """Whether the saved state can be resumed with the VM as it is set up now."""
        if not self.meta.exists():
            return Verdict(False)
        meta = self.describe()
        if meta.get("format") != FORMAT or not isinstance(meta.get("fingerprint"), dict):
            return Verdict(False, "the saved state's description is unreadable")
        why = _difference(meta["fingerprint"], now)
        if why:
            return Verdict(False, why)
        try:
            size = self.state.stat().st_size
        except OSError:
            return Verdict(False, "the saved state's file is missing")
        if size != meta.get("size"):
            return Verdict(False, f"the saved state is damaged (its file has {size} bytes; {meta.get('size')} were saved)")
        try:
            disk = _file_id(self.disk)
        except OSError:
            return Verdict(False, "the data disk is missing")
        if disk != meta.get("disk"):
            return Verdict(False, "the data disk changed since the state was saved")
        return Verdict(True)

    # ---- save ---------------------------------------------------------------------------
    async def save(self, qmp_address, agent, now: dict, process_gone: Callable[[], "asyncio.Future"],
                   say: Progress, timeout: float = 300.0) -> None:
        """Pause the guest, write its state, make QEMU exit, describe the state.

        `agent` is the GuestAgent (the guest syncs its disk and unmounts the shared folders
        first); `process_gone()` returns an awaitable that completes when QEMU has exited.
        Raises SaveFailed with QEMU left running as it was, or exited if it died meanwhile."""
        from desktop.vm.guest_agent import AgentBusy, AgentError

        self.discard()
        self.folder.mkdir(mode=0o700, exist_ok=True)
        say("flushing the guest's disk")
        try:
            await agent.call("sync", timeout=60)
            await agent.call("umount-shares", timeout=30)
        except AgentBusy:
            raise SaveFailed(_blocker_sentence("VirtFS")) from None
        except AgentError as e:
            await self._remount(agent)
            raise SaveFailed(str(e)) from None
        client = QMPClient("pilothouse-save")
        tmp = self.state.with_suffix(".tmp")
        paused = False
        try:
            await asyncio.wait_for(client.connect(monitor_address(qmp_address)), 10)
            version = _qemu_version(client)
            say("pausing the VM and writing its state")
            await client.execute("stop")
            paused = True
            await client.execute("migrate-set-parameters", {"max-bandwidth": MAX_BANDWIDTH})
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                client.send_fd_scm(fd)
                await client.execute("getfd", {"fdname": "pilothouse-state"})
            finally:
                os.close(fd)
            await client.execute("migrate", {"uri": "fd:pilothouse-state"})
            await self._wait_migration(client, timeout)
            digest, size = await asyncio.get_running_loop().run_in_executor(None, _hash_and_sync, tmp)
            os.replace(tmp, self.state)
            say("state written; stopping QEMU")
            try:
                await client.execute("quit")
            except Exception:  # noqa: BLE001 - QEMU may close the monitor before it answers
                pass
        except SaveFailed:
            await self._undo(client, agent, paused, tmp)
            raise
        except Exception as e:  # noqa: BLE001 - qemu.qmp and the OS raise many kinds
            await self._undo(client, agent, paused, tmp)
            raise SaveFailed(_blocker_sentence(_plain(e))) from None
        finally:
            await _disconnect(client)
        try:
            await asyncio.wait_for(process_gone(), 30)
        except asyncio.TimeoutError:
            self.discard()
            raise SaveFailed("QEMU did not exit after saving the state") from None
        meta = {"format": FORMAT, "fingerprint": now, "size": size, "sha256": digest, "disk": _file_id(self.disk),
                "saved_at": time.time(), "qemu_version": version}
        tmp_meta = self.meta.with_suffix(".tmp")
        with open(tmp_meta, "w") as f:
            json.dump(meta, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_meta, self.meta)
        _sync_dir(self.folder)

    async def _wait_migration(self, client: QMPClient, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            info = await client.execute("query-migrate")
            status = info.get("status")
            if status == "completed":
                return
            if status in ("failed", "cancelled"):
                raise SaveFailed(_blocker_sentence(info.get("error-desc", status)))
            await asyncio.sleep(0.05)  # QEMU writes the stream; it sends no event we subscribed to
        await client.execute("migrate_cancel")
        raise SaveFailed(f"writing the VM's state took longer than {timeout:.0f} s")

    async def _undo(self, client: QMPClient, agent, paused: bool, tmp: Path) -> None:
        tmp.unlink(missing_ok=True)
        if paused:
            try:
                await client.execute("cont")
            except Exception:  # noqa: BLE001 - QEMU is gone: nothing to resume
                return
        await self._remount(agent)

    @staticmethod
    async def _remount(agent) -> None:
        try:
            await agent.call("mount-shares", timeout=30)
        except Exception:  # noqa: BLE001 - the caller reports the save failure itself
            pass

    # ---- resume -------------------------------------------------------------------------
    async def resume(self, qmp_address, process_alive: Callable[[], bool], say: Progress,
                     timeout: float = 120.0, mark: Progress = lambda _step: None) -> None:
        """Feed the saved state to a QEMU started with `-incoming defer -S`, check it, and let
        the guest run. The state is discarded once the guest runs (the disk moves on).
        Raises ResumeFailed; the caller kills that QEMU and boots cold."""
        meta = self.describe()
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + timeout
        client = QMPClient("pilothouse-resume")
        try:
            while True:
                if not process_alive():
                    raise ResumeFailed("QEMU exited before it could load the saved state")
                try:
                    await asyncio.wait_for(client.connect(monitor_address(qmp_address)), 5)
                    mark("qmp_connected")
                    break
                except Exception:  # noqa: BLE001 - the monitor socket is not there yet
                    if loop.time() > deadline:
                        raise ResumeFailed("QEMU's monitor did not come up") from None
                    await asyncio.sleep(0.02)  # QEMU creates its socket with no other signal
            # QEMU reads the file itself (no copy through a pipe) while it is hashed beside it;
            # the guest runs only once the hash matches what the save wrote.
            try:
                fd = os.open(self.state, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            except OSError as e:
                raise ResumeFailed(f"the saved state could not be read ({e.strerror or e})") from None
            try:
                client.send_fd_scm(fd)
                await client.execute("getfd", {"fdname": "pilothouse-state"})
            finally:
                os.close(fd)
            hashing = loop.run_in_executor(None, _hash_file, self.state)
            await client.execute("migrate-incoming", {"uri": "fd:pilothouse-state"})
            mark("incoming_started")
            while True:
                if not process_alive():
                    raise ResumeFailed("QEMU could not load the saved state (it is damaged or from another "
                                       "version) and exited")
                status = (await client.execute("query-status")).get("status")
                if status not in ("inmigrate", "prelaunch"):
                    break
                if loop.time() > deadline:
                    raise ResumeFailed(f"loading the saved state took longer than {timeout:.0f} s")
                await asyncio.sleep(0.02)  # the destination sends no completion event before 8.x
            mark("state_loaded")
            if status != "paused":
                raise ResumeFailed(f"QEMU is '{status}' after loading the saved state")
            digest = await asyncio.wait_for(hashing, 30.0)
            mark("hash_checked")
            if digest != meta.get("sha256"):
                raise ResumeFailed("the saved state is damaged (its checksum does not match)")
            # The description goes before the guest runs (without it the state is never used
            # again); the big file after: unlinking a few hundred MiB that sit in the page cache
            # takes the kernel ~0.1 s, which the guest need not wait for.
            self.meta.unlink(missing_ok=True)
            await client.execute("cont")
            mark("cont")
            await loop.run_in_executor(None, self.discard)
            say(f"saved state loaded ({meta.get('size', 0) / 2**20:.0f} MiB in {loop.time() - started:.1f} s)")
        except ResumeFailed:
            raise
        except Exception as e:  # noqa: BLE001 - a monitor gone with QEMU is the common case
            if not process_alive():
                raise ResumeFailed("QEMU could not load the saved state (it is damaged or from another version) "
                                   "and exited") from None
            raise ResumeFailed(f"the saved state could not be loaded ({_plain(e)})") from None
        finally:
            await _disconnect(client)


def _hash_file(path: Path) -> str:
    """The state file's sha256; empty when it cannot be read (it then does not match)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                h.update(chunk)
    except OSError:
        return ""
    return h.hexdigest()


def _hash_and_sync(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb+") as f:
        os.fsync(f.fileno())
        while chunk := f.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _sync_dir(folder: Path) -> None:
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _blocker_sentence(desc: str) -> str:
    if "VirtFS" in desc or "9p" in desc.lower():
        return ("a running container has a shared folder mounted (QEMU cannot save a VM while its guest holds "
                "one); stop that container first to save the VM's state")
    return f"the VM's state could not be saved ({desc})"


def _qemu_version(client: QMPClient) -> str:
    try:
        v = client.greeting._asdict()["QMP"]["version"]["qemu"]  # noqa: SLF001 - the raw greeting
        return f"{v['major']}.{v['minor']}.{v['micro']}"
    except (AttributeError, KeyError, TypeError):
        return ""


def _plain(e: BaseException) -> str:
    text = str(e).strip()
    return text or type(e).__name__


async def _disconnect(client: QMPClient) -> None:
    try:
        await client.disconnect()
    except Exception:  # noqa: BLE001 - already gone
        pass
