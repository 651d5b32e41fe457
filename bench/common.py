"""Shared bench plumbing: a private engine, FIGURE lines, a UI-thread lag probe."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def figure(name: str, value: float, baseline: float, target: str, unit: str = "") -> None:
    """Print `FIGURE name value=v baseline=b ratio=r target=<op><t> PASS|MISS`.

    A target with a unit (`<=16ms`) is checked against the value; a bare number (`<=1.5`) against
    the ratio value/baseline.
    """
    r = value / baseline if baseline else float("inf")
    op = target[:2] if target[:2] in ("<=", ">=") else target[:1]
    rest = target[len(op):]
    units = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ%"  # ms, s, %, MiB
    num = float(rest.rstrip(units))
    checked = r if rest == rest.rstrip(units) else value
    ok = {"<=": checked <= num, ">=": checked >= num, "<": checked < num, ">": checked > num}[op]
    print(f"FIGURE {name} value={value:.4g}{unit} baseline={baseline:.4g}{unit} ratio={r:.3g} target={target} "
          f"{'PASS' if ok else 'MISS'}", flush=True)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))
    return s[k]


def bench_engine():
    """A fresh private dockerd (or PILOTHOUSE_BENCH_DOCKER_HOST), with the test image."""
    from tests.harness.private_engine import engine_with_test_image

    return engine_with_test_image("PILOTHOUSE_BENCH_DOCKER_HOST")


def _schedstat() -> tuple[float, float] | None:
    """This thread's time on a CPU and time runnable but waiting for one, in ms (Linux)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            ran, waited = f.read().split()[:2]
    except OSError:
        return None
    return int(ran) / 1e6, int(waited) / 1e6


class LagProbe:
    """Measures UI-thread stalls: a 5 ms Qt timer records how late each tick is.

    It also tells a stall the app caused from one the machine did: for the whole probe and for
    its longest stall, how long the UI thread ran and how long it was runnable but waited for a
    CPU (on a loaded machine the second is the scheduler's, not the app's)."""

    def __init__(self, interval_ms: int = 5) -> None:
        from PySide6.QtCore import QTimer

        self.interval = interval_ms / 1000
        self.samples: list[float] = []
        self._last = 0.0
        self._last_sched: tuple[float, float] | None = None
        self._start_sched: tuple[float, float] | None = None
        self.split: tuple[float, float] | None = None  # (ran, waited for a CPU) over the probe
        self.worst_split: tuple[float, float, float] | None = None  # (stall, ran, waited) of the longest
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        sched = _schedstat()
        if self._last:
            lag = max(0.0, now - self._last - self.interval) * 1000
            self.samples.append(lag)
            if sched and self._last_sched and (self.worst_split is None or lag > self.worst_split[0]):
                self.worst_split = (lag, sched[0] - self._last_sched[0], sched[1] - self._last_sched[1])
        self._last, self._last_sched = now, sched

    def start(self) -> None:
        self.samples, self._last = [], 0.0
        self.split = self.worst_split = None
        self._start_sched = _schedstat()
        self._timer.start()

    def stop(self) -> list[float]:
        self._timer.stop()
        end = _schedstat()
        if end and self._start_sched:
            self.split = (end[0] - self._start_sched[0], end[1] - self._start_sched[1])
        return self.samples

    def describe(self) -> str:
        """Where the UI thread's time went (a '#' note line for the figures)."""
        if self.split is None or self.worst_split is None:
            return "no schedstat on this system"
        lag, ran, waited = self.worst_split
        return (f"UI thread ran {self.split[0]:.0f} ms and waited for a CPU {self.split[1]:.0f} ms; "
                f"longest stall {lag:.0f} ms: ran {ran:.0f} ms, waited for a CPU {waited:.0f} ms")

    @staticmethod
    def summary(samples: list[float]) -> tuple[float, float]:
        return percentile(samples, 99), max(samples or [0.0])


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else 0.0


def compile_sources() -> None:
    """Byte-compile the package, as an installed copy is (pip and PyInstaller ship .pyc): a
    checkout run with PYTHONDONTWRITEBYTECODE would otherwise compile every module at each start,
    a cost no user pays and the bare-window baseline does not have."""
    import compileall

    compileall.compile_dir(str(ROOT / "desktop"), quiet=1)
