"""QEMU on this host: where it is, which accelerator really works, and the command line."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from desktop.system_programs import system_program_env
from desktop.vm.host_platform import HostPlatform, path_dirs, qemu_candidates, qemu_install_command

PROBE_MARK = b"PILOTHOUSE-PROBE-OK"
PROBE_TIMEOUT = 8.0
TCG_TB_SIZE_MIB = 256  # caps TCG's translated-code cache (default up to 1 GiB, all of it resident)
GUEST_DOCKER_PORT = 2376


def qmp_arg(address: "Path | str") -> str:
    # Always a unix socket in the 0700 state folder: a loopback TCP monitor would let any local
    # user drive QEMU (QEMU has AF_UNIX on Windows 10 and later too; see unix_socket.py).
    return f"unix:{_esc(address)},server=on,wait=off"


class QemuNotFound(RuntimeError):
    """No usable qemu-system binary was found."""


@dataclass(frozen=True)
class Accelerator:
    name: str  # kvm | hvf | whpx | tcg
    reason: str  # shown to the user: why this one

    @property
    def hardware(self) -> bool:
        return self.name != "tcg"


def find_qemu(arch: str | None = None, plat: HostPlatform | None = None) -> Path:
    """Locate qemu-system-<arch>: $PILOTHOUSE_QEMU, a bundled copy, PATH, then per-OS folders."""
    plat = plat or HostPlatform.current()
    arch = arch or plat.arch
    env = os.environ.get("PILOTHOUSE_QEMU")
    if env:
        return Path(env)
    for c in qemu_candidates(plat, arch, path_dirs(), dict(os.environ), getattr(sys, "_MEIPASS", None)):
        if Path(c).is_file():
            return Path(c)
    raise QemuNotFound(f"qemu-system-{arch} not found: install it with `{qemu_install_command(plat, arch)}`, "
                       "or set PILOTHOUSE_QEMU")


def hardware_candidate(arch: str, plat: HostPlatform | None = None) -> tuple[str | None, str]:
    """The hardware accelerator this host could offer for arch, or None and why not."""
    plat = plat or HostPlatform.current()
    if arch != plat.arch:
        return None, f"guest {arch} differs from host {plat.arch}: software emulation (TCG)"
    if plat.os == "linux":
        if not os.path.exists("/dev/kvm"):
            return None, "no /dev/kvm (KVM module not loaded or no virtualisation support): using TCG"
        if not os.access("/dev/kvm", os.R_OK | os.W_OK):
            return None, "/dev/kvm is not accessible to this user (add yourself to group kvm): using TCG"
        return "kvm", ""
    if plat.os == "darwin":
        return "hvf", ""  # Intel and Apple silicon alike; the probe boot says whether it works
    if plat.os == "win32":
        return "whpx", ""
    return None, f"no hardware accelerator known for {plat.os}: using TCG"


# With highmem=off the arm64 `virt` board keeps every device below 4 GiB, which an Apple M1's
# 36-bit guest address space (what HVF offers there) can hold; guest RAM then has to fit under
# 4 GiB too, so bigger VMs keep highmem and rely on QEMU fitting the map to HVF's IPA size.
HVF_ARM_LOW_MEMORY_MIB = 3072


def machine_args(arch: str, accel: str, cpus: int, memory_mib: int) -> list[str]:
    if accel == "tcg":
        accel_arg = f"tcg,thread=multi,tb-size={TCG_TB_SIZE_MIB}"
        cpu = "max"
    else:
        accel_arg = accel
        cpu = "host"
    machine = "q35" if arch == "x86_64" else "virt"
    if arch == "aarch64" and accel == "hvf" and memory_mib <= HVF_ARM_LOW_MEMORY_MIB:
        machine = "virt,highmem=off"
    return ["-machine", machine, "-accel", accel_arg, "-cpu", cpu, "-smp", str(cpus), "-m", str(memory_mib)]


def console_device(arch: str) -> str:
    return "ttyS0" if arch == "x86_64" else "ttyAMA0"


def kernel_cmdline(arch: str, accel: str = "tcg") -> str:
    # apparmor=0: the image has no profiles; panic=-1 + -no-reboot turns a guest panic into a
    # QEMU exit that we report as a crash. pilothouse.tcg=1 tells the guest's init that code
    # is translated, so it starts dockerd without ASLR (see packaging/vm/init for why).
    # Under TCG, also: tsc=reliable, because the kernel finds the vCPUs' TSCs "unsynchronised"
    # (two vCPU threads start apart) and falls back to the HPET, whose every read is an emulated
    # MMIO access and which the vDSO cannot read (each clock_gettime of dockerd's and
    # containerd's Go runtimes became a system call). QEMU derives every vCPU's TSC from one
    # monotonic host clock, so it is in fact synchronised. nowatchdog: the soft-lockup watchdog
    # ticks every 4 s per CPU and reports false lockups when a loaded host starves the vCPUs.
    tcg = " pilothouse.tcg=1 tsc=reliable nowatchdog" if accel == "tcg" else ""
    return f"console={console_device(arch)} apparmor=0 panic=-1 quiet loglevel=3{tcg}"


def _probe_blocking(argv: list[str], timeout: float) -> tuple[bool, str]:
    # The probe guest prints the mark and powers off (-no-reboot makes QEMU exit), so waiting
    # for QEMU to exit within the deadline is the whole check.
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=system_program_env())
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return False, f"a probe boot did not reach user space within {timeout:.0f} s"
    if PROBE_MARK in out:
        return True, ""
    last = (out.decode(errors="replace").strip().splitlines() or ["no output"])[-1][-200:]
    return False, f"QEMU failed the probe boot: {last}"


async def _probe_once(qemu: Path, arch: str, accel: str, image_dir: Path, timeout: float) -> tuple[bool, str]:
    argv = [str(qemu), "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            *machine_args(arch, accel, 1, 256),
            "-kernel", str(image_dir / "vmlinuz"), "-initrd", str(image_dir / "probe.img"),
            "-append", f"console={console_device(arch)} panic=-1 quiet", "-serial", "stdio"]
    return await asyncio.get_running_loop().run_in_executor(None, _probe_blocking, argv, timeout)


def _probe_key(qemu: Path, accel: str, image_dir: Path) -> str:
    h = hashlib.sha256()
    for p in (qemu, image_dir / "vmlinuz"):
        st = p.stat()
        h.update(f"{p}:{st.st_size}:{st.st_mtime_ns};".encode())
    h.update(accel.encode())
    try:
        h.update(Path("/proc/sys/kernel/osrelease").read_bytes())
    except OSError:
        pass
    return h.hexdigest()


async def choose_accelerator(qemu: Path, arch: str, image_dir: Path, cache: Path | None = None,
                             timeout: float = PROBE_TIMEOUT) -> Accelerator:
    """Pick KVM/HVF/WHPX when a probe boot really works, else TCG; the reason says why."""
    forced = os.environ.get("PILOTHOUSE_VM_ACCEL")
    if forced:
        return Accelerator(forced, f"{forced}: forced by PILOTHOUSE_VM_ACCEL")
    accel, why_not = hardware_candidate(arch)
    if accel is None:
        return Accelerator("tcg", why_not)
    key = _probe_key(qemu, accel, image_dir)
    cached = {}
    if cache and cache.exists():
        try:
            cached = json.loads(cache.read_text())
        except ValueError:
            cached = {}
    if cached.get("key") == key:
        ok, detail = cached["ok"], cached["detail"]
    else:
        ok, detail = await _probe_once(qemu, arch, accel, image_dir, timeout)
        if cache:
            cache.write_text(json.dumps({"key": key, "ok": ok, "detail": detail}))
    if ok:
        return Accelerator(accel, f"{accel.upper()}: hardware acceleration (a probe boot succeeded)")
    return Accelerator("tcg", f"{accel.upper()} is present but does not work here ({detail}): using TCG software emulation, which is much slower")


@dataclass(frozen=True)
class LaunchSpec:
    qemu: Path
    arch: str
    accel: str
    cpus: int
    memory_mib: int
    image_dir: Path
    data_disk: Path
    tls_dir: Path
    shares_file: Path
    shares: tuple[str, ...]
    docker_port: int
    console_log: Path
    pid_file: Path
    qmp_sockets: tuple[str, ...]
    platform: HostPlatform | None = None  # None: this host
    agent: Path | None = None  # the guest agent's FIFO pair (desktop/vm/guest_agent.py)
    incoming: bool = False  # wait, paused, for a saved state (desktop/vm/saved_state.py)


def _esc(path: Path | str) -> str:
    """Escape a path for a QEMU -opt value (a comma is written as two)."""
    return str(path).replace(",", ",,")


def share_tag(index: int) -> str:
    return f"phshare{index}"


def supports_virtfs(plat: HostPlatform | None = None) -> bool:
    # QEMU has no 9p server on Windows hosts; macOS has one since QEMU 7.0 (Homebrew ships newer).
    return (plat or HostPlatform.current()).os != "win32"


def build_argv(s: LaunchSpec) -> list[str]:
    """The QEMU command line for the VM; every listening socket is loopback or a unix socket."""
    argv = [str(s.qemu), "-name", "pilothouse", "-nodefaults", "-no-user-config", "-display", "none",
            "-no-reboot", *machine_args(s.arch, s.accel, s.cpus, s.memory_mib),
            "-kernel", str(s.image_dir / "vmlinuz"), "-initrd", str(s.image_dir / "initramfs.img"),
            "-append", kernel_cmdline(s.arch, s.accel),
            "-chardev", f"file,id=console,path={_esc(s.console_log)}", "-serial", "chardev:console",
            "-netdev", f"user,id=net0,ipv6=off,hostfwd=tcp:127.0.0.1:{s.docker_port}-:{GUEST_DOCKER_PORT}",
            "-device", "virtio-net-pci,netdev=net0",
            "-drive", f"file={_esc(s.data_disk)},if=virtio,format=qcow2,discard=unmap,cache=writeback",
            "-device", "virtio-rng-pci",
            # The guest hands freed pages back (the initramfs copy, exited containers), so
            # QEMU's resident memory follows what the guest really uses.
            "-device", "virtio-balloon-pci,free-page-reporting=on",
            "-pidfile", str(s.pid_file)]
    for name in ("ca.pem", "server-cert.pem", "server-key.pem"):
        argv += ["-fw_cfg", f"name=opt/pilothouse/{name},file={_esc(s.tls_dir / name)}"]
    if s.shares and supports_virtfs(s.platform):
        lines = []
        for i, path in enumerate(s.shares):
            tag = share_tag(i)
            argv += ["-virtfs", f"local,path={_esc(path)},mount_tag={tag},security_model=none,id={tag}"]
            lines.append(f"{tag} {path}\n")
        s.shares_file.write_text("".join(lines))
        argv += ["-fw_cfg", f"name=opt/pilothouse/shares,file={_esc(s.shares_file)}"]
    else:
        s.shares_file.unlink(missing_ok=True)  # what other helpers read as the current shares
    if s.agent is not None:
        from desktop.vm.guest_agent import qemu_args as agent_args

        argv += agent_args(s.agent)
    for address in s.qmp_sockets:
        argv += ["-qmp", qmp_arg(address)]
    if s.incoming:
        argv += ["-incoming", "defer", "-S"]
    return argv
