"""The docker CLI's stats formulas as pure functions, and the records a stats stream yields.

Kept apart from the streams so the single-thread multiplexer (stats_mux) and the per-container
streams (stats) share them without importing each other.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

_ZERO_TIME = "0001-01-01T00:00:00Z"


# -- the CLI's formulas (docker/cli cli/command/container/stats_helpers.go) --------------------
def cpu_percent(cpu: Mapping[str, Any], precpu: Mapping[str, Any]) -> float:
    """CPU %: container usage delta over system usage delta, times online CPUs (100 % = 1 core)."""
    usage = (cpu.get("cpu_usage") or {})
    pre_usage = (precpu.get("cpu_usage") or {})
    cpu_delta = float(usage.get("total_usage") or 0) - float(pre_usage.get("total_usage") or 0)
    system_delta = float(cpu.get("system_cpu_usage") or 0) - float(precpu.get("system_cpu_usage") or 0)
    online = float(cpu.get("online_cpus") or 0) or float(len(usage.get("percpu_usage") or ()))
    if system_delta > 0.0 and cpu_delta > 0.0:
        return cpu_delta / system_delta * online * 100.0
    return 0.0


def memory_used(memory_stats: Mapping[str, Any]) -> int:
    """Memory usage minus inactive page cache (cgroup v1 `total_inactive_file`, v2 `inactive_file`)."""
    usage = int(memory_stats.get("usage") or 0)
    stats = memory_stats.get("stats") or {}
    if "total_inactive_file" in stats and stats["total_inactive_file"] < usage:
        return usage - int(stats["total_inactive_file"])
    inactive = int(stats.get("inactive_file") or 0)
    if inactive < usage:
        return usage - inactive
    return usage


def memory_percent(used: float, limit: float) -> float:
    return used / limit * 100.0 if limit else 0.0


def block_io(blkio_stats: Mapping[str, Any]) -> tuple[int, int]:
    """Bytes read and written (cumulative), summed over devices as the CLI does."""
    read = write = 0
    for entry in blkio_stats.get("io_service_bytes_recursive") or ():
        op = (entry.get("op") or "")[:1]
        if op in ("r", "R"):
            read += int(entry.get("value") or 0)
        elif op in ("w", "W"):
            write += int(entry.get("value") or 0)
    return read, write


def network_io(networks: Mapping[str, Any] | None) -> tuple[int, int]:
    """Bytes received and sent (cumulative), summed over interfaces."""
    rx = tx = 0
    for iface in (networks or {}).values():
        rx += int(iface.get("rx_bytes") or 0)
        tx += int(iface.get("tx_bytes") or 0)
    return rx, tx


_TIME_RE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|z|[+-]\d\d:\d\d)?$")


def parse_time(text: str) -> float:
    """RFC 3339 with nanoseconds → epoch seconds (0.0 for Go's zero time)."""
    if not text or text.startswith("0001-"):
        return 0.0
    m = _TIME_RE.match(text)
    if m is None:
        return 0.0
    base, frac, tz = m.groups()
    offset = 0
    if tz and tz not in ("Z", "z"):
        offset = (1 if tz[0] == "+" else -1) * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    return _base_epoch(base) - offset + (float(frac) if frac else 0.0)


@functools.lru_cache(maxsize=256)
def _base_epoch(base: str) -> float:
    # Every container's sample of one engine tick carries the same second: parse it once.
    return datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()


@dataclass(frozen=True)
class StatsSample:
    """One second of one container, as `docker stats` shows it plus per-second I/O rates."""

    container_id: str
    time: float  # engine's read time, epoch seconds
    cpu_percent: float
    mem_used: int
    mem_limit: int
    mem_percent: float
    net_rx: int
    net_tx: int
    blk_read: int
    blk_write: int
    pids: int
    net_rx_rate: float = 0.0  # bytes/s since the previous sample (0 on the first)
    net_tx_rate: float = 0.0
    blk_read_rate: float = 0.0
    blk_write_rate: float = 0.0


def sample_from_api(raw: Mapping[str, Any], cid: str, prev: StatsSample | None = None) -> StatsSample | None:
    """A StatsSample from one engine stats document; None when the container is not running."""
    t = parse_time(raw.get("read") or _ZERO_TIME)
    if t == 0.0:
        return None
    mem = raw.get("memory_stats") or {}
    used = memory_used(mem)
    limit = int(mem.get("limit") or 0)
    rx, tx = network_io(raw.get("networks"))
    rd, wr = block_io(raw.get("blkio_stats") or {})
    rates = (0.0, 0.0, 0.0, 0.0)
    if prev is not None and t > prev.time:
        dt = t - prev.time
        rates = tuple(max(0.0, (now - before) / dt) for now, before in
                      ((rx, prev.net_rx), (tx, prev.net_tx), (rd, prev.blk_read), (wr, prev.blk_write)))
    return StatsSample(
        container_id=cid, time=t,
        cpu_percent=cpu_percent(raw.get("cpu_stats") or {}, raw.get("precpu_stats") or {}),
        mem_used=used, mem_limit=limit, mem_percent=memory_percent(used, limit),
        net_rx=rx, net_tx=tx, blk_read=rd, blk_write=wr,
        pids=int((raw.get("pids_stats") or {}).get("current") or 0),
        net_rx_rate=rates[0], net_tx_rate=rates[1], blk_read_rate=rates[2], blk_write_rate=rates[3],
    )


@dataclass(frozen=True)
class StreamEnded:
    """A stream stopped: the container is no longer running, it was closed, or the engine failed."""

    container_id: str
    reason: str = ""  # "" when closed on purpose or the container stopped
