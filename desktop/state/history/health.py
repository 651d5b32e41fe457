"""Why a container is unhealthy: its health check, the failing streak, the last probes, and one
sentence on the pattern they make (from the engine's inspect: Config.Healthcheck, State.Health)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

DEFAULT_INTERVAL = DEFAULT_TIMEOUT = 30.0  # the engine's defaults when a check leaves them out
DEFAULT_RETRIES = 3


def _ns_to_s(v: Any, default: float) -> float:
    return int(v) / 1e9 if v else default


def parse_engine_time(text: str) -> float:
    """RFC 3339 with nanoseconds (2026-12-01T08:00:00.123456789Z or +01:00) → epoch seconds."""
    if not text or text.startswith("0001-"):
        return 0.0
    s = text.strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    head, _, rest = s.partition(".")
    frac, zone = "", ""
    if rest:
        for i, ch in enumerate(rest):
            if not ch.isdigit():
                frac, zone = rest[:i], rest[i:]
                break
        else:
            frac = rest
    else:
        for sign in ("+", "-"):
            if sign in head[11:]:
                i = head.rindex(sign)
                head, zone = head[:i], head[i:]
    dt = datetime.fromisoformat(head + zone)
    return dt.timestamp() + (int(frac[:9].ljust(9, "0")) / 1e9 if frac else 0.0)


@dataclass(frozen=True)
class HealthCheck:
    command: str
    interval: float
    timeout: float
    retries: int
    start_period: float

    @classmethod
    def from_config(cls, hc: Mapping[str, Any] | None) -> "HealthCheck | None":
        if not hc or not hc.get("Test") or hc["Test"][0] == "NONE":
            return None
        test = list(hc["Test"])
        if test[0] == "CMD-SHELL":
            command = test[1] if len(test) > 1 else ""
        elif test[0] == "CMD":
            command = " ".join(test[1:])
        else:
            command = " ".join(test)
        return cls(command, _ns_to_s(hc.get("Interval"), DEFAULT_INTERVAL), _ns_to_s(hc.get("Timeout"), DEFAULT_TIMEOUT),
                   int(hc.get("Retries") or DEFAULT_RETRIES), _ns_to_s(hc.get("StartPeriod"), 0.0))


@dataclass(frozen=True)
class Probe:
    start: float
    end: float
    exit_code: int
    output: str

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start) if self.end else 0.0

    @property
    def timed_out(self) -> bool:
        return self.exit_code == -1 and "exceeded timeout" in self.output

    @property
    def passed(self) -> bool:
        return self.exit_code == 0


@dataclass(frozen=True)
class HealthReport:
    check: HealthCheck
    status: str  # starting, healthy, unhealthy
    failing_streak: int
    probes: tuple[Probe, ...]  # oldest first (the engine keeps the last five)
    started_at: float
    verdict: str  # the sentence on the pattern


def _seconds(v: float) -> str:
    return f"{v:g} s" if v < 120 else f"{v / 60:g} min"


def explain(check: HealthCheck, status: str, streak: int, probes: list[Probe], started_at: float) -> str:
    """One sentence on what the probes say."""
    if not probes:
        return (f"No probe has finished yet; the first runs {_seconds(check.interval)} after the start"
                + (f", and failures in the first {_seconds(check.start_period)} do not count." if check.start_period
                   else "."))
    last = probes[-1]
    failing = []
    for p in reversed(probes):
        if p.passed:
            break
        failing.append(p)
    failing.reverse()
    in_start = [p for p in probes if check.start_period and started_at and p.start < started_at + check.start_period]
    if last.passed:
        if in_start and any(not p.passed for p in in_start) and all(p.passed for p in probes if p not in in_start):
            return (f"The probe failed only during the {_seconds(check.start_period)} start period (which does not "
                    "count) and passes since: the container just needs that long to come up.")
        earlier = [p for p in probes[:-1] if not p.passed]
        if earlier:
            return f"The probe passes again after {len(earlier)} recent failure(s); it may be flaky."
        return "The probe passes."
    n = len(failing)
    if all(p.timed_out for p in failing):
        slowest = max(p.duration for p in failing)
        return (f"The probe times out: the last {n} ran longer than the {_seconds(check.timeout)} timeout"
                f" (longest {slowest:.1f} s). The command hangs, or needs a longer --health-timeout.")
    if in_start and all(p in in_start for p in failing) and status != "unhealthy":
        return (f"The probe is failing during the {_seconds(check.start_period)} start period, where failures do not "
                "count yet.")
    codes = {p.exit_code for p in failing}
    outputs = {" ".join(p.output.split()) for p in failing}
    if len(codes) == 1 and len(outputs) == 1:
        out = next(iter(outputs))
        said = f" with the same output every time: “{out[:160]}”" if out else " with no output"
        hint = ""
        code = next(iter(codes))
        if code == 127:
            hint = " Exit code 127: the probe's command is not in the image."
        elif code == 126:
            hint = " Exit code 126: the probe's command cannot be run."
        return f"The probe exits {code}{said} ({n} in a row).{hint}"
    return (f"The probe fails {n} times in a row with varying results (exit codes "
            f"{', '.join(str(c) for c in sorted(codes))}); the service seems to fail only some of the time.")


def health_report(inspect: Mapping[str, Any]) -> HealthReport | None:
    """The report for one inspect document; None when the container has no health check."""
    check = HealthCheck.from_config((inspect.get("Config") or {}).get("Healthcheck"))
    if check is None:
        return None
    state = inspect.get("State") or {}
    health = state.get("Health") or {}
    probes = tuple(Probe(parse_engine_time(p.get("Start", "")), parse_engine_time(p.get("End", "")),
                         int(p.get("ExitCode", 0)), (p.get("Output") or "").strip())
                   for p in health.get("Log") or [])
    started = parse_engine_time(state.get("StartedAt", ""))
    status = health.get("Status", "starting")
    streak = int(health.get("FailingStreak") or 0)
    return HealthReport(check, status, streak, probes, started, explain(check, status, streak, list(probes), started))
