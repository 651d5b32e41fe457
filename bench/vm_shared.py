"""Shared folders of the VM against the host's own disk, side by side in one run.

Boots the VM (TCG here) with one shared folder on the same host file system as the native
folder, and runs the same static program (bench/data/fsbench.c) on the host and, through a
bind mount of the shared folder, in a container: sequential write and read of 1 GiB and
create/stat/delete of 20,000 small files. Also Stop (save) and Start (resume) against this
run's cold boot (bench/_vm_resume.py, as in bench/vm.py). Then the same workloads on other 9p cache modes (the
share remounted in the guest with other options), and the latency of a host edit reaching an
inotify watcher in a container. Prints FIGURE lines; exits 0 whether or not targets are met.

    python bench/vm_shared.py [--mib 1024] [--files 20000] [--no-variants]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _vm_resume import resume_figures  # noqa: E402
from vm import figure as vm_figure  # noqa: E402

from desktop.vm import image_build  # noqa: E402
from desktop.vm.config import VMConfig  # noqa: E402
from desktop.vm.machine import VMManager  # noqa: E402
from desktop.vm.paths import VMPaths, default_image_dir  # noqa: E402
from tests.harness.private_engine import TEST_IMAGE, engine_with_test_image  # noqa: E402

HERE = Path(__file__).resolve().parent
FSBENCH = HERE / "data" / "fsbench.c"
WATCHER = HERE.parent / "tests" / "vm" / "data" / "inotify_watch.c"
# The mount the guest uses (packaging/vm/shares), then the variants tried against it.
VARIANTS = {"cache=loose": "trans=virtio,version=9p2000.L,msize=524288,cache=loose,access=any",
            "cache=none": "trans=virtio,version=9p2000.L,msize=524288,access=any"}


def figure(name: str, value: float, baseline: float, op: str, target: float, unit: str = "") -> None:
    ratio = value / baseline if baseline else 0.0
    ok = ratio >= target if op == ">=" else ratio <= target
    print(f"FIGURE {name} value={value:.3f}{unit} baseline={baseline:.3f}{unit} ratio={ratio:.3f} "
          f"target={op}{target:g} {'PASS' if ok else 'MISS'}", flush=True)


def parse(out: str) -> dict[str, float]:
    result = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            try:
                result[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return result


def workloads(run, folder: str, mib: int, files: int) -> dict[str, float]:
    """run(argv) -> stdout, with paths as the runner sees them."""
    out = {}
    for argv in (["write", f"{folder}/big", str(mib)], ["read", f"{folder}/big"], ["meta", f"{folder}/meta", str(files)]):
        step = parse(run(argv))
        # Printed as it comes: the metadata run can take very long under TCG on a loaded host.
        print(f"# {folder}: " + " ".join(f"{k}={v:.2f}s" for k, v in step.items()), flush=True)
        out.update(step)
    return out


def in_container(api: docker.APIClient, share: Path, binds: dict | None = None, privileged: bool = False):
    def run(args: list[str], prefix: list[str] | None = None) -> str:
        cmd = (prefix or [f"{share}/fsbench"]) + args
        c = api.create_container(TEST_IMAGE, cmd, host_config=api.create_host_config(
            binds=[f"{share}:{share}"] if binds is None else binds, privileged=privileged,
            pid_mode="host" if privileged else None))
        try:
            api.start(c)
            code = api.wait(c, timeout=3600)["StatusCode"]
            logs = api.logs(c).decode()
            if code != 0:
                raise RuntimeError(f"{cmd}: exit {code}: {logs.strip()[-300:]}")
            return logs
        finally:
            api.remove_container(c, force=True)
    return run


def report(label: str, vm: dict[str, float], native: dict[str, float], mib: int, files: int) -> None:
    for phase in ("write", "read"):
        if phase in vm and phase in native:
            figure(f"vm_shared_{label}_seq_{phase}_1gib_mib_s", mib / vm[phase], mib / native[phase], ">=", 0.5,
                   " MiB/s")
    if "meta" in vm and "meta" in native:
        figure(f"vm_shared_{label}_metadata_{files}_files_per_s", 3 * files / vm["meta"], 3 * files / native["meta"],
               ">=", 0.2, " ops/s")
        for phase in ("create", "stat", "delete"):
            print(f"# {label}: {phase} {vm[phase]:.2f} s in the VM, {native[phase]:.2f} s on the host", flush=True)


def change_latency(vm: VMManager, api: docker.APIClient, share: Path, watcher: Path) -> float:
    app = share / "hot"
    app.mkdir(exist_ok=True)
    shutil.copy2(watcher, app / ".watch")
    c = api.create_container(TEST_IMAGE, ["/app/.watch", "/app"], host_config=api.create_host_config(
        binds=[f"{app}:/app"]))
    api.start(c)
    stream = api.logs(c, stream=True, follow=True)
    try:
        buf = b""
        for chunk in stream:
            buf += chunk
            if b"ready" in buf:
                break
        state = vm.paths.state_dir / "file_events.json"
        deadline = time.monotonic() + 60
        while str(app) not in (state.read_text() if state.exists() else "") and time.monotonic() < deadline:
            time.sleep(0.05)  # the forwarder says what it watches only through this file
        t0 = time.perf_counter()
        (app / "main.js").write_text("edited\n")
        for chunk in stream:
            buf += chunk
            if b" main.js" in buf:
                return time.perf_counter() - t0
        return float("nan")
    finally:
        stream.close()
        api.remove_container(c, force=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--no-variants", action="store_true")
    args = ap.parse_args()
    if shutil.which("gcc") is None:
        print("# gcc is needed to build bench/data/fsbench.c; skipped", flush=True)
        return 0
    image_dir = default_image_dir()
    image_build.build(out=image_dir, progress=lambda m: None)
    root = Path(tempfile.mkdtemp(prefix="pilothouse-vmshared-", dir=os.environ.get("PILOTHOUSE_BENCH_DIR")))
    share, native = root / "shared", root / "native"
    share.mkdir()
    native.mkdir()
    (share / "meta").mkdir()
    (native / "meta").mkdir()
    subprocess.run(["gcc", "-static", "-O2", "-o", str(share / "fsbench"), str(FSBENCH)], check=True)
    subprocess.run(["gcc", "-static", "-O2", "-o", str(root / "watch"), str(WATCHER)], check=True)
    print(f"# host file system for both: {root}", flush=True)

    def run_native(a: list[str]) -> str:
        return subprocess.run([str(share / "fsbench"), *a], check=True, capture_output=True, text=True).stdout

    host = workloads(run_native, str(native), args.mib, args.files)
    (native / "big").unlink()
    with engine_with_test_image() as engine_host:
        host_api = docker.APIClient(base_url=engine_host, timeout=120)
        test_tar = b"".join(host_api.get_image(TEST_IMAGE))
        host_api.close()
    paths = VMPaths(root / "vm", image_dir, root / "docker-config")
    vm = VMManager(VMConfig(cpus=2, memory_mib=2048, disk_gib=8, shares=(str(share),)), paths)
    try:
        t = time.perf_counter()
        st = asyncio.run(vm.start(timeout=1800))  # a loaded 2-core host has taken over 5 min under TCG
        cold = time.perf_counter() - t
        print(f"# accelerator: {st.accelerator}; cold boot to engine ready {cold:.1f} s; host load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
        api = vm.api_client(timeout=3600)
        api.load_image(test_tar)
        api.close()
        resume_figures(vm, cold, vm_figure)  # the same run's cold boot is the baseline
        api = vm.api_client(timeout=3600)
        latency = change_latency(vm, api, share, root / "watch")
        print(f"FIGURE vm_shared_host_edit_to_container_inotify_s value={latency:.3f} baseline=n/a ratio=n/a "
              f"target=<=1 {'PASS' if latency <= 1.0 else 'MISS'}", flush=True)
        guest = workloads(in_container(api, share), str(share), args.mib, args.files)
        (share / "big").unlink()
        report("9p_mmap", guest, host, args.mib, args.files)
        if not args.no_variants:
            # A 9p channel takes one mount at a time: remount the share itself with each
            # variant's options (in the guest's own mount namespace), then as the guest has it.
            nsenter = ["nsenter", "-t", "1", "-m", "--"]
            run = in_container(api, share, binds=[], privileged=True)
            for label, opts in VARIANTS.items():
                try:
                    # The share stays busy for a while after a workload: the host saw its changes
                    # (made through QEMU's 9p server) and file_events sends each back to the guest
                    # agent, which touches it inside the share; umount succeeds once that drains.
                    run(["/usr/bin/busybox", "sh", "-c",
                         f"i=0; until umount '{share}' 2>/dev/null; do i=$((i+1)); [ $i -lt 600 ] || exit 1; "
                         f"sleep 0.1; done; mount -t 9p -o {opts} phshare0 '{share}'"], prefix=nsenter)
                    mounted = lambda a, _run=run: _run([f"{share}/fsbench", *a], prefix=nsenter)  # noqa: E731
                    report(label.replace("=", "_"), workloads(mounted, str(share), args.mib, args.files), host,
                           args.mib, args.files)
                    (share / "big").unlink(missing_ok=True)
                except RuntimeError as e:
                    print(f"# {label}: {e}", flush=True)
                finally:
                    run(["/usr/bin/busybox", "sh", "-c", f"umount '{share}'; /usr/bin/pilothouse-shares mount"],
                        prefix=nsenter)
        api.close()
    except Exception as e:  # noqa: BLE001 - a bench reports, it does not fail the run
        print(f"# error: {e}", flush=True)
        for line in vm.console_tail(10):
            print(f"#   console: {line}", flush=True)
    finally:
        asyncio.run(vm.stop(timeout=60, shutdown=True))
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
