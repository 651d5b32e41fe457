"""VM backend pieces that need no QEMU: command line, config, certificates, port diffing."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from desktop.vm import engine_access, qemu
from desktop.vm.config import VMConfig
from desktop.vm.portsync import published_ports, rule
from desktop.vm.tls import ensure_certificates


def _spec(tmp_path: Path, shares=(), accel="tcg") -> qemu.LaunchSpec:
    return qemu.LaunchSpec(
        qemu=Path("/usr/bin/qemu-system-x86_64"), arch="x86_64", accel=accel, cpus=3, memory_mib=1536,
        image_dir=tmp_path / "img", data_disk=tmp_path / "a,b" / "data.qcow2", tls_dir=tmp_path / "tls",
        shares_file=tmp_path / "shares", shares=shares, docker_port=41234, console_log=tmp_path / "console.log",
        pid_file=tmp_path / "qemu.pid", qmp_sockets=(tmp_path / "qmp.sock",))


def test_argv_binds_engine_port_to_loopback_and_caps_tcg(tmp_path: Path):
    argv = qemu.build_argv(_spec(tmp_path))
    netdev = argv[argv.index("-netdev") + 1]
    assert "hostfwd=tcp:127.0.0.1:41234-:2376" in netdev
    assert argv[argv.index("-accel") + 1].startswith("tcg,") and "tb-size=" in argv[argv.index("-accel") + 1]
    assert argv[argv.index("-smp") + 1] == "3" and argv[argv.index("-m") + 1] == "1536"
    assert "-no-reboot" in argv
    drive = argv[argv.index("-drive") + 1]
    assert "a,,b" in drive, "commas in paths must be escaped for QEMU"
    fw = [argv[i + 1] for i, a in enumerate(argv) if a == "-fw_cfg"]
    assert {f.split(",")[0] for f in fw} == {"name=opt/pilothouse/ca.pem", "name=opt/pilothouse/server-cert.pem",
                                             "name=opt/pilothouse/server-key.pem"}
    assert not any("ca-key" in a or "key.pem" in a and "server" not in a for a in argv), "only server TLS files go to the guest"


def test_only_a_tcg_guest_is_told_to_start_dockerd_without_aslr(tmp_path: Path):
    def cmdline(accel: str) -> list[str]:
        argv = qemu.build_argv(_spec(tmp_path, accel=accel))
        return argv[argv.index("-append") + 1].split()

    assert "pilothouse.tcg=1" in cmdline("tcg")
    assert "pilothouse.tcg=1" not in cmdline("kvm")
    assert "norandmaps" not in cmdline("tcg"), "containers keep ASLR: only dockerd runs without it"


def test_argv_shares_folders_with_virtfs(tmp_path: Path):
    argv = qemu.build_argv(_spec(tmp_path, shares=("/home/me", "/tmp/x y")))
    virtfs = [argv[i + 1] for i, a in enumerate(argv) if a == "-virtfs"]
    assert virtfs[0].startswith("local,path=/home/me,mount_tag=phshare0")
    assert (tmp_path / "shares").read_text() == "phshare0 /home/me\nphshare1 /tmp/x y\n"


def test_hardware_accel_uses_host_cpu(tmp_path: Path):
    argv = qemu.build_argv(_spec(tmp_path, accel="kvm"))
    assert argv[argv.index("-accel") + 1] == "kvm" and argv[argv.index("-cpu") + 1] == "host"


def test_foreign_arch_falls_back_to_tcg_with_reason():
    accel, reason = qemu.hardware_candidate("riscv64")
    assert accel is None and "TCG" in reason


def test_config_round_trip_and_defaults(tmp_path: Path):
    default = VMConfig.load(tmp_path / "missing.json")
    assert (default.cpus, default.memory_mib, default.disk_gib) == (2, 2048, 32)
    cfg = default.with_changes(cpus=4, shares=(str(tmp_path),))
    cfg.save(tmp_path / "c.json")
    assert VMConfig.load(tmp_path / "c.json") == cfg
    with pytest.raises(ValueError):
        VMConfig(cpus=0)


def test_certificates_keys_private_and_usages(tmp_path: Path):
    files = ensure_certificates(tmp_path / "tls")
    assert stat.S_IMODE((tmp_path / "tls").stat().st_mode) == 0o700
    for key in (files.ca_key, files.server_key, files.client_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    client = x509.load_pem_x509_certificate(files.client_cert.read_bytes())
    server = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    assert client.issuer == ca.subject == server.issuer
    assert ExtendedKeyUsageOID.CLIENT_AUTH in client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    before = files.client_cert.read_bytes()
    ensure_certificates(tmp_path / "tls")
    assert files.client_cert.read_bytes() == before, "certificates are made once per VM"


def test_docker_context_layout(tmp_path: Path):
    files = ensure_certificates(tmp_path / "tls")
    meta = engine_access.write_docker_context(tmp_path / "cfg", 40000, files)
    data = json.loads(meta.read_text())
    assert data["Name"] == "pilothouse" and data["Endpoints"]["docker"]["Host"] == "tcp://127.0.0.1:40000"
    key = next((tmp_path / "cfg" / "contexts" / "tls").glob("*/docker/key.pem"))
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    engine_access.remove_docker_context(tmp_path / "cfg")
    assert not meta.exists()


def test_published_ports_from_container_list():
    containers = [
        {"Ports": [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                   {"IP": "::", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                   {"PrivatePort": 443, "Type": "tcp"}]},
        {"Ports": [{"IP": "127.0.0.1", "PrivatePort": 53, "PublicPort": 5353, "Type": "udp"}]},
        {"Ports": None},
    ]
    assert published_ports(containers) == {("tcp", 8080), ("udp", 5353)}
    assert rule(("tcp", 8080)) == "tcp:127.0.0.1:8080-:8080"


def test_cli_status_of_a_fresh_vm(tmp_path: Path, monkeypatch, capsys):
    from desktop.vm.cli import main

    monkeypatch.setenv("PILOTHOUSE_VM_STATE_DIR", str(tmp_path / "state"))
    assert main(["status"]) == 0
    assert "state:        stopped" in capsys.readouterr().out


def test_cli_start_without_image_explains(tmp_path: Path, monkeypatch, capsys):
    from desktop.vm.cli import main

    monkeypatch.setenv("PILOTHOUSE_VM_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PILOTHOUSE_VM_IMAGE_DIR", str(tmp_path / "no-image"))
    assert main(["start"]) == 1
    assert "pilothouse vm build" in capsys.readouterr().err


def test_qmp_monitors_are_unix_sockets_never_tcp(tmp_path: Path):
    spec = _spec(tmp_path)
    spec = qemu.LaunchSpec(**{**spec.__dict__, "qmp_sockets": (str(tmp_path / "q.sock"), str(tmp_path / "p.sock"))})
    argv = qemu.build_argv(spec)
    qmps = [argv[i + 1] for i, a in enumerate(argv) if a == "-qmp"]
    assert qmps == [f"unix:{tmp_path / 'q.sock'},server=on,wait=off", f"unix:{tmp_path / 'p.sock'},server=on,wait=off"]
    assert not any(a.startswith("tcp:") for a in argv)