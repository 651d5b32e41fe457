"""Causes of exits and the health-check patterns, in sentences."""

from __future__ import annotations

from desktop.state.history.causes import exit_cause, format_bytes, loop_note, signal_of
from desktop.state.history.health import HealthCheck, Probe, explain, health_report, parse_engine_time


def test_exit_causes():
    assert exit_cause("web", 137, oom_killed=True, memory_limit=512 << 20) == \
        "web exited with code 137: killed by the kernel for using more than its 512 MiB memory limit"
    assert "not by its memory limit" in exit_cause("web", 137)
    assert "segmentation fault" in exit_cause("web", 139)
    assert exit_cause("web", 127).endswith("its command was not found in the image")
    assert exit_cause("web", 1, last_line="  panic:   boom ") == \
        "web exited with code 1: the program reported an error; its last output was “panic: boom”"
    assert signal_of(143) == "SIGTERM" and signal_of(1) is None
    assert format_bytes(1536 << 20) == "1.5 GiB" and format_bytes(16 << 20) == "16 MiB"
    assert loop_note(1, "always") == "" and "3 times" in loop_note(3, "always")


CHECK = HealthCheck("curl -f http://localhost/", interval=5, timeout=2, retries=3, start_period=30)


def test_timeouts():
    probes = [Probe(100 + i * 7, 102.01 + i * 7, -1, "Health check exceeded timeout (2s)") for i in range(3)]
    assert explain(CHECK, "unhealthy", 3, probes, 0).startswith("The probe times out: the last 3 ran longer than the 2 s timeout")


def test_same_output_every_time():
    probes = [Probe(100 + i, 100.1 + i, 1, "curl: (7) Failed to connect\n") for i in range(4)]
    assert explain(CHECK, "unhealthy", 4, probes, 0) == \
        "The probe exits 1 with the same output every time: “curl: (7) Failed to connect” (4 in a row)."


def test_failing_only_during_the_start_period():
    started = 1000.0
    probes = [Probe(started + 5, started + 5.1, 1, "no"), Probe(started + 10, started + 10.1, 1, "no"),
              Probe(started + 35, started + 35.1, 0, "ok")]
    assert "only during the 30 s start period" in explain(CHECK, "healthy", 0, probes, started)
    assert "during the 30 s start period, where failures do not count" in explain(CHECK, "starting", 0, probes[:2], started)


def test_varying_and_passing():
    probes = [Probe(1, 2, 1, "a"), Probe(3, 4, 2, "b")]
    assert "varying results (exit codes 1, 2)" in explain(CHECK, "unhealthy", 2, probes, 0)
    assert explain(CHECK, "healthy", 0, [Probe(1, 2, 0, "")], 0) == "The probe passes."


def test_report_from_inspect():
    raw = {"Config": {"Healthcheck": {"Test": ["CMD-SHELL", "exit 1"], "Interval": 500_000_000, "Retries": 2}},
           "State": {"StartedAt": "2026-12-01T08:00:00.5Z", "Health": {
               "Status": "unhealthy", "FailingStreak": 7,
               "Log": [{"Start": "2026-12-01T08:00:01.000000001Z", "End": "2026-12-01T08:00:01.25+00:00",
                        "ExitCode": 1, "Output": ""}]}}}
    r = health_report(raw)
    assert r.check.command == "exit 1" and r.check.interval == 0.5 and r.check.timeout == 30 and r.check.retries == 2
    assert r.failing_streak == 7 and abs(r.probes[0].duration - 0.25) < 1e-6
    assert r.verdict == "The probe exits 1 with no output (1 in a row)."
    assert parse_engine_time("2026-12-01T08:00:00Z") == 1_796_112_000.0
    assert health_report({"Config": {}}) is None
