"""The docker CLI's stats formulas, and the 15-minute ring buffer."""

from datetime import datetime, timezone

import numpy as np
import pytest

from desktop.engine.stats_formulas import (block_io, cpu_percent, memory_percent, memory_used, network_io, parse_time,
                                           sample_from_api)
from desktop.metrics.ring_buffer import RingBuffer

# Shape of a real cgroup-v1 sample from the test engine (a busy loop on one of 2 CPUs).
RAW = {
    "read": "2026-11-28T03:52:27.914801236Z",
    "pids_stats": {"current": 3},
    "blkio_stats": {"io_service_bytes_recursive": [
        {"major": 8, "minor": 0, "op": "Read", "value": 4096},
        {"major": 8, "minor": 0, "op": "Write", "value": 1000},
        {"major": 8, "minor": 16, "op": "read", "value": 10},
        {"major": 8, "minor": 0, "op": "Sync", "value": 99},
        {"major": 8, "minor": 0, "op": "Total", "value": 5106},
    ]},
    "cpu_stats": {"cpu_usage": {"total_usage": 1_179_678_335, "percpu_usage": [1, 2]},
                  "system_cpu_usage": 1_378_170_000_000, "online_cpus": 2},
    "precpu_stats": {"cpu_usage": {"total_usage": 176_879_887}, "system_cpu_usage": 1_376_160_000_000,
                     "online_cpus": 2},
    "memory_stats": {"usage": 565_248, "stats": {"total_inactive_file": 65_536, "inactive_file": 1},
                     "limit": 25_276_502_016},
    "networks": {"eth0": {"rx_bytes": 376, "tx_bytes": 10}, "eth1": {"rx_bytes": 24, "tx_bytes": 5}},
}


def test_cpu_percent_is_usage_delta_over_system_delta_times_cpus():
    expected = (1_179_678_335 - 176_879_887) / (1_378_170_000_000 - 1_376_160_000_000) * 2 * 100
    assert cpu_percent(RAW["cpu_stats"], RAW["precpu_stats"]) == pytest.approx(expected)
    assert 99 < expected < 100.5


def test_cpu_percent_counts_percpu_when_online_cpus_missing_and_zero_without_deltas():
    cpu = {"cpu_usage": {"total_usage": 200, "percpu_usage": [1, 1, 1, 1]}, "system_cpu_usage": 1000}
    pre = {"cpu_usage": {"total_usage": 100}, "system_cpu_usage": 500}
    assert cpu_percent(cpu, pre) == pytest.approx(100 / 500 * 4 * 100)
    assert cpu_percent(cpu, {}) == pytest.approx(200 / 1000 * 4 * 100)  # first sample of a one-shot
    assert cpu_percent(cpu, cpu) == 0.0


def test_memory_excludes_inactive_file_cache_v1_then_v2():
    assert memory_used(RAW["memory_stats"]) == 565_248 - 65_536  # v1 key wins
    assert memory_used({"usage": 1000, "stats": {"inactive_file": 300}}) == 700  # cgroup v2
    assert memory_used({"usage": 1000, "stats": {"inactive_file": 3000}}) == 1000
    assert memory_used({"usage": 1000}) == 1000
    assert memory_percent(500, 1000) == 50.0 and memory_percent(5, 0) == 0.0


def test_block_and_network_io_sum_like_the_cli():
    assert block_io(RAW["blkio_stats"]) == (4106, 1000)
    assert block_io({}) == (0, 0)
    assert network_io(RAW["networks"]) == (400, 15)
    assert network_io(None) == (0, 0)


def test_parse_time_handles_nanoseconds_offsets_and_zero_time():
    base = datetime(2026, 11, 28, 3, 52, 27, tzinfo=timezone.utc).timestamp()
    assert parse_time("2026-11-28T03:52:27.914801236Z") == pytest.approx(base + 0.914801236)
    t = parse_time("2026-11-28T03:52:27.5Z")
    assert parse_time("2026-11-28T05:52:27.5+02:00") == pytest.approx(t)
    assert parse_time("0001-01-01T00:00:00Z") == 0.0


def test_sample_rates_come_from_consecutive_samples_and_stopped_gives_none():
    first = sample_from_api(RAW, "c1")
    assert first.pids == 3 and first.net_rx_rate == 0.0 and first.mem_used == 565_248 - 65_536
    later = dict(RAW, read="2026-11-28T03:52:29.914801236Z",
                 networks={"eth0": {"rx_bytes": 2400, "tx_bytes": 15}})
    second = sample_from_api(later, "c1", first)
    assert second.net_rx_rate == pytest.approx(1000.0) and second.net_tx_rate == 0.0
    assert sample_from_api(dict(RAW, read="0001-01-01T00:00:00Z"), "c1") is None


def test_ring_buffer_keeps_the_last_capacity_rows_in_order(tmp_path):
    rb = RingBuffer(("a", "b"), capacity=4)
    assert len(rb) == 0 and rb.last() is None and rb.rows().shape == (0, 3)
    for i in range(6):
        rb.append(float(i), (i * 10, i * 100))
    assert len(rb) == 4
    assert rb.column("time").tolist() == [2, 3, 4, 5]
    assert rb.column("b").tolist() == [200, 300, 400, 500]
    assert rb.last().tolist() == [5, 50, 500]
    nbytes = rb.nbytes
    for i in range(1000):
        rb.append(float(i), (1, 2))
    assert rb.nbytes == nbytes and len(rb) == 4
    out = tmp_path / "h.csv"
    assert rb.to_csv(str(out)) == 4
    lines = out.read_text().splitlines()
    assert lines[0] == "time_utc,a,b" and lines[-1] == "1970-01-01T00:16:39.000Z,1,2"
    assert np.all(np.diff(rb.column("time")) > 0)
