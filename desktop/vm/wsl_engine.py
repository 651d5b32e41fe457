"""WslEngine: the VMManager interface (start, stop, status, delete, TLS client) backed by
Pilothouse's own WSL 2 distribution instead of QEMU, for Windows hosts that have WSL 2.

The distribution is imported on first start from the root filesystem made from the same image
(desktop.vm.wsl_rootfs), into the user's data folder. Its engine is reached like the QEMU VM's:
dockerd with mutual TLS on a 127.0.0.1 port, the same `pilothouse` docker context.

Written from the wsl.exe documentation; it has not been run on Windows.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path

from desktop.vm import engine_access, wsl
from desktop.vm.machine import Progress, VMAlreadyRunning, VMError, VMManager, VMStatus, _free_port
from desktop.vm.tls import ensure_certificates
from desktop.vm.wsl_rootfs import write_rootfs

# The Store-delivered WSL (the one with WSL 2 and `wsl --version`) installs here; the wsl.exe in
# System32 exists on every Windows 10 and later, installed or not.
STORE_WSL = Path(os.environ.get("ProgramFiles", r"C:\Program Files")) / "WSL" / "wsl.exe"


def store_wsl_installed() -> bool:
    """A file check cheap enough for start-up (the real check, wsl_available(), runs wsl.exe)."""
    return os.name == "nt" and STORE_WSL.is_file()


class WslEngine(VMManager):
    """One WSL distribution (`pilothouse`) running dockerd; state files as VMManager's."""

    backend = "wsl"

    def status(self) -> VMStatus:
        st = self._read_state()
        state = st.get("state", "stopped")
        alive = self._proc is not None and self._proc.poll() is None
        if state in ("starting", "running") and not alive:
            detail = "the WSL distribution's engine exited; see " + str(self.paths.console_log)
            st = self._write_state(state="crashed", pid=None, detail=detail)
            state = "crashed"
        port = st.get("docker_port")
        return VMStatus(state=state, accelerator="wsl2", accelerator_reason="WSL 2 (Hyper-V) runs the engine",
                        docker_host=engine_access.docker_host(port) if port else "",
                        tls_ca=str(self.tls.ca_cert), tls_cert=str(self.tls.client_cert),
                        tls_key=str(self.tls.client_key), console_log=str(self.paths.console_log),
                        pid=st.get("pid") if alive else None, detail=st.get("detail", ""))

    async def _ensure_distro(self, say: Progress) -> None:
        if await asyncio.to_thread(wsl.distro_state) != "missing":
            return
        rootfs = self.paths.state_dir / "pilothouse-wsl.tar"
        say("making the WSL root filesystem from the VM image")
        await asyncio.to_thread(write_rootfs, self.paths.image_dir / "initramfs.img", rootfs)
        try:
            say(f"importing the WSL distribution into {wsl.install_dir(self.paths.state_dir)}")
            await asyncio.to_thread(wsl.import_distro, self.paths.state_dir, rootfs)
        finally:
            rootfs.unlink(missing_ok=True)

    async def start(self, progress: Progress | None = None, timeout: float | None = None,
                    allow_outdated: bool = False, on_phase: Progress | None = None) -> VMStatus:
        say = progress or (lambda _msg: None)
        if self.status().state in ("starting", "running", "stopping"):
            raise VMAlreadyRunning("the engine's WSL distribution is already running")
        if not (self.paths.image_dir / "initramfs.img").is_file():
            raise VMError(f"no VM image in {self.paths.image_dir}: run `pilothouse vm build` first")
        self.paths.ensure()
        await self._ensure_distro(say)
        ensure_certificates(self.paths.tls_dir)
        port = _free_port(self._read_state().get("docker_port"))
        if self.paths.console_log.exists():
            os.replace(self.paths.console_log, self.paths.console_log.with_suffix(".log.1"))
        say("starting the engine in WSL 2")
        self._proc = await asyncio.to_thread(wsl.start_detached, port, self.tls, self.paths.console_log)
        self._write_state(state="starting", pid=self._proc.pid, docker_port=port, accelerator="wsl2",
                          accelerator_reason="WSL 2", started_at=time.time(), detail="")
        try:
            await self._wait_ready(port, timeout or 120.0, say, on_phase)
        except BaseException:
            await asyncio.to_thread(wsl.stop)
            self._write_state(state="stopped", pid=None, detail="the engine did not become ready")
            raise
        engine_access.write_docker_context(self.paths.docker_config_dir, port, self.tls)
        self._write_state(state="running")
        say(f"engine ready at {engine_access.docker_host(port)} (docker context '{engine_access.CONTEXT_NAME}')")
        return self.status()

    async def stop(self, timeout: float = 60.0, progress: Progress | None = None) -> VMStatus:
        say = progress or (lambda _msg: None)
        say("stopping the engine, then the WSL distribution")
        self._write_state(state="stopping")
        await asyncio.to_thread(wsl.stop, wsl.DISTRO, timeout)
        self._proc = None
        self._write_state(state="stopped", pid=None, detail="")
        return self.status()

    async def wait_until_exit(self) -> VMStatus:
        if self._proc is not None:
            await asyncio.to_thread(self._proc.wait)
        return self.status()

    async def delete(self, progress: Progress | None = None) -> None:
        """Stop, then `wsl --unregister` (removes the distribution's disk), certificates and state."""
        await self.stop(progress=progress)
        await asyncio.to_thread(wsl.unregister)
        engine_access.remove_docker_context(self.paths.docker_config_dir)
        shutil.rmtree(self.paths.state_dir, ignore_errors=True)
