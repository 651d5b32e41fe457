"""Debug helpers against the real engine: a shell beside an image with no shell, for a running
and a stopped container; removal on close, on a killed app, and of leftovers at start."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap

import docker
import pytest

from desktop.engine.debug_helper import (OWNER_LABEL, ROLE_LABEL, DebugHelper, clean_leftovers, find_toolbox,
                                         owner_is_gone, owner_tag, pick_toolbox)
from desktop.engine.errors import NotFoundError
from desktop.engine.exec_session import ExecSession
from tests.conftest import RUN_LABEL
from tests.harness.private_engine import TEST_IMAGE
from tests.harness.static_image import STATIC_IMAGE, ensure_static_image


def debug_leftovers(api) -> list[str]:
    return [c["Id"] for c in api.containers(all=True, filters={"label": ROLE_LABEL})]


async def shell_output(client, helper_id: str, command: bytes, expect: bytes, timeout: float = 15) -> bytes:
    """Run `command` in a shell in the helper; return the output once it holds `expect`."""
    out = bytearray()
    loop = asyncio.get_running_loop()
    seen = asyncio.Event()

    def on_output(data: bytes) -> None:
        out.extend(data)
        if expect in out:
            loop.call_soon_threadsafe(seen.set)

    s = ExecSession(client, helper_id, on_output=on_output, on_exit=lambda m: None)
    await s.start(200, 50)
    try:
        s.write(command + b"\r")
        await asyncio.wait_for(seen.wait(), timeout)
        return bytes(out)
    finally:
        await s.aclose()


def test_pick_toolbox_prefers_plain_busybox():
    assert pick_toolbox(["alpine:3", "pilothouse-test/busybox:latest", "busybox:1.36", "busybox:latest"]) == "busybox:latest"
    assert pick_toolbox(["pilothouse-test/busybox:latest", "nginx:1"]) == "pilothouse-test/busybox:latest"
    assert pick_toolbox(["localhost:5000/busybox", "nginx:1"]) == "localhost:5000/busybox"
    assert pick_toolbox(["nginx:1", "busyboxes:1"]) is None


def test_owner_tag_names_live_and_dead_processes():
    assert not owner_is_gone(owner_tag())
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    tag = owner_tag(p.pid)
    p.wait()
    assert owner_is_gone(tag)
    assert not owner_is_gone("some-other-host/1/1")  # another computer's: never ours to judge
    assert not owner_is_gone("garbage")


def test_shell_beside_a_static_binary_sees_its_process_and_files(client, run, static_container, docker_api):
    cid = static_container()
    run(client.connect())
    assert run(find_toolbox(client)) == TEST_IMAGE
    helper = DebugHelper(client, cid, TEST_IMAGE)
    hid = run(helper.start())
    try:
        cfg = docker_api.inspect_container(hid)["HostConfig"]
        assert cfg["PidMode"] == f"container:{cid}" and cfg["NetworkMode"] == f"container:{cid}"
        assert helper.shared == ["pid", "network"]  # the engine's default IPC is private
        out = run(shell_output(client, hid, b"ps; ls -l /proc/1/root/; echo do''ne", b"done"))
        assert b"/busybox sleep 3600" in out
        assert b" busybox" in out.split(b"/proc/1/root/", 1)[1]
    finally:
        run(helper.aclose())
    assert debug_leftovers(docker_api) == []
    assert docker_api.inspect_container(cid)["State"]["Running"]  # the target is untouched


def test_shares_ipc_when_the_target_allows_it(client, run, make_container, docker_api):
    cid = make_container(start=True, ipc_mode="shareable")
    run(client.connect())
    helper = DebugHelper(client, cid, TEST_IMAGE)
    hid = run(helper.start())
    try:
        assert helper.shared == ["pid", "network", "ipc"]
        assert docker_api.inspect_container(hid)["HostConfig"]["IpcMode"] == f"container:{cid}"
    finally:
        run(helper.aclose())


def test_stopped_container_is_debugged_on_a_snapshot(client, run, static_container, docker_api):
    cid = static_container(start=False)
    run(client.connect())
    helper = DebugHelper(client, cid, TEST_IMAGE)
    hid = run(helper.start())
    try:
        assert helper.from_snapshot and helper.snapshot_id
        assert docker_api.inspect_image(helper.snapshot_id)["Config"]["Labels"][ROLE_LABEL] == "snapshot"
        out = run(shell_output(client, hid, b"ls /proc/1/root/; echo do''ne", b"done"))
        assert b"busybox" in out.split(b"/proc/1/root/", 1)[1]
    finally:
        run(helper.aclose())
    assert debug_leftovers(docker_api) == []
    with pytest.raises(docker.errors.ImageNotFound):
        docker_api.inspect_image(helper.snapshot_id)
    assert docker_api.inspect_container(cid)["State"]["Status"] == "created"


def test_missing_toolbox_says_so(client, run, static_container, docker_api):
    cid = static_container()
    run(client.connect())
    with pytest.raises(NotFoundError, match="toolbox image nosuch/toolbox:1 is not on this engine"):
        run(DebugHelper(client, cid, "nosuch/toolbox:1").start())
    assert debug_leftovers(docker_api) == []


def test_helper_ends_with_a_killed_app(engine_host, static_container, docker_api, tmp_path):
    """The app is killed (SIGKILL, nothing of it runs): its lifeline closes and the engine removes
    the helper by itself."""
    cid = static_container()
    script = tmp_path / "debugger.py"
    script.write_text(textwrap.dedent(f"""
        import asyncio, sys
        from desktop.engine.client import EngineClient
        from desktop.engine.debug_helper import DebugHelper
        from desktop.engine.endpoints import Endpoint

        async def main():
            client = EngineClient([Endpoint({engine_host!r}, "--host")])
            await client.connect()
            hid = await DebugHelper(client, {cid!r}, {TEST_IMAGE!r}).start()
            print(hid, flush=True)
            await asyncio.sleep(3600)

        asyncio.run(main())
    """))
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    try:
        hid = p.stdout.readline().strip()
        assert docker_api.inspect_container(hid)["State"]["Running"]
    finally:
        p.kill()
        p.wait()
    # the engine's own removal: wait for it through its event stream, not by polling
    events = docker_api.events(filters={"container": hid, "event": "destroy"}, decode=True,
                               since=0)
    try:
        for ev in events:
            if ev.get("Action") == "destroy":
                break
    finally:
        events.close()
    assert hid not in debug_leftovers(docker_api)


def test_leftovers_of_a_dead_app_are_cleaned_at_start(client, run, docker_api, run_id):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    tag = owner_tag(dead.pid)
    dead.wait()
    c = docker_api.create_container(TEST_IMAGE, command=["true"],
                                    labels={ROLE_LABEL: "helper", OWNER_LABEL: tag, RUN_LABEL: run_id})
    mine = docker_api.create_container(TEST_IMAGE, command=["true"],
                                       labels={ROLE_LABEL: "helper", OWNER_LABEL: owner_tag(), RUN_LABEL: run_id})
    try:
        run(client.connect())
        assert run(clean_leftovers(client)) == 1
        left = debug_leftovers(docker_api)
        assert c["Id"] not in left and mine["Id"] in left  # a live app's helper stays
    finally:
        for x in (c, mine):
            try:
                docker_api.remove_container(x["Id"], force=True)
            except docker.errors.NotFound:
                pass
