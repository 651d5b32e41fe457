"""VMManager: start, stop, restart, status and delete the bundled Linux VM (Qt-free, asyncio).

QEMU runs detached (it outlives `pilothouse vm start`); its state lives in the VM state dir:
state.json (what we last did), qemu.pid, QMP sockets, console.log. A lock on data.lock, held by
the QEMU process itself (inherited fd), keeps two VMs off one data disk; QEMU's own image lock
is a second guard.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import psutil

from desktop.system_programs import system_program_env
from desktop.vm import engine_access, file_events, guest_agent, image_files, qemu, sleep_control
from desktop.vm.config import VMConfig
from desktop.vm.paths import VMPaths, host_arch
from desktop.vm.qmp_control import QMPError, qmp_command
from desktop.vm.saved_state import ResumeFailed, SaveFailed, SavedState, fingerprint
from desktop.vm.tls import TLSFiles, ensure_certificates

try:
    import fcntl
except ImportError:  # Windows: QEMU's own image locking is the guard there
    fcntl = None

Progress = Callable[[str], None]
STATES = ("stopped", "starting", "running", "stopping", "crashed")
# The guest's init prints these in this order (PILOTHOUSE-PHASE lines on the console).
BOOT_PHASES = ("kernel", "init", "modules", "network", "disk", "shares", "containerd", "dockerd")


class VMError(RuntimeError):
    """A VM operation failed; the message is meant for the user."""


class VMAlreadyRunning(VMError):
    """The VM (or another VM on the same data disk) is already running."""


class VMImageOutdated(VMError):
    """The image is older than this Pilothouse expects; offer `pilothouse vm build` (the data
    disk, with its containers, images and volumes, is not part of the image and is kept)."""

    def __init__(self, message: str, found: str, expected: str) -> None:
        super().__init__(message)
        self.found = found
        self.expected = expected


@dataclass(frozen=True)
class VMStatus:
    state: str
    accelerator: str = ""
    accelerator_reason: str = ""
    docker_host: str = ""
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    console_log: str = ""
    pid: int | None = None
    detail: str = ""
    # How the last start went ("resumed the saved state", or why it booted from scratch), and
    # whether a saved state waits for the next start.
    start_note: str = ""
    saved: bool = False
    sleeping: bool = False  # running, with its vCPUs stopped until engine traffic wakes it


def _free_port(preferred: int | None) -> int:
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            # Connections of the previous run linger in TIME_WAIT; they must not push a restart
            # onto a new port (the docker context and the app's engine entry point at this one).
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return s.getsockname()[1]
    raise VMError("no free port on 127.0.0.1")


def _qemu_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        p = psutil.Process(pid)
        return p.status() != psutil.STATUS_ZOMBIE and "qemu" in p.name().lower()
    except psutil.Error:
        return False


class VMManager:
    """One VM: its config, its files, its QEMU process."""

    saves_state = True  # stop() saves the state, start() resumes it (WSL has no such thing)

    def __init__(self, config: VMConfig | None = None, paths: VMPaths | None = None, arch: str | None = None) -> None:
        self.paths = paths or image_files.user_vm_paths()
        self.config = config or VMConfig.load(self.paths.config_file)
        self.arch = arch or host_arch()  # another arch runs under TCG (e.g. to try the arm64 image)
        self.tls = TLSFiles(self.paths.tls_dir)
        self._proc: subprocess.Popen | None = None

    # ---- state file -------------------------------------------------------------------
    def _read_state(self) -> dict:
        try:
            return json.loads(self.paths.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def _write_state(self, **fields) -> dict:
        state = {**self._read_state(), **fields}
        self.paths.ensure()
        tmp = self.paths.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        os.replace(tmp, self.paths.state_file)
        return state

    def _exit_detail(self, pid: int | None = None) -> str:
        # Only our own child's exit status says how *this* QEMU ended: a child from an earlier
        # start (stopped since) says nothing about one another manager started.
        ours = self._proc is not None and (pid is None or self._proc.pid == pid)
        code = self._proc.poll() if ours else None
        if code is None:
            how = "QEMU is gone; it was started by another process"
        elif code < 0:
            how = f"killed by signal {-code}"
        else:
            how = f"exit status {code}"
        tail = " | ".join(self.console_tail(3))
        try:
            qemu_err = " | ".join(self.paths.qemu_log.read_text(errors="replace").strip().splitlines()[-3:])
        except OSError:
            qemu_err = ""
        return (f"QEMU exited unexpectedly ({how}). Last console lines: {tail}"
                + (f". QEMU said: {qemu_err}" if qemu_err else ""))

    def _guest_powered_off(self) -> bool:
        code = self._proc.poll() if self._proc else None
        return code in (0, None) and any("pilothouse-init: power off" in line for line in self.console_tail(5))

    def status(self) -> VMStatus:
        """The VM's state now; a QEMU that vanished while running is reported as crashed."""
        st = self._read_state()
        state = st.get("state", "stopped")
        pid = st.get("pid")
        if self._proc is not None and self._proc.pid == pid:
            alive = self._proc.poll() is None  # our child: its exit status is authoritative
        else:
            alive = _qemu_alive(pid)
        detail = st.get("detail", "")
        if state == "running" and not alive and self._guest_powered_off():
            st = self._write_state(state="stopped", pid=None, detail="the guest powered itself off")
            state, detail = "stopped", st["detail"]
        elif state in ("starting", "running") and not alive:
            detail = self._exit_detail(pid)
            st = self._write_state(state="crashed", detail=detail, pid=None)
            state = "crashed"
        elif state == "stopping" and not alive:
            st = self._write_state(state="stopped", pid=None)
            state = "stopped"
        port = st.get("docker_port")
        sleeping = state == "running" and alive and sleep_control.sleeping(self.paths.sleep_file)
        helper = st.get("helper_pid")
        if state == "running" and alive and helper and not psutil.pid_exists(helper) and not detail:
            detail = f"the VM's helper, which holds the engine port, has exited (see {self.paths.helper_log}): restart the VM"
        return VMStatus(
            state=state, accelerator=st.get("accelerator", ""), accelerator_reason=st.get("accelerator_reason", ""),
            docker_host=engine_access.docker_host(port) if port else "",
            tls_ca=str(self.tls.ca_cert), tls_cert=str(self.tls.client_cert), tls_key=str(self.tls.client_key),
            console_log=str(self.paths.console_log), pid=pid if alive else None, detail=detail,
            start_note=st.get("start_note", ""), saved=self.saved_state().exists(), sleeping=sleeping)

    def console_tail(self, n: int = 50) -> list[str]:
        try:
            with open(self.paths.console_log, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 256 * max(n, 1)))
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return []
        return lines[-n:]

    def docker_client_kwargs(self) -> dict:
        """kwargs for docker.APIClient when the VM runs (see engine_access.api_client)."""
        port = self._read_state().get("docker_port")
        if not port:
            raise VMError("the VM has never been started")
        return engine_access.docker_client_kwargs(port, self.tls)

    def api_client(self, **kwargs):
        """A docker.APIClient for the VM engine over mutual TLS."""
        port = self._read_state().get("docker_port")
        if not port:
            raise VMError("the VM has never been started")
        return engine_access.api_client(port, self.tls, **kwargs)

    # ---- start ------------------------------------------------------------------------
    def _take_lock(self) -> int | None:
        if fcntl is None:
            return None
        fd = os.open(self.paths.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise VMAlreadyRunning(f"another VM is using the data disk {self.paths.data_disk}") from None
        return fd

    def _ensure_disk(self) -> None:
        disk = self.paths.data_disk
        want = f"{self.config.disk_gib}G"
        if not disk.exists():
            self._qemu_img("create", "-q", "-f", "qcow2", str(disk), want)
            return
        info = json.loads(self._qemu_img("info", "--output=json", "-U", str(disk)))
        if info.get("virtual-size", 0) < self.config.disk_gib << 30:
            self._qemu_img("resize", "-q", str(disk), want)  # the guest grows ext4 online at boot

    def _qemu_img(self, *args: str) -> str:
        system = Path(qemu.find_qemu(self.arch))
        exe = shutil.which("qemu-img") or str(system.with_name("qemu-img" + system.suffix))
        res = subprocess.run([exe, *args], capture_output=True, text=True, check=False, env=system_program_env())
        if res.returncode != 0:
            raise VMError(f"qemu-img {args[0]} failed: {res.stderr.strip()}")
        return res.stdout

    def image_state(self):
        """desktop.vm.image_files.ImageState of this VM's image (missing / current / outdated)."""
        return image_files.image_state(self.paths.image_dir)

    def saved_state(self) -> SavedState:
        return SavedState(self.paths.state_dir / "saved", self.paths.data_disk)

    def _agent_base(self) -> Path:
        return self.paths.state_dir / "agent"

    def guest_agent(self) -> guest_agent.GuestAgent:
        return guest_agent.GuestAgent(self._agent_base())

    async def start(self, progress: Progress | None = None, timeout: float | None = None,
                    allow_outdated: bool = False, on_phase: Progress | None = None, cold: bool = False) -> VMStatus:
        """Resume the saved state when there is a usable one (unless `cold`), else boot; wait
        until dockerd answers over TLS; raise VMError on failure (VMImageOutdated when the image
        is older than expected, unless allow_outdated).

        `on_phase(name)` is called once per guest boot phase (BOOT_PHASES) as the console shows it.
        Cancelling the awaiting task stops QEMU and leaves the VM stopped."""
        say = progress or (lambda _msg: None)
        # Seconds from the call to each step, kept in state.json: bench/_vm_resume_probe.py
        # prints them, and a slow start can be told apart from a slow engine.
        began = time.perf_counter()
        timings: dict[str, float] = {}

        def mark(step: str) -> None:
            timings[step] = round(time.perf_counter() - began, 3)

        if self.status().state in ("starting", "running", "stopping"):
            raise VMAlreadyRunning("the VM is already running")
        image = self.paths.image_dir
        if not all((image / f).exists() for f in ("vmlinuz", "initramfs.img", "probe.img")):
            raise VMError(f"no VM image in {image}: run `pilothouse vm build` first")
        st = self.image_state()
        if st.status == "outdated" and not allow_outdated:
            raise VMImageOutdated(
                f"the VM image in {image} is version {st.found_version}, older than the {st.expected_version} this "
                "Pilothouse expects: update it with `pilothouse vm build` (the VM's containers, images and volumes "
                "are on its data disk and are kept)", st.found_version, st.expected_version)
        self.paths.ensure()
        self.config.save(self.paths.config_file)
        exe = qemu.find_qemu(self.arch)
        say("checking the hardware accelerator")
        accel = await qemu.choose_accelerator(exe, self.arch, image, cache=self.paths.accel_cache)
        say(f"accelerator: {accel.reason}")
        ensure_certificates(self.paths.tls_dir)
        shares = tuple(s for s in self.config.shares if os.path.isdir(s))
        now = fingerprint(qemu=exe, image_dir=image, tls_dir=self.paths.tls_dir, accel=accel.name, arch=self.arch,
                          cpus=self.config.cpus, memory_mib=self.config.memory_mib, disk_gib=self.config.disk_gib,
                          shares=shares)
        saved = self.saved_state()
        verdict = saved.check(now)
        mark("checked")
        note = ""
        if saved.exists() and (cold or not verdict.usable):
            note = "a cold boot was asked for" if cold else f"booting from scratch: {verdict.reason}"
            say(note)
            saved.discard()
        elif not saved.exists():
            saved.discard()  # a state file whose description is gone (a crash just after a resume)
        resume = verdict.usable and not cold
        self._ensure_disk()
        # The engine port is the helper's (a proxy that wakes a sleeping VM); QEMU forwards
        # dockerd to another loopback port behind it.
        port = _free_port(self._read_state().get("docker_port"))
        guest_port = _free_port(None)
        while guest_port == port:
            guest_port = _free_port(None)
        qmp = [str(self.paths.qmp_socket), str(self.paths.qmp_portsync_socket), str(self.paths.qmp_sleep_socket)]
        self.paths.sleep_file.unlink(missing_ok=True)
        agent = self._agent_base() if guest_agent.supported() else None
        spec = qemu.LaunchSpec(
            qemu=exe, arch=self.arch, accel=accel.name, cpus=self.config.cpus, memory_mib=self.config.memory_mib,
            image_dir=image, data_disk=self.paths.data_disk, tls_dir=self.paths.tls_dir,
            shares_file=self.paths.shares_file, shares=shares,
            docker_port=guest_port, console_log=self.paths.console_log, pid_file=self.paths.pid_file,
            qmp_sockets=tuple(qmp), agent=agent)
        if resume:
            say("resuming the saved state")
            self._launch(dataclasses.replace(spec, incoming=True))
            mark("qemu_launched")
            self._write_state(state="starting", pid=self._proc.pid, docker_port=port, guest_port=guest_port,
                              helper_pid=None, qmp=qmp, accelerator=accel.name,
                              accelerator_reason=accel.reason, started_at=time.time(), detail="", fingerprint=now,
                              agent=agent is not None)
            # The helper's own start-up (a Python process) overlaps the state's loading.
            helper = self._spawn_helper()
            mark("helper_spawned")
            try:
                await saved.resume(self._qmp_address(0), lambda: self._proc.poll() is None, say, mark=mark)
                note = "resumed the saved state"
            except ResumeFailed as e:
                await self._kill()
                await self._wait_helper_exit(timeout=10.0, terminate=True)  # it holds the engine port
                saved.discard()
                resume = False
                note = f"booting from scratch: {e}"
                say(note)
            except BaseException:
                await self._kill()
                self._write_state(state="stopped", pid=None, detail="the start was cancelled")
                raise
        if not resume:
            say(f"launching QEMU ({accel.name}, {self.config.cpus} CPUs, {self.config.memory_mib} MiB)")
            self._launch(spec)
            self._write_state(state="starting", pid=self._proc.pid, docker_port=port, guest_port=guest_port,
                              helper_pid=None, qmp=qmp, accelerator=accel.name,
                              accelerator_reason=accel.reason, started_at=time.time(), detail="", fingerprint=now,
                              agent=agent is not None)
            helper = self._spawn_helper()
        self._write_state(start_note=note)
        deadline = timeout or (300.0 if accel.name == "tcg" else 90.0)
        try:
            # After a resume the clock and shares are put right while dockerd is reached.
            fixing = asyncio.ensure_future(self._after_resume(say, mark)) if resume else None
            try:
                await self._wait_ready(guest_port, deadline, say, on_phase, interval=0.05 if resume else 0.25)
                mark("engine_answered")
                if fixing is not None:
                    await fixing
            finally:
                if fixing is not None and not fixing.done():
                    fixing.cancel()
            await self._await_helper(helper, port)
            mark("helper_port_open")
        except asyncio.CancelledError:
            if self.status().state == "starting":
                await self._kill()
                self._write_state(state="stopped", pid=None, detail="the start was cancelled")
            raise
        except BaseException:
            if self.status().state == "starting":
                await self._kill()
                self._write_state(state="crashed", pid=None, detail=f"did not become ready; see {self.paths.console_log}")
            raise
        engine_access.write_docker_context(self.paths.docker_config_dir, port, self.tls)
        self._spawn_file_events()
        mark("ready")
        self._write_state(state="running", start_timings=timings)
        say(f"engine ready at {engine_access.docker_host(port)} (docker context '{engine_access.CONTEXT_NAME}')")
        return self.status()

    def _launch(self, spec: qemu.LaunchSpec) -> None:
        lock_fd = self._take_lock()
        try:
            for sock in (self.paths.qmp_socket, self.paths.qmp_portsync_socket, self.paths.qmp_sleep_socket,
                         self.paths.pid_file):
                sock.unlink(missing_ok=True)
            if self.paths.console_log.exists():
                os.replace(self.paths.console_log, self.paths.console_log.with_suffix(".log.1"))
            if spec.agent is not None:
                guest_agent.prepare(spec.agent)
            with open(self.paths.qemu_log, "wb") as log:
                self._proc = subprocess.Popen(
                    qemu.build_argv(spec), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True, pass_fds=(lock_fd,) if lock_fd is not None else (),
                    env=system_program_env())
        finally:
            if lock_fd is not None:
                os.close(lock_fd)  # QEMU holds the inherited lock for as long as it runs

    async def _after_resume(self, say: Progress, mark: Progress) -> None:
        """The guest runs again with the clock it had when it was saved: set it, remount shares."""
        agent = self.guest_agent()
        try:
            await agent.call("clock", f"{time.time():.0f}", timeout=10)
            mark("clock_set")
            await agent.call("mount-shares", timeout=30)
            mark("shares_mounted")
        except guest_agent.AgentError as e:
            say(f"after the resume: {e}")

    async def _wait_ready(self, port: int, timeout: float, say: Progress, on_phase: Progress | None = None,
                          interval: float = 0.25) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen_phases: set[str] = set()

        def report_phases() -> None:
            for line in self.console_tail(30):
                if line.startswith("PILOTHOUSE-PHASE "):
                    name = line.split()[1]
                    if name not in seen_phases:
                        seen_phases.add(name)
                        say(f"guest: {name} up at {line.split()[2]} s")
                        if on_phase is not None:
                            on_phase(name)

        client = engine_access.api_client(port, self.tls, version="1.41", timeout=3)
        try:
            while loop.time() < deadline:
                if self.status().state != "starting":
                    raise VMError(self.status().detail or "QEMU exited during boot")
                report_phases()
                try:
                    if await loop.run_in_executor(None, client.ping):
                        report_phases()  # the engine may answer before the last phase line is read
                        return
                except Exception:  # noqa: BLE001 - not up yet; QEMU's forward resets until dockerd listens
                    pass
                await asyncio.sleep(interval)  # polling a booting guest: nothing to wait on instead
        finally:
            client.close()
        raise VMError(f"the engine did not answer within {timeout:.0f} s; see {self.paths.console_log}")

    def _spawn_file_events(self) -> None:
        if not (file_events.supported() and guest_agent.supported() and self.paths.shares_file.exists()):
            return
        if getattr(sys, "frozen", False):
            argv = [sys.executable, "vm", "_file_events", str(self.paths.state_dir)]
        else:
            argv = [sys.executable, "-m", "desktop.vm.file_events", str(self.paths.state_dir)]
        with open(self.paths.portsync_log, "ab") as log:
            subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True, close_fds=True)

    def _spawn_helper(self) -> subprocess.Popen:
        """Start the helper (engine port proxy, sleep, port forwards; desktop/vm/vm_helper.py)
        for the QEMU just launched; it waits for QEMU's monitor and leaves when QEMU does."""
        if getattr(sys, "frozen", False):
            argv = [sys.executable, "vm", "_helper", str(self.paths.state_dir)]
        else:
            argv = [sys.executable, "-m", "desktop.vm.vm_helper", str(self.paths.state_dir)]
        with open(self.paths.helper_log, "ab") as log:
            helper = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True, close_fds=True)
        self._write_state(helper_pid=helper.pid)
        return helper

    async def _await_helper(self, helper: subprocess.Popen, port: int, timeout: float = 30.0) -> None:
        """Return once the engine port answers through the helper."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if helper.poll() is not None:
                break
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1)
                writer.close()
                return
            except (OSError, asyncio.TimeoutError):
                await asyncio.sleep(0.05)  # the helper is starting: nothing to wait on instead
        try:
            tail = " | ".join(self.paths.helper_log.read_text(errors="replace").strip().splitlines()[-3:])
        except OSError:
            tail = ""
        raise VMError(f"the VM's helper did not open the engine port {port}" + (f": {tail}" if tail else ""))

    async def _wait_helper_exit(self, timeout: float = 10.0, terminate: bool = False) -> None:
        # The helper leaves with QEMU; wait, so a restart gets the same engine port back.
        pid = self._read_state().get("helper_pid")
        if not pid:
            return
        try:
            proc = psutil.Process(pid)
            if terminate:
                proc.terminate()
            await asyncio.get_running_loop().run_in_executor(None, proc.wait, timeout)
        except psutil.TimeoutExpired:
            proc.kill()
        except psutil.Error:
            pass

    async def wake(self) -> VMStatus:
        """Wake a sleeping VM (the helper continues its vCPUs and sets the guest clock)."""
        if self.status().sleeping:
            loop = asyncio.get_running_loop()
            if sleep_control.has_control_socket():
                await loop.run_in_executor(None, sleep_control.request, self.paths.helper_socket, "wake")
            else:  # pragma: no cover - Windows: any connection to the engine port wakes it
                await loop.run_in_executor(None, sleep_control.wake_by_connecting, self._read_state()["docker_port"])
        return self.status()

    async def sleep_now(self) -> VMStatus:
        """Put the VM to sleep now; VMError says why not (a container runs, traffic came)."""
        if self.status().state != "running":
            raise VMError("the VM is not running")
        reply = await asyncio.get_running_loop().run_in_executor(
            None, sleep_control.request, self.paths.helper_socket, "sleep", sleep_control.SLEEP_TIMEOUT_S)
        if not reply.get("ok"):
            raise VMError(f"the VM did not sleep: {reply.get('error') or 'no reason given'}")
        return self.status()

    def set_sleep_after(self, seconds: float) -> None:
        """Save the idle time before sleep (0: never) and tell a running VM's helper (blocking)."""
        self.config = self.config.with_changes(sleep_after_s=float(seconds))
        self.paths.ensure()
        self.config.save(self.paths.config_file)
        if self.status().state == "running":
            try:
                sleep_control.request(self.paths.helper_socket, "reload", timeout=10)
            except sleep_control.SleepControlError:
                pass  # it reads the saved value when it next starts

    # ---- stop / restart / delete --------------------------------------------------------
    async def _wait_exit(self, pid: int, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self._proc is not None and self._proc.pid == pid:
                if self._proc.poll() is not None:
                    return True
            elif not _qemu_alive(pid):
                return True
            await asyncio.sleep(0.1)
        return False

    async def _kill(self) -> None:
        pid = self._read_state().get("pid")
        if _qemu_alive(pid):
            try:
                psutil.Process(pid).kill()
            except psutil.Error:
                pass
            await self._wait_exit(pid, 10)

    async def wait_until_exit(self) -> VMStatus:
        """Return when QEMU exits (the app awaits this to learn of a crash at once)."""
        pid = self._read_state().get("pid")
        while pid and not await self._wait_exit(pid, 3600):
            pass
        return self.status()

    def _qmp_address(self, index: int):
        # Always the unix sockets in the 0700 state folder (a state file from an older version
        # may name loopback TCP ports; those are never used).
        return str((self.paths.qmp_socket, self.paths.qmp_portsync_socket)[index])

    async def stop(self, timeout: float = 60.0, progress: Progress | None = None, shutdown: bool = False) -> VMStatus:
        """Save the running VM's state for the next start (unless `shutdown`, or the save is not
        possible: then say why); otherwise ACPI power-off (the guest stops dockerd cleanly),
        killing QEMU after the deadline."""
        say = progress or (lambda _msg: None)
        current = self.status()
        if current.state not in ("starting", "running", "stopping"):
            self._write_state(state="stopped", pid=None)
            return self.status()
        pid = current.pid
        if current.sleeping:
            say("waking the VM so it can stop cleanly")
            try:
                await qmp_command(self._qmp_address(0), "cont")
            except QMPError as e:
                say(f"QMP unavailable ({e})")
        st = self._write_state(state="stopping")
        if not shutdown and current.state == "running" and st.get("agent") and st.get("fingerprint"):
            # The helper would wake or sleep the VM in the middle of the save: it goes first (the
            # engine port closes with it; the next start opens it again).
            await self._wait_helper_exit(timeout=5.0, terminate=True)
            try:
                await self.saved_state().save(self._qmp_address(0), self.guest_agent(), st["fingerprint"],
                                              lambda: self._wait_exit(pid, 3600), say)
                self._write_state(state="stopped", pid=None, detail="", helper_pid=None)
                self._remove_sockets()
                say("stopped; the next start resumes where it left off")
                return self.status()
            except SaveFailed as e:
                # A QEMU killed mid-save takes a moment to exit (its memory is torn down first).
                if await self._wait_exit(pid, 3.0):
                    self._write_state(state="stopped", pid=None,
                                      detail=f"QEMU exited while saving the VM's state ({e}); the next start boots "
                                             "from scratch")
                    self._remove_sockets()
                    return self.status()
                say(f"{e}: shutting the VM down instead")
        say("asking the guest to power off")
        try:
            await qmp_command(self._qmp_address(0), "system_powerdown")
        except QMPError as e:
            say(f"QMP unavailable ({e}); stopping QEMU")
        if not await self._wait_exit(pid, timeout):
            say(f"the guest did not power off within {timeout:.0f} s: killing QEMU")
            await self._kill()
        await self._wait_helper_exit()
        self._write_state(state="stopped", pid=None, detail="")
        self._remove_sockets()
        say("stopped")
        return self.status()

    def _remove_sockets(self) -> None:
        for sock in (self.paths.qmp_socket, self.paths.qmp_portsync_socket, self.paths.qmp_sleep_socket):
            sock.unlink(missing_ok=True)

    async def restart(self, progress: Progress | None = None, allow_outdated: bool = False,
                      timeout: float | None = None) -> VMStatus:
        """A full shutdown and a cold boot (a fresh engine; resource changes apply)."""
        await self.stop(progress=progress, shutdown=True)
        return await self.start(progress, timeout=timeout, allow_outdated=allow_outdated, cold=True)

    async def delete(self, progress: Progress | None = None) -> None:
        """Stop the VM and remove its disk, certificates, state and docker context."""
        await self.stop(progress=progress, shutdown=True)
        engine_access.remove_docker_context(self.paths.docker_config_dir)
        shutil.rmtree(self.paths.state_dir, ignore_errors=True)
