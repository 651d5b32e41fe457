"""The 20,000-container engine for bench/scale20k.py, made once and kept between runs.

20,000 containers (500 running, the first 2,000 in 200 Compose projects) and 5,000 images on a
private dockerd whose folder survives the run (BENCH_SCALE_ROOT, /var/tmp/pilothouse-scale20k by
default): creating them takes minutes, so each run only tops up what is missing and starts the
running set again. Everything is made with the Engine API directly, in parallel.

Run on its own (`python bench/_scale_engine.py`) to make the engine ahead of the bench.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import docker  # noqa: E402

N_CONTAINERS = int(os.environ.get("BENCH_SCALE_CONTAINERS", "20000"))
N_RUNNING = int(os.environ.get("BENCH_SCALE_RUNNING", "500"))
N_PROJECTS = int(os.environ.get("BENCH_SCALE_PROJECTS", "200"))
PER_PROJECT = 10
N_IMAGES = int(os.environ.get("BENCH_SCALE_IMAGES", "5000"))
LABEL = "pilothouse.bench.scale"
IMAGE = "pilothouse-test/busybox:latest"


def scale_root() -> Path:
    return Path(os.environ.get("BENCH_SCALE_ROOT", "/var/tmp/pilothouse-scale20k"))


def name_of(i: int) -> str:
    return f"scale-{i:05d}"


def is_running(i: int) -> bool:
    return i % max(1, N_CONTAINERS // N_RUNNING) == 0 and i // max(1, N_CONTAINERS // N_RUNNING) < N_RUNNING


def _create(api: docker.APIClient, i: int) -> None:
    labels = {LABEL: "1"}
    if i < N_PROJECTS * PER_PROJECT:
        labels["com.docker.compose.project"] = f"scale{i % N_PROJECTS:03d}"
        labels["com.docker.compose.service"] = f"svc{i // N_PROJECTS}"
    try:
        api.create_container(IMAGE, command=["sleep", "864000"], name=name_of(i), labels=labels,
                             host_config=api.create_host_config(network_mode="none"), stop_signal="SIGKILL")
    except docker.errors.APIError as err:
        if err.status_code != 409:  # made by an earlier, interrupted run
            raise


def populate(api: docker.APIClient, progress=print) -> list[str]:
    """Top up the containers and images; start the running set. Returns the running ids."""
    t = time.perf_counter()
    have = {(c.get("Names") or ["/"])[0][1:]: c for c in api.containers(all=True, filters={"label": LABEL})}
    missing = [i for i in range(N_CONTAINERS) if name_of(i) not in have]
    if missing:
        progress(f"# creating {len(missing)} containers")
        with ThreadPoolExecutor(16) as ex:
            for n, _ in enumerate(ex.map(lambda i: _create(api, i), missing)):
                if n and n % 2000 == 0:
                    progress(f"#   {n} created ({time.perf_counter() - t:.0f}s)")
        have = {(c.get("Names") or ["/"])[0][1:]: c for c in api.containers(all=True, filters={"label": LABEL})}
    want = [have[name_of(i)] for i in range(N_CONTAINERS) if is_running(i)]
    stopped = [c["Id"] for c in want if c.get("State") != "running"]
    if stopped:
        progress(f"# starting {len(stopped)} containers")
        with ThreadPoolExecutor(8) as ex:
            list(ex.map(api.start, stopped))
    if len(api.images(filters={"label": "pilothouse.bench"})) < N_IMAGES:
        progress(f"# loading {N_IMAGES} images")
        from bench.images import _image_archive

        for item in api.load_image(_image_archive(N_IMAGES)):
            if "error" in item:
                raise RuntimeError(item["error"])
    progress(f"# scale engine ready in {time.perf_counter() - t:.0f}s: {len(have)} containers, "
             f"{len(want)} running")
    return [c["Id"] for c in want]


def _answers(host: str) -> bool:
    try:
        api = docker.APIClient(base_url=host, timeout=5)
        try:
            return bool(api.ping())
        finally:
            api.close()
    except Exception:  # noqa: BLE001 - not running
        return False


@contextlib.contextmanager
def scale_engine():
    """Yield (host, running ids) of the kept engine. One already running there (BENCH_SCALE_KEEP=1
    leaves it running after a run) is used as it is; else it is started, and stopped after."""
    from tests.harness.private_engine import PrivateEngine, ensure_test_image

    eng = PrivateEngine(scale_root())
    started = not _answers(eng.host)
    if started:
        eng.start(timeout=300)
    try:
        ensure_test_image(eng.host)
        api = docker.APIClient(base_url=eng.host, version="auto", timeout=600)
        try:
            running = populate(api)
        finally:
            api.close()
        yield eng.host, running
    finally:
        if started and not os.environ.get("BENCH_SCALE_KEEP"):
            eng.stop(timeout=300)


if __name__ == "__main__":
    with scale_engine() as (host, running):
        print(host, len(running), flush=True)
