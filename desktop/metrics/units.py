"""How stats figures read: sizes, rates and percentages as `docker stats` and users expect."""

from __future__ import annotations

_BINARY = ("B", "KiB", "MiB", "GiB", "TiB")


def size(n: float) -> str:
    """Binary units like the docker CLI's memory column: 512 B, 45.2 MiB, 1.5 GiB."""
    n = float(n)
    for unit in _BINARY:
        if abs(n) < 1024 or unit == _BINARY[-1]:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def rate(bytes_per_s: float) -> str:
    return size(bytes_per_s) + "/s"


def percent(p: float) -> str:
    return f"{p:.1f}%" if p < 100 else f"{p:.0f}%"


def memory_tooltip(s) -> str:
    procs = "1 process" if s.pids == 1 else f"{s.pids} processes"
    return f"{size(s.mem_used)} of {size(s.mem_limit)} ({s.mem_percent:.1f}%), {procs}"
