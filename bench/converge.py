"""Convergence, the long run: the model-based tests of tests/ui/test_convergence_*.py with random
(not fixed) sequences and many more steps, against a private engine.

Figures:
- whether any random sequence left a page disagreeing with the engine (0: none did);
- step done → rows equal to the engine, p95 (baseline: one raw `containers/json` call in the
  same run, the least any page could take to know).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from common import ROOT, figure, percentile  # noqa: I001

import docker

EXAMPLES = os.environ.get("BENCH_CONVERGE_EXAMPLES", "20")
STEPS = os.environ.get("BENCH_CONVERGE_STEPS", "60")


def raw_list_ms(host: str) -> float:
    api = docker.APIClient(base_url=host, version="auto")
    try:
        times = []
        for _ in range(20):
            t = time.perf_counter()
            api.containers(all=True)
            times.append((time.perf_counter() - t) * 1000)
        return percentile(times, 95)
    finally:
        api.close()


def main() -> None:
    report = tempfile.NamedTemporaryFile(prefix="converge-", suffix=".jsonl", delete=False)
    report.close()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PILOTHOUSE_CONVERGE_RANDOM="1",
               PILOTHOUSE_CONVERGE_EXAMPLES=EXAMPLES, PILOTHOUSE_CONVERGE_STEPS=STEPS,
               PILOTHOUSE_CONVERGE_ENGINE_RESTARTS="2",
               PILOTHOUSE_CONVERGE_OBJECT_EXAMPLES=str(max(2, int(EXAMPLES) // 4)),
               PILOTHOUSE_CONVERGE_OBJECT_STEPS=STEPS, PILOTHOUSE_CONVERGE_REPORT=report.name)
    t = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "tests/ui/test_convergence_containers.py", "tests/ui/test_convergence_objects.py"],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    took = time.monotonic() - t
    runs = [json.loads(line) for line in open(report.name, encoding="utf-8") if line.strip()]
    os.unlink(report.name)
    if out.returncode != 0:
        tail = [line for line in out.stdout.splitlines() if "disagrees" in line or line.startswith(("E ", "FAILED"))]
        print("# a divergence was found:\n# " + "\n# ".join(tail[-20:]), flush=True)
    done = sum(len(r["latencies"]) for r in runs)
    lat = [x * 1000 for r in runs for x in r["latencies"]]
    print(f"# {done} checked steps in {took:.0f} s ({', '.join(r['machine'] for r in runs)})", flush=True)
    # 0 when every step of every random sequence ended with the pages equal to the engine.
    figure("converge.divergent_runs", 0.0 if out.returncode == 0 else 1.0, 1.0, "<=0")
    host = os.environ.get("PILOTHOUSE_BENCH_DOCKER_HOST")
    if host is None:
        from tests.harness.private_engine import PrivateEngine

        eng = PrivateEngine()
        eng.start()
        try:
            base = raw_list_ms(eng.host)
        finally:
            eng.destroy()
    else:
        base = raw_list_ms(host)
    figure("converge.step_to_rows_p95", percentile(lat, 95), base, "<=250ms", "ms")


if __name__ == "__main__":
    main()
