"""Save/resume figures for bench/vm.py: Stop (save the state) and Start (resume it) of a VM
that runs a container, against the cold boot of the same run."""

from __future__ import annotations

import asyncio
import time

from tests.harness.private_engine import TEST_IMAGE


def resume_figures(vm, cold_ready_s: float, figure) -> None:
    api = vm.api_client(timeout=300)
    c = api.create_container(TEST_IMAGE, ["sleep", "3600"])
    api.start(c)
    api.close()
    t = time.perf_counter()
    st = asyncio.run(vm.stop())
    save_s = time.perf_counter() - t
    size = vm.saved_state().describe().get("size", 0) / 2**20
    print(f"# saved state: {size:.0f} MiB (saved: {st.saved})", flush=True)
    t = time.perf_counter()
    st = asyncio.run(vm.start())
    resume_s = time.perf_counter() - t
    print(f"# start after the save: {st.start_note}", flush=True)
    api = vm.api_client(timeout=300)
    running = api.inspect_container(c)["State"]["Running"]
    print(f"# the container runs after the resume: {running}", flush=True)
    api.remove_container(c, force=True)
    api.close()
    figure(f"vm_resume_to_engine_ready_s_{vm.status().accelerator}", resume_s, cold_ready_s, "<=", 2.0)
    figure("vm_stop_saving_state_s", save_s, None, "<=", 10.0)
