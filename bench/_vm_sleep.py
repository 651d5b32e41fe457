"""Sleep figures for bench/vm.py, on the VM that bench already booted (one run):

- QEMU's host CPU idle and awake (no containers), then asleep (the baseline is the awake figure);
- QEMU's resident memory after the guest touched 1 GiB (page cache of the data disk a finished
  container read), then asleep: how much of the touched memory went back to the host;
- the first `docker ps` after a wake against a `docker ps` on an awake VM, each on a new
  connection (TLS handshake included, as the docker CLI makes one per command).
"""

from __future__ import annotations

import asyncio
import statistics
import time

import docker
import psutil

from common import figure
from desktop.vm.machine import VMError, VMManager
from tests.harness.private_engine import TEST_IMAGE

WINDOW_S = 60
TOUCH_MIB = 1024
# Before this work, the VM idled at this share of a core under TCG (the figure the work started from).
IDLE_AWAKE_BEFORE_PCT = 5.3


def _cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


def _cpu_pct(proc: psutil.Process, seconds: float) -> float:
    c0, t0 = _cpu(proc), time.perf_counter()
    time.sleep(seconds)  # the measurement window itself
    return 100 * (_cpu(proc) - c0) / (time.perf_counter() - t0)


def _fresh_ps(vm: VMManager) -> float:
    t = time.perf_counter()
    api = vm.api_client(timeout=120, version="1.41")  # a new connection, as each docker CLI run
    try:
        api.containers()
    finally:
        api.close()
    return time.perf_counter() - t


def _sleep(vm: VMManager) -> None:
    """Sleep now; a refusal for traffic (what it was is printed) is tried again, up to 3 times."""
    for attempt in range(3):
        try:
            asyncio.run(vm.sleep_now())
            return
        except VMError as e:
            if "traffic" not in str(e) or attempt == 2:
                raise
            print(f"# sleep refused, trying again: {e}", flush=True)


def sleep_figures(vm: VMManager, api: docker.APIClient, accel: str) -> None:
    qemu = psutil.Process(vm.status().pid)
    vm.set_sleep_after(0)  # the bench decides when it sleeps
    for c in api.containers(all=True):
        api.remove_container(c["Id"], force=True)
    # The minute after the last command is still its tail (the closed connections' sockets
    # linger in the guest for up to 60 s, dockerd finishes its cleanup): printed, not the figure.
    after = _cpu_pct(qemu, WINDOW_S)
    awake = _cpu_pct(qemu, WINDOW_S)
    print(f"# QEMU CPU in the minute after the last command: {after:.2f}%, the minute after that: {awake:.2f}%",
          flush=True)
    figure(f"vm_idle_awake_host_cpu_pct_{accel}", awake, IDLE_AWAKE_BEFORE_PCT, "<=1%", unit="%")
    _sleep(vm)
    asleep = _cpu_pct(qemu, WINDOW_S)
    figure(f"vm_asleep_host_cpu_pct_{accel}", asleep, awake, "<=0.2%", unit="%")

    asyncio.run(vm.wake())
    woke = []
    for _ in range(3):
        _sleep(vm)
        woke.append(_fresh_ps(vm))
    awake_ps = statistics.median([_fresh_ps(vm) for _ in range(5)])
    first = statistics.median(woke)
    print(f"# docker ps on a new connection: awake {awake_ps * 1000:.0f} ms, first after a wake "
          + ", ".join(f"{w * 1000:.0f}" for w in woke) + " ms", flush=True)
    figure("vm_first_docker_ps_after_wake_added_ms", (first - awake_ps) * 1000, awake_ps * 1000, "<=300ms", unit="ms")

    base = qemu.memory_info().rss
    # The data disk's blocks read through the page cache by a container that then exits.
    c = api.create_container(TEST_IMAGE, ["dd", "if=/dev/vda", "of=/dev/null", "bs=1M", f"count={TOUCH_MIB}"],
                             host_config=api.create_host_config(privileged=True))
    try:
        api.start(c)
        api.wait(c, timeout=900)
        peak = qemu.memory_info().rss
        _sleep(vm)
        after = qemu.memory_info().rss
    finally:
        asyncio.run(vm.wake())
        api.remove_container(c, force=True)
    print(f"# QEMU RSS: idle {base >> 20} MiB, guest touched {TOUCH_MIB} MiB: {peak >> 20} MiB, asleep {after >> 20} MiB",
          flush=True)
    returned = (peak - after) / 2**20
    figure("vm_sleep_memory_returned_mib", returned, TOUCH_MIB, ">=0.7", unit="MiB")
