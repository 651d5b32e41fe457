"""The QEMU plans for hosts this machine is not: macOS (Intel and Apple silicon) and Windows.

These check the command lines and lookups Pilothouse would use there; none of it ran on a Mac or
on Windows."""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from desktop.vm import qemu
from desktop.vm.host_platform import HostPlatform, qemu_candidates, qemu_install_command, watch_dirs
from desktop.vm.unix_socket import UNIX_PATH_MAX, sockaddr_un

MAC_ARM = HostPlatform("darwin", "aarch64")
MAC_INTEL = HostPlatform("darwin", "x86_64")
WINDOWS = HostPlatform("win32", "x86_64")


def _spec(tmp_path: Path, plat: HostPlatform, accel: str, memory_mib: int = 2048, shares=("/Users/me",)):
    return qemu.LaunchSpec(
        qemu=Path("/opt/homebrew/bin/qemu-system-aarch64"), arch=plat.arch, accel=accel, cpus=4, memory_mib=memory_mib,
        image_dir=tmp_path / "img", data_disk=tmp_path / "data.qcow2", tls_dir=tmp_path / "tls",
        shares_file=tmp_path / "shares", shares=shares, docker_port=40000, console_log=tmp_path / "console.log",
        pid_file=tmp_path / "qemu.pid", qmp_sockets=(str(tmp_path / "qmp.sock"), str(tmp_path / "qmp-ports.sock")),
        platform=plat)


