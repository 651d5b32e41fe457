"""Where a resume's time goes: boot the VM cold (2 GiB, one shared folder, a running
container), then Stop (save) and Start (resume) it a few times, printing the seconds from the
start call to each step (VMManager.start's `start_timings`), the saved state's size and the
host load. `python bench/_vm_resume_probe.py [CYCLES]`."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from vm import _saved_test_image, figure  # noqa: E402

from desktop.vm import image_build  # noqa: E402
from desktop.vm.config import VMConfig  # noqa: E402
from desktop.vm.machine import VMManager  # noqa: E402
from desktop.vm.paths import VMPaths, default_image_dir  # noqa: E402
from tests.harness.private_engine import TEST_IMAGE  # noqa: E402


def _cpu(vm) -> str:
    st = vm._read_state()  # noqa: SLF001
    out = []
    for name, pid in (("qemu", st.get("pid")), ("helper", st.get("helper_pid"))):
        try:
            t = psutil.Process(pid).cpu_times()
            out.append(f"{name}={t.user + t.system:.2f}")
        except psutil.Error:
            out.append(f"{name}=?")
    return " ".join(out)


async def _reclaim(vm) -> None:
    await vm.guest_agent().call("reclaim", timeout=60)
    proc = psutil.Process(vm.status().pid)
    last, steady, t0 = proc.memory_info().rss, 0, time.monotonic()
    while (steady < 3 or time.monotonic() - t0 < 3) and time.monotonic() - t0 < 15:
        await asyncio.sleep(0.5)  # free page reporting has no host-side event
        now = proc.memory_info().rss
        steady = steady + 1 if last - now < 4 << 20 else 0
        last = now
    print(f"#   reclaim + reporting took {time.monotonic() - t0:.1f} s; QEMU RSS {last >> 20} MiB", flush=True)


def main() -> int:
    cycles = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    image_dir = default_image_dir()
    image_build.build(out=image_dir, progress=lambda m: None)
    root = Path(tempfile.mkdtemp(prefix="pilothouse-vmprobe-"))
    share = root / "share"
    share.mkdir()
    vm = VMManager(VMConfig(cpus=2, memory_mib=2048, disk_gib=8, shares=(str(share),), sleep_after_s=0),
                   VMPaths(root / "vm", image_dir, root / "docker-config"))
    try:
        print(f"# load before the cold boot: {os.getloadavg()[0]:.2f}", flush=True)
        t = time.perf_counter()
        asyncio.run(vm.start(timeout=900))
        cold = time.perf_counter() - t
        print(f"# cold boot to engine ready: {cold:.2f} s (load {os.getloadavg()[0]:.2f})", flush=True)
        api = vm.api_client(timeout=600)
        api.load_image(_saved_test_image())
        c = api.create_container(TEST_IMAGE, ["sleep", "3600"])
        api.start(c)
        api.close()
        resumes = []
        for i in range(cycles):
            reclaim = os.environ.get("PROBE_RECLAIM") == "alternate" and i % 2 == 1
            if reclaim:
                asyncio.run(_reclaim(vm))
            t = time.perf_counter()
            asyncio.run(vm.stop())
            save = time.perf_counter() - t
            size = vm.saved_state().describe().get("size", 0) / 2**20
            load = os.getloadavg()[0]
            t = time.perf_counter()
            st = asyncio.run(vm.start())
            took = time.perf_counter() - t
            resumes.append(took)
            steps = vm._read_state().get("start_timings", {})  # noqa: SLF001 - the probe reads the record
            cpu = _cpu(vm)
            print(f"# cycle {i}{' (guest reclaimed first)' if reclaim else ''}: save {save:.2f} s, {size:.0f} MiB; "
                  f"resume {took:.2f} s (load {load:.2f}); {st.start_note}; CPU s so far: {cpu}", flush=True)
            print("#   " + " ".join(f"{k}={v:.3f}" for k, v in steps.items()), flush=True)
        api = vm.api_client(timeout=300)
        print(f"# the container runs after the resumes: {api.inspect_container(c)['State']['Running']}", flush=True)
        api.close()
        figure("vm_resume_probe_best_s", min(resumes), cold, "<=", 2.0)
        figure("vm_resume_probe_median_s", sorted(resumes)[len(resumes) // 2], cold, "<=", 2.0)
    finally:
        asyncio.run(vm.stop(timeout=60, shutdown=True))
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
