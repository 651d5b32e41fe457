"""Crash reports on the real engine: a container killed by its memory limit, a --rm container that
crashes (its logs outlive it), a restart loop (one report, one notification)."""

from __future__ import annotations

import asyncio

import docker
import pytest

from desktop.state.crash_watch import CrashWatch
from desktop.state.history.crash_reports import CrashReporter, get_report, list_reports


class Watched:
    def __init__(self, f) -> None:
        self.f = f

        async def oom_check(cid, engine):
            return (await f.session.client.inspect_container(cid)).oom_killed

        self.watch = CrashWatch(oom_check=oom_check)
        self.reporter = CrashReporter(self.watch, lambda key: f.registry.get(key).client if f.registry.get(key) else None,
                                      store=f.store, containers=f.session.containers)
        f.session.sync.events.connect(self.reporter.on_event)
        f.session.sync.events.connect(self.watch.on_event)
        self.alerts = []
        self.reporter.alerts.connect(self.alerts.append)
        self._waiters = []
        self.reporter.reported.connect(self._on_reported)

    def _on_reported(self, report) -> None:
        for pred, fut in list(self._waiters):
            if not fut.done() and pred(report):
                fut.set_result(report)

    def report_where(self, pred) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append((pred, fut))
        return fut


@pytest.fixture
def watched(run, followed):
    made = []

    async def make():
        w = Watched(await followed())
        made.append(w)
        return w

    yield make
    for w in made:
        run(w.reporter.aclose())


def test_a_container_killed_by_its_memory_limit(run, watched, make_container, docker_api):
    async def scenario():
        w = await watched()
        # dockerd 20.10 now and then misses the kernel's OOM notice (OOMKilled false): then the
        # engine itself does not know. Try until it does; the report must agree with the engine.
        for _attempt in range(4):
            cid = make_container(command=("dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"),
                                 mem_limit="16m", memswap_limit="16m")
            got = w.report_where(lambda r, cid=cid: r.container_id == cid)
            docker_api.start(cid)
            report = await asyncio.wait_for(got, 30)
            engine_says = docker_api.inspect_container(cid)["State"]["OOMKilled"]
            assert report.exit_code == 137 and report.signal == "SIGKILL" and report.oom_killed == engine_says
            if engine_says:
                return w, report, cid
            assert "killed with SIGKILL" in report.cause
        raise AssertionError("the engine never reported the OOM kill it made")

    w, report, cid = run(scenario())
    name = docker_api.inspect_container(cid)["Name"].lstrip("/")
    assert report.cause == f"{name} exited with code 137: killed by the kernel for using more than its 16 MiB memory limit."
    assert report.memory_limit == 16 << 20 and report.kind == "oom"
    alert = next(a for a in w.alerts if a.container_id == cid)
    assert alert.message == report.cause and alert.report_id == report.id
    kept = w.f.store.read_blocking(get_report, report.id)
    assert kept.cause == report.cause and kept.exit_code == 137


def test_a_removed_container_that_crashed_keeps_its_logs_in_the_report(run, watched, make_container, docker_api):
    async def scenario():
        w = await watched()
        cid = make_container(command=("sh", "-c", "echo starting up; sleep 1; echo 'fatal: no config at /etc/app.conf' >&2; exit 3"),
                             auto_remove=True)
        got = w.report_where(lambda r: r.container_id == cid)
        gone = w.f.expect(lambda ev: ev.id == cid and ev.action == "destroy")
        docker_api.start(cid)
        report = await asyncio.wait_for(got, 30)
        await asyncio.wait_for(gone, 30)
        return w, report, cid

    w, report, cid = run(scenario())
    with pytest.raises(docker.errors.NotFound):
        docker_api.inspect_container(cid)  # the engine forgot it; the history did not
    assert report.exit_code == 3 and report.auto_removed and not report.oom_killed
    assert report.logs[:2] == ["starting up", "fatal: no config at /etc/app.conf"]
    assert report.cause.endswith(": the program reported an error; its last output was "
                                 "“fatal: no config at /etc/app.conf”.")
    kept = w.f.store.read_blocking(list_reports, 10, cid)
    assert [r.id for r in kept] == [report.id] and kept[0].logs[:2] == report.logs[:2]


def test_a_restart_loop_is_one_report_counting_its_restarts(run, watched, make_container, docker_api):
    async def scenario():
        w = await watched()
        cid = make_container(command=("sh", "-c", "echo boom; exit 2"),
                             restart_policy={"Name": "on-failure", "MaximumRetryCount": 3})
        got = w.report_where(lambda r: r.container_id == cid and r.exits == 4)
        docker_api.start(cid)
        report = await asyncio.wait_for(got, 60)
        return w, report, cid

    w, report, cid = run(scenario())
    assert report.restart_count == 3 and report.exit_code == 2 and len(report.exit_history) == 4
    assert "It has crashed 4 times in a row; the engine restarts it (on-failure policy)." in report.cause
    assert [a.container_id for a in w.alerts].count(cid) == 1  # one notification, not four
    kept = w.f.store.read_blocking(list_reports, 10, cid)
    assert len(kept) == 1 and kept[0].exits == 4


def test_a_crash_report_holds_the_stats_of_the_last_minutes(run, watched, make_container, docker_api):
    from desktop.metrics.stats_history import StatsHistorySampler

    async def scenario():
        w = await watched()
        # Runs until told to crash (a file appears), so the sampler sees it alive first.
        cid = make_container(command=("sh", "-c", "while [ ! -e /tmp/crash ]; do sleep 0.1; done; exit 5"))
        store = w.f.session.containers
        running = asyncio.get_running_loop().create_future()

        def on_upserted(items) -> None:
            if not running.done() and any(c.id == cid and c.state == "running" for c in items):
                running.set_result(None)

        store.upserted.connect(on_upserted)
        docker_api.start(cid)
        await asyncio.wait_for(running, 20)  # the sampler asks for what the store says is running
        store.upserted.disconnect(on_upserted)
        sampler = StatsHistorySampler(w.f.store, w.f.registry)
        await sampler.tick()
        await sampler.aclose()
        got = w.report_where(lambda r: r.container_id == cid)
        exe = docker_api.exec_create(cid, ["touch", "/tmp/crash"])
        docker_api.exec_start(exe["Id"])
        return await asyncio.wait_for(got, 30)

    report = run(scenario())
    assert report.exit_code == 5 and report.stats
    assert all(p["mem"] > 0 for p in report.stats) and report.stats[-1]["t"] <= report.last_time + 5
