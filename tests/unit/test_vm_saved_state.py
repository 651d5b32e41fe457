"""The saved VM state's checks (pure: files only), the host end of the guest agent's line
protocol, and the choice of folders the file-change forwarder watches."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from pathlib import Path

import pytest

from desktop.vm import guest_agent, saved_state
from desktop.vm.file_events import watched_roots
from desktop.vm.saved_state import FORMAT, SavedState, fingerprint


def _fp(tmp_path: Path, **changes) -> dict:
    image = tmp_path / "image"
    image.mkdir(exist_ok=True)
    if not (image / "manifest.json").exists():
        (image / "manifest.json").write_text(json.dumps({"version": "5.1", "files": {
            "vmlinuz": {"sha256": "k" * 64}, "initramfs.img": {"sha256": "i" * 64}}}))
    qemu = tmp_path / "qemu-system-x86_64"
    if not qemu.exists():
        qemu.write_bytes(b"qemu")
    args = dict(qemu=qemu, image_dir=image, tls_dir=tmp_path / "tls", accel="tcg", arch="x86_64", cpus=2,
                memory_mib=2048, disk_gib=8, shares=("/home/u",))
    args.update(changes)
    return fingerprint(**args)


def _saved(tmp_path: Path, now: dict) -> SavedState:
    disk = tmp_path / "data.qcow2"
    disk.write_bytes(b"disk")
    saved = SavedState(tmp_path / "saved", disk)
    saved.folder.mkdir()
    saved.state.write_bytes(b"x" * 1000)
    st = disk.stat()
    saved.meta.write_text(json.dumps({"format": FORMAT, "fingerprint": now, "size": 1000, "sha256": "0" * 64,
                                      "disk": {"size": st.st_size, "mtime_ns": st.st_mtime_ns}}))
    return saved


def test_nothing_saved_is_no_reason(tmp_path: Path):
    verdict = SavedState(tmp_path / "saved", tmp_path / "disk").check(_fp(tmp_path))
    assert not verdict.usable and verdict.reason == ""


def test_a_matching_state_is_usable(tmp_path: Path):
    now = _fp(tmp_path)
    assert _saved(tmp_path, now).check(now).usable


@pytest.mark.parametrize("changes, reason", [
    ({"memory_mib": 4096}, "the memory changed from 2048 MiB to 4096 MiB"),
    ({"cpus": 4}, "the number of CPUs changed from 2 to 4"),
    ({"accel": "kvm"}, "the accelerator changed from tcg to kvm"),
    ({"shares": ("/home/u", "/srv")}, "the shared folders changed"),
])
def test_changed_settings_say_what_changed(tmp_path: Path, changes, reason):
    saved = _saved(tmp_path, _fp(tmp_path))
    verdict = saved.check(_fp(tmp_path, **changes))
    assert not verdict.usable and verdict.reason == reason


def test_a_state_from_another_processor_or_cpu_model_boots_cold(tmp_path: Path, monkeypatch):
    now = _fp(tmp_path)
    assert now["machine"][now["machine"].index("-cpu") + 1] == "max"  # TCG's model
    saved = _saved(tmp_path, now)
    monkeypatch.setattr(saved_state, "host_cpu_id", lambda: "another-processor")
    assert saved.check(_fp(tmp_path)).reason == "this computer's processor is not the one the state was saved on"
    monkeypatch.undo()
    other = tmp_path / "other"
    other.mkdir()
    now = _fp(other)
    older = _saved(other, dict(now, machine=[a.replace("max", "qemu64") for a in now["machine"]]))
    assert older.check(now).reason == (
        "the VM's machine (board, CPU model or accelerator options) changed since the state was saved")


def test_this_processor_is_named_the_same_each_time():
    assert saved_state.host_cpu_id() == saved_state.host_cpu_id() and len(saved_state.host_cpu_id()) == 16


def test_changed_image_and_qemu_are_named(tmp_path: Path):
    now = _fp(tmp_path)
    saved = _saved(tmp_path, now)
    manifest = json.loads((tmp_path / "image/manifest.json").read_text())
    manifest["files"]["initramfs.img"]["sha256"] = "j" * 64
    (tmp_path / "image/manifest.json").write_text(json.dumps(manifest))
    assert saved.check(_fp(tmp_path)).reason == "the VM image changed since the state was saved"
    other = tmp_path / "other"
    other.mkdir()
    now = _fp(other)
    saved = _saved(other, now)
    os.utime(other / "qemu-system-x86_64", ns=(1, 1))
    assert saved.check(_fp(other)).reason == "QEMU was updated since the state was saved"


def test_a_truncated_state_is_refused_before_qemu_sees_it(tmp_path: Path):
    now = _fp(tmp_path)
    saved = _saved(tmp_path, now)
    with open(saved.state, "r+b") as f:
        f.truncate(400)
    verdict = saved.check(now)
    assert not verdict.usable
    assert verdict.reason == "the saved state is damaged (its file has 400 bytes; 1000 were saved)"


def test_a_damaged_description_or_a_changed_disk_is_refused(tmp_path: Path):
    now = _fp(tmp_path)
    saved = _saved(tmp_path, now)
    saved.disk.write_bytes(b"disk written by a cold boot")
    assert saved.check(now).reason == "the data disk changed since the state was saved"
    saved.meta.write_bytes(b"\x00{not json")
    assert saved.check(now).reason == "the saved state's description is unreadable"
    saved.discard()
    assert not saved.exists() and not saved.state.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs")
def test_agent_calls_are_answered_by_token_and_failures_are_sentences(tmp_path: Path):
    base = tmp_path / "agent"
    guest_agent.prepare(base)
    # Stands in for QEMU and the guest: QEMU opens both FIFOs read-write, the guest answers.
    inp = os.open(base.with_suffix(".in"), os.O_RDWR)
    out = os.open(base.with_suffix(".out"), os.O_RDWR)
    seen: list[str] = []

    def guest() -> None:
        with os.fdopen(inp, "rb", buffering=0) as f:
            for raw in iter(f.readline, b""):
                cmd, token, *arg = raw.decode().split(" ", 2)
                seen.append(raw.decode().strip())
                if token.strip() != "-":
                    os.write(out, b"done someone-else\n")  # another caller's answer is skipped
                    word = {"sync": "done", "umount-shares": "busy"}.get(cmd, "fail")
                    os.write(out, f"{word} {token.strip()}\n".encode())
                if cmd == "quit":
                    return

    t = threading.Thread(target=guest, daemon=True)
    t.start()
    agent = guest_agent.GuestAgent(base)

    async def talk() -> None:
        assert agent.send("touch", "/home/u/a file.txt")
        await agent.call("sync", timeout=10)
        with pytest.raises(guest_agent.AgentError, match="`mount-shares` failed in the VM"):
            await agent.call("mount-shares", timeout=10)
        with pytest.raises(guest_agent.AgentBusy):
            await agent.call("umount-shares", timeout=10)
        with pytest.raises(ValueError):
            agent.send("touch", "bad\nname")
        agent.send("quit")

    asyncio.run(talk())
    t.join(10)
    os.close(out)
    assert seen[0] == "touch - /home/u/a file.txt"
    assert seen[1].startswith("sync ") and seen[-1] == "quit -"


def test_agent_without_qemu_is_not_reached(tmp_path: Path):
    base = tmp_path / "agent"
    guest_agent.prepare(base)
    agent = guest_agent.GuestAgent(base)
    assert agent.send("touch", "/x") is False  # nobody holds the pipe open: QEMU is not running


def test_watched_roots_are_bind_sources_inside_shares():
    containers = [{"Mounts": [{"Type": "bind", "Source": "/home/u/app/src"},
                              {"Type": "volume", "Source": "/var/lib/docker/volumes/v/_data"},
                              {"Type": "bind", "Source": "/etc/hosts"}]},
                  {"Mounts": [{"Type": "bind", "Source": "/home"}]}]
    assert watched_roots(containers, ["/home/u"]) == {"/home/u/app/src", "/home/u"}
    assert watched_roots([{"Mounts": [{"Type": "bind", "Source": "/home/user2"}]}], ["/home/u"]) == set()
