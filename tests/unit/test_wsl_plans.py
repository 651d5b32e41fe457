"""The wsl.exe command plans and their output parsing (pure; none of this ran on Windows)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path, PureWindowsPath

import pytest

from desktop.vm import wsl
from desktop.vm.tls import ensure_certificates


def test_import_goes_into_the_users_data_folder_as_wsl2():
    data = PureWindowsPath(r"C:\Users\me\AppData\Local\pilothouse")
    plan = wsl.import_plan(data / "wsl" / "pilothouse", PureWindowsPath(r"C:\Temp\pilothouse-wsl.tar"))
    assert plan == ["wsl.exe", "--import", "pilothouse", r"C:\Users\me\AppData\Local\pilothouse\wsl\pilothouse",
                    r"C:\Temp\pilothouse-wsl.tar", "--version", "2"]
    assert wsl.install_dir(Path("/data")) == Path("/data/wsl/pilothouse")


def test_start_runs_the_init_as_root_without_a_shell_on_loopback():
    plan = wsl.start_plan(40123)
    assert plan == ["wsl.exe", "--distribution", "pilothouse", "--user", "root", "--exec",
                    "/usr/lib/pilothouse/wsl-init", "--listen", "127.0.0.1:40123"]
    assert "0.0.0.0" not in " ".join(plan)
    for bad in (0, 70000, -1):
        with pytest.raises(ValueError):
            wsl.start_plan(bad)


def test_stop_terminate_unregister_status():
    assert wsl.stop_plan() == ["wsl.exe", "--distribution", "pilothouse", "--user", "root", "--exec",
                               "/usr/lib/pilothouse/wsl-init", "--stop"]
    assert wsl.terminate_plan() == ["wsl.exe", "--terminate", "pilothouse"]
    assert wsl.unregister_plan() == ["wsl.exe", "--unregister", "pilothouse"]
    assert wsl.status_plan() == ["wsl.exe", "--list", "--verbose"]
    assert wsl.wsl_env({"PATH": "x"}) == {"PATH": "x", "WSL_UTF8": "1"}


LIST = """  NAME            STATE           VERSION
* Ubuntu          Running         2
  pilothouse      Stopped         2
  Legacy Distro   Running         1
"""


@pytest.mark.parametrize("raw", [LIST.encode("utf-8"), LIST.encode("utf-16-le"), b"\xff\xfe" + LIST.encode("utf-16-le")])
def test_list_verbose_in_utf8_and_utf16(raw: bytes):
    distros = wsl.parse_list_verbose(wsl.decode_output(raw))
    assert distros["pilothouse"] == wsl.DistroState("pilothouse", "Stopped", 2)
    assert distros["ubuntu"].state == "Running"
    assert distros["legacy distro"].version == 1
    assert wsl.vm_state(distros) == "stopped"
    assert wsl.vm_state({}) == "missing"
    assert wsl.vm_state({"pilothouse": wsl.DistroState("pilothouse", "Running", 2)}) == "running"
    assert wsl.vm_state({"pilothouse": wsl.DistroState("pilothouse", "Installing", 2)}) == "starting"


def test_tls_handover_carries_only_the_servers_files(tmp_path: Path):
    tls = ensure_certificates(tmp_path / "tls")
    bundle = wsl.tls_bundle(tls)
    with tarfile.open(fileobj=io.BytesIO(bundle)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert set(members) == {"ca.pem", "server-cert.pem", "server-key.pem"}
        assert all(m.mode == 0o600 and m.uid == 0 for m in members.values())
        assert tar.extractfile("server-key.pem").read() == tls.server_key.read_bytes()
    assert tls.client_key.read_bytes() not in bundle and tls.ca_key.read_bytes() not in bundle


def test_wsl_is_never_available_off_windows():
    assert wsl.wsl_available() is False


def test_wsl_engine_reports_a_vanished_engine_as_crashed(tmp_path: Path):
    from desktop.vm.paths import VMPaths
    from desktop.vm.wsl_engine import WslEngine, store_wsl_installed

    eng = WslEngine(None, VMPaths(tmp_path / "state", tmp_path / "img", tmp_path / "docker"))
    assert eng.status().state == "stopped" and eng.status().accelerator == "wsl2"
    eng._write_state(state="running", pid=4242, docker_port=40000)
    st = eng.status()
    assert st.state == "crashed" and "exited" in st.detail and st.docker_host == "tcp://127.0.0.1:40000"
    assert store_wsl_installed() is False  # not Windows
