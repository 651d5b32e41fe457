"""Windows with WSL 2: the engine in a WSL distribution of Pilothouse's own.

The wsl.exe command lines are pure plans (unit-tested on Linux); `WslEngine` runs them. The
distribution is imported from the root filesystem tar (`pilothouse vm build --wsl-rootfs`) into
the user's data folder; each start runs packaging/vm/wsl-init in it with the TLS material on
stdin, and dockerd listens with mutual TLS on a loopback port (WSL forwards it to Windows'
127.0.0.1). Stop runs the init's clean shutdown and then `wsl --terminate`; delete is
`wsl --unregister`, which removes the distribution's disk.

None of this has been run on Windows.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from desktop.vm.tls import TLSFiles
from desktop.vm.wsl_rootfs import WSL_INIT

DISTRO = "pilothouse"
WSL_EXE = "wsl.exe"
TLS_HANDOVER = ("ca.pem", "server-cert.pem", "server-key.pem")  # never the CA key or the client key


# -- plans -------------------------------------------------------------------------------------------
def import_plan(install_dir: "Path | PureWindowsPath", rootfs: "Path | PureWindowsPath", distro: str = DISTRO) -> list[str]:
    """Import the root filesystem as a WSL 2 distribution whose disk lives in install_dir."""
    return [WSL_EXE, "--import", distro, str(install_dir), str(rootfs), "--version", "2"]


def start_plan(port: int, distro: str = DISTRO) -> list[str]:
    """Run the engine's init as root (no shell: --exec), dockerd on 127.0.0.1:port."""
    if not 0 < int(port) < 65536:
        raise ValueError(f"port {port} is out of range")
    return [WSL_EXE, "--distribution", distro, "--user", "root", "--exec", "/" + WSL_INIT,
            "--listen", f"127.0.0.1:{int(port)}"]


def stop_plan(distro: str = DISTRO) -> list[str]:
    """Ask the running init to stop dockerd and containerd cleanly."""
    return [WSL_EXE, "--distribution", distro, "--user", "root", "--exec", "/" + WSL_INIT, "--stop"]


def terminate_plan(distro: str = DISTRO) -> list[str]:
    return [WSL_EXE, "--terminate", distro]


def unregister_plan(distro: str = DISTRO) -> list[str]:
    return [WSL_EXE, "--unregister", distro]


def status_plan() -> list[str]:
    return [WSL_EXE, "--list", "--verbose"]


def version_plan() -> list[str]:
    # Only the Store-delivered WSL (WSL 2 with its own kernel) knows --version.
    return [WSL_EXE, "--version"]


def wsl_env(base: dict[str, str] | None = None) -> dict[str, str]:
    # wsl.exe writes UTF-16 unless told otherwise.
    return {**(os.environ if base is None else base), "WSL_UTF8": "1"}


def decode_output(raw: bytes) -> str:
    """wsl.exe output as text: UTF-8 with WSL_UTF8=1, UTF-16LE from older versions."""
    if raw.startswith(b"\xff\xfe") or (len(raw) > 1 and raw[1:2] == b"\x00"):
        return raw.decode("utf-16-le", errors="replace").lstrip("\ufeff")
    return raw.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class DistroState:
    name: str
    state: str  # Running | Stopped | Installing | ...
    version: int


def parse_list_verbose(text: str) -> dict[str, DistroState]:
    """`wsl --list --verbose`: a header, then `[*] NAME STATE VERSION` per distribution."""
    out: dict[str, DistroState] = {}
    for line in text.replace("\x00", "").splitlines()[1:]:
        parts = line.replace("*", " ").split()
        if len(parts) >= 3 and parts[-1].isdigit():
            name, state, version = " ".join(parts[:-2]), parts[-2], int(parts[-1])
            out[name.lower()] = DistroState(name, state, version)
    return out


def vm_state(distros: dict[str, DistroState], distro: str = DISTRO) -> str:
    """The VM state names of desktop.vm.machine for our distribution."""
    d = distros.get(distro.lower())
    if d is None:
        return "missing"
    return {"running": "running", "stopped": "stopped"}.get(d.state.lower(), "starting")


def tls_bundle(tls: TLSFiles) -> bytes:
    """The TLS material wsl-init reads on stdin: a tar of the server's files only."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in TLS_HANDOVER:
            data = (tls.dir / name).read_bytes()
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o600, 0
            tar.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def install_dir(data_dir: Path) -> Path:
    """Where the distribution's disk (ext4.vhdx) lives: the user's data folder."""
    return data_dir / "wsl" / DISTRO


# -- running the plans (Windows) ---------------------------------------------------------------------
def _run(argv: list[str], timeout: float = 60, data: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, input=data, capture_output=True, timeout=timeout, env=wsl_env(), check=False)


def wsl_available() -> bool:
    """True when WSL 2 answers here (never on Linux or macOS)."""
    if os.name != "nt":
        return False
    try:  # pragma: no cover - Windows only
        return _run(version_plan(), timeout=15).returncode == 0
    except (OSError, subprocess.TimeoutExpired):  # pragma: no cover
        return False


def distro_state(distro: str = DISTRO) -> str:  # pragma: no cover - Windows only
    res = _run(status_plan(), timeout=15)
    if res.returncode != 0:
        return "missing"
    return vm_state(parse_list_verbose(decode_output(res.stdout)), distro)


def start_detached(port: int, tls: TLSFiles, console_log: Path, distro: str = DISTRO) -> subprocess.Popen:  # pragma: no cover
    """Start the engine: wsl.exe stays attached (that keeps the distribution running) with its
    output in console_log; the TLS material goes in on stdin and stdin is closed."""
    with open(console_log, "ab") as log:
        proc = subprocess.Popen(start_plan(port, distro), stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                                env=wsl_env(), creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
    assert proc.stdin is not None
    proc.stdin.write(tls_bundle(tls))
    proc.stdin.close()
    return proc


def stop(distro: str = DISTRO, timeout: float = 40) -> None:  # pragma: no cover - Windows only
    try:
        _run(stop_plan(distro), timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    _run(terminate_plan(distro), timeout=30)


def import_distro(data_dir: Path, rootfs: Path, distro: str = DISTRO) -> None:  # pragma: no cover - Windows only
    target = install_dir(data_dir)
    target.mkdir(parents=True, exist_ok=True)
    res = _run(import_plan(target, rootfs, distro), timeout=600)
    if res.returncode != 0:
        raise RuntimeError(f"wsl --import failed: {decode_output(res.stdout + res.stderr).strip()}")


def unregister(distro: str = DISTRO) -> None:  # pragma: no cover - Windows only
    _run(unregister_plan(distro), timeout=120)