def _opt(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_apple_silicon_runs_the_arm64_image_under_hvf_with_9p_shares(tmp_path: Path):
    assert qemu.hardware_candidate("aarch64", MAC_ARM) == ("hvf", "")
    argv = qemu.build_argv(_spec(tmp_path, MAC_ARM, "hvf"))
    assert _opt(argv, "-accel") == "hvf" and _opt(argv, "-cpu") == "host"
    # an M1 offers a 36-bit guest address space: the virt board's devices must stay low
    assert _opt(argv, "-machine") == "virt,highmem=off"
    assert "console=ttyAMA0" in _opt(argv, "-append") and "pilothouse.tcg=1" not in _opt(argv, "-append")
    assert _opt(argv, "-virtfs").startswith("local,path=/Users/me,mount_tag=phshare0,security_model=none")
    assert any(a == "name=opt/pilothouse/shares,file=" + str(tmp_path / "shares") for a in argv)
    assert [a for a in argv if a.startswith("unix:")] == [
        f"unix:{tmp_path / 'qmp.sock'},server=on,wait=off", f"unix:{tmp_path / 'qmp-ports.sock'},server=on,wait=off"]


def test_apple_silicon_vm_above_3_gib_keeps_highmem(tmp_path: Path):
    argv = qemu.build_argv(_spec(tmp_path, MAC_ARM, "hvf", memory_mib=8192))
    assert _opt(argv, "-machine") == "virt" and _opt(argv, "-m") == "8192"


def test_apple_silicon_never_picks_the_x86_image_for_hvf():
    accel, reason = qemu.hardware_candidate("x86_64", MAC_ARM)
    assert accel is None and "TCG" in reason


def test_intel_mac_runs_the_x86_image_under_hvf(tmp_path: Path):
    assert qemu.hardware_candidate("x86_64", MAC_INTEL) == ("hvf", "")
    argv = qemu.build_argv(_spec(tmp_path, MAC_INTEL, "hvf"))
    assert _opt(argv, "-machine") == "q35" and _opt(argv, "-accel") == "hvf" and _opt(argv, "-cpu") == "host"
    assert "console=ttyS0" in _opt(argv, "-append")
    assert "-virtfs" in argv


@pytest.mark.parametrize("plat,brew_first", [(MAC_ARM, "/opt/homebrew/bin"), (MAC_INTEL, "/opt/homebrew/bin")])
def test_mac_finds_homebrew_qemu_in_both_prefixes(plat: HostPlatform, brew_first: str):
    found = [str(p) for p in qemu_candidates(plat, plat.arch, ["/usr/bin", "/bin"], {})]
    exe = f"qemu-system-{plat.arch}"
    assert found[:2] == [f"/usr/bin/{exe}", f"/bin/{exe}"]  # PATH first: a user's own QEMU wins
    assert found[2:] == [f"{brew_first}/{exe}", f"/usr/local/bin/{exe}"]
    assert qemu_install_command(plat, plat.arch) == "brew install qemu"


def test_mac_bundled_qemu_comes_first():
    found = qemu_candidates(MAC_ARM, "aarch64", ["/opt/homebrew/bin"], {}, bundle_dir="/Applications/Pilothouse.app/x")
    assert found[0] == PurePosixPath("/Applications/Pilothouse.app/x/qemu/qemu-system-aarch64")
    assert [str(p) for p in found].count("/opt/homebrew/bin/qemu-system-aarch64") == 1


def test_windows_plan_whpx_no_virtfs_unix_monitors(tmp_path: Path):
    assert qemu.hardware_candidate("x86_64", WINDOWS) == ("whpx", "")
    argv = qemu.build_argv(_spec(tmp_path, WINDOWS, "whpx"))
    assert _opt(argv, "-accel") == "whpx"
    assert "-virtfs" not in argv  # QEMU has no 9p server on Windows hosts
    assert not any(a.startswith("tcp:") for a in argv), "QMP is never on loopback TCP"
    assert sum(a.startswith("unix:") for a in argv) == 2


def test_windows_finds_winget_qemu_under_program_files():
    found = qemu_candidates(WINDOWS, "x86_64", [r"C:\Windows\system32"], {"ProgramFiles": r"D:\Apps"})
    assert found == [PureWindowsPath(r"C:\Windows\system32\qemu-system-x86_64.exe"),
                     PureWindowsPath(r"D:\Apps\qemu\qemu-system-x86_64.exe")]
    assert qemu_install_command(WINDOWS, "x86_64") == "winget install --exact --id SoftwareFreedomConservancy.QEMU"


def test_linux_install_command_names_the_debian_packages():
    assert qemu_install_command(HostPlatform("linux", "x86_64"), "x86_64") == \
        "sudo apt-get install qemu-system-x86 qemu-utils"
    assert qemu_install_command(HostPlatform("linux", "aarch64"), "aarch64") == \
        "sudo apt-get install qemu-system-arm qemu-utils"


def test_watch_dirs_use_the_nearest_existing_parent(tmp_path: Path):
    (tmp_path / "bin").mkdir()
    dirs = watch_dirs(HostPlatform("linux", "x86_64"), [str(tmp_path / "bin"), str(tmp_path / "later" / "bin")], {})
    assert dirs == [str(tmp_path / "bin"), str(tmp_path)]


def test_sockaddr_un_layout_and_long_paths():
    raw = sockaddr_un("C:\\Users\\me\\AppData\\Local\\pilothouse\\vm\\default\\qmp.sock")
    assert len(raw) == 2 + UNIX_PATH_MAX and raw[:2] in (b"\x01\x00", b"\x00\x01")
    with pytest.raises(OSError, match="too long"):
        sockaddr_un("C:\\" + "x" * 200)


def test_readiness_on_windows_prefers_wsl_and_names_both_installs(monkeypatch):
    from desktop.vm import readiness

    monkeypatch.delenv("PILOTHOUSE_QEMU", raising=False)
    monkeypatch.setenv("PATH", "")
    assert readiness.check(WINDOWS, wsl_ready=lambda: True) == readiness.Readiness(True, "wsl", watch=())
    r = readiness.check(WINDOWS, wsl_ready=lambda: False)
    assert not r.ready and "WSL 2" in r.problem and "QEMU" in r.problem
    assert r.command == "wsl --install --no-distribution"
    assert r.alternative == "winget install --exact --id SoftwareFreedomConservancy.QEMU"


def test_readiness_on_a_mac_without_qemu_says_brew(monkeypatch):
    from desktop.vm import readiness

    monkeypatch.delenv("PILOTHOUSE_QEMU", raising=False)
    monkeypatch.setenv("PATH", "")
    r = readiness.check(MAC_ARM)
    if r.ready:  # this machine happens to have /opt/homebrew or /usr/local QEMU
        pytest.skip("a Homebrew-prefix QEMU exists here")
    assert r.command == "brew install qemu" and "qemu-system-aarch64" in r.problem
