"""How stats figures read: sizes, rates and percentages as `docker stats` and users expect."""

from __future__ import annotations

from desktop.presentation.sizes import binary_size


def rate(bytes_per_s: float) -> str:
    return binary_size(bytes_per_s) + "/s"


def percent(p: float) -> str:
    return f"{p:.1f}%" if p < 100 else f"{p:.0f}%"


def memory_tooltip(s) -> str:
    procs = "1 process" if s.pids == 1 else f"{s.pids} processes"
    return f"{binary_size(s.mem_used)} of {binary_size(s.mem_limit)} ({s.mem_percent:.1f}%), {procs}"
