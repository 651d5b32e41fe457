"""The persistent timeline against the real engine: events with the container's name, image and
Compose project, surviving a restart of the app, gaps filled from the engine's buffer, and
`pilothouse events` printing what `docker events` prints, even after the daemon restarted."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest

from desktop.state.history.store import HistoryStore
from desktop.state.history.timeline import TimelineFilter, count_events, gaps, query_events
from tests.conftest import RUN_LABEL


def _events(store, **kw):
    return store.read_blocking(query_events, TimelineFilter(limit=0, newest_first=False, **kw))


def _cli(history_path, *args, tz="UTC"):
    env = dict(os.environ, TZ=tz)
    code = "import sys; from desktop.cli import main; raise SystemExit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, "events", "--db", str(history_path), *args],
                          capture_output=True, text=True, timeout=60, env=env)


def test_events_are_recorded_with_name_image_and_project(run, followed, make_container, docker_api):
    async def scenario():
        f = await followed()
        cid = make_container(labels={"com.docker.compose.project": "shop"})
        died = f.expect(lambda ev: ev.id == cid and ev.action == "die")
        docker_api.start(cid)
        docker_api.kill(cid)
        await asyncio.wait_for(died, 20)
        await f.settle()
        return f, cid

    f, cid = run(scenario())
    rows = _events(f.store, container=cid)
    actions = [r.action for r in rows]
    assert actions[:1] == ["create"] and "start" in actions and "kill" in actions and "die" in actions
    name = docker_api.inspect_container(cid)["Name"].lstrip("/")
    assert {(r.name, r.image, r.project, r.engine) for r in rows} == {(name, "pilothouse-test/busybox:latest", "shop", "local")}
    # The project filter and the full-text search find the same rows.
    assert len(_events(f.store, project="shop", since=rows[0].time_nano)) == len(rows)
    assert {r.id for r in _events(f.store, text=name)} >= {r.id for r in rows}


def test_a_restart_of_the_app_leaves_a_gap_filled_from_the_engine_buffer(run, followed, history_path,
                                                                         make_container, docker_api):
    async def first_run():
        f = await followed()
        cid = make_container()
        created = f.expect(lambda ev: ev.id == cid and ev.action == "create")
        docker_api.start(cid)
        await asyncio.wait_for(created, 20)
        await f.settle()
        await f.aclose()
        await f.store.aclose()
        return cid

    cid = run(first_run())
    # While the app is closed, the container dies: only the engine's buffer knows.
    docker_api.kill(cid)
    while_closed = docker_api.inspect_container(cid)["State"]["FinishedAt"]

    async def second_run():
        store = HistoryStore(history_path)
        store.start()
        f = await followed(store=store)
        await f.settle()
        return f

    f = run(second_run())
    rows = _events(f.store, container=cid)
    by_action = {r.action: r for r in rows}
    assert by_action["create"].filled is False
    assert by_action["die"].filled is True and by_action["kill"].filled is True
    assert len([r for r in rows if r.action == "start"]) == 1  # seen live and again in the buffer: one row
    found = f.store.read_blocking(gaps)
    assert len(found) == 1 and found[0].engine == "local"
    assert found[0].start < by_action["die"].time_nano < found[0].end and found[0].filled >= 2
    assert while_closed


def test_cli_prints_what_docker_events_prints(run, followed, history_path, make_container, docker_api,
                                              docker_cli, engine_host):
    async def scenario():
        f = await followed()
        t0 = time.time_ns()
        cid = make_container(labels={"com.docker.compose.project": "web<&>"})
        died = f.expect(lambda ev: ev.id == cid and ev.action == "die")
        docker_api.start(cid)
        docker_api.kill(cid)
        await asyncio.wait_for(died, 20)
        t1 = time.time_ns()
        await f.settle()
        return cid, t0, t1

    cid, t0, t1 = run(scenario())
    since, until = f"{t0 // 10**9}.{t0 % 10**9:09d}", f"{t1 // 10**9 + 1}"
    for fmt_args, ours_args in (((), ()), (("--format", "{{json .}}"), ("--json",))):
        theirs = subprocess.run(["docker", "--host", engine_host, "events", "--since", since, "--until", until,
                                 "--filter", f"container={cid}", *fmt_args],
                                capture_output=True, text=True, timeout=60, env=dict(os.environ, TZ="UTC"))
        assert theirs.returncode == 0, theirs.stderr
        ours = _cli(history_path, "--since", since, "--until", until, "--container", cid, *ours_args)
        assert ours.returncode == 0, ours.stderr
        # docker's container filter also matches the network's connect/disconnect of the container
        want = [line for line in theirs.stdout.splitlines() if cid in line.split(" ")[3:4] or fmt_args]
        if fmt_args:
            want = [line for line in want if f'"Type":"container"' in line]
        assert ours.stdout.splitlines() == want and want, (ours.stdout.splitlines()[:1], want[:1])


def test_cli_input_errors_are_sentences(history_path, tmp_path):
    res = _cli(history_path, "--since", "yesterday-ish")
    assert res.returncode == 2 and "is not a time" in res.stderr
    res = _cli(tmp_path / "none.sqlite")
    assert res.returncode == 1 and "no history has been recorded yet" in res.stderr


@pytest.mark.engine_restart
def test_cli_shows_events_from_before_the_daemon_restarted(run, restartable_engine, history_path, followed,
                                                           test_image, run_id):
    import docker

    api = docker.APIClient(base_url=restartable_engine.host, version="auto", timeout=60)
    try:
        async def before():
            f = await followed()
            made = api.create_container(test_image, command=["true"], name=f"pht-{run_id}-before",
                                        labels={RUN_LABEL: run_id})
            died = f.expect(lambda ev: ev.id == made["Id"] and ev.action == "die")
            api.start(made["Id"])
            await asyncio.wait_for(died, 20)
            await f.settle()
            return f, made["Id"]

        f, cid = run(before())

        async def after():
            # The recorder comes back with the engine (its watch reconnects) and notes the gap.
            back = f.next_resync()
            await asyncio.get_running_loop().run_in_executor(None, restartable_engine.restart)
            await asyncio.wait_for(back, 60)
            await f.settle()
            return time.time()

        t_restart = run(after())
        assert len(f.store.read_blocking(gaps)) == 1
        since = str(int(t_restart) - 600)
        theirs = subprocess.run(["docker", "--host", restartable_engine.host, "events", "--since", since,
                                 "--until", str(int(time.time()) + 1), "--filter", f"container={cid}"],
                                capture_output=True, text=True, timeout=60)
        assert theirs.returncode == 0 and theirs.stdout == ""  # the daemon forgot
        ours = _cli(history_path, "--since", since, "--container", cid, "--host", restartable_engine.host)
        assert ours.returncode == 0, ours.stderr
        assert [line.split(" ")[2] for line in ours.stdout.splitlines()][:3] == ["create", "start", "die"] \
            or "die" in ours.stdout
        api.remove_container(cid, force=True)
    finally:
        api.close()


def test_count_over_a_filter(run, followed, make_container, docker_api):
    async def scenario():
        f = await followed()
        cid = make_container()
        created = f.expect(lambda ev: ev.id == cid and ev.action == "create")
        await asyncio.wait_for(created, 20)
        await f.settle()
        return f, cid

    f, cid = run(scenario())
    assert f.store.read_blocking(count_events, TimelineFilter(container=cid)) == 1


def test_exit_codes_and_signals_are_searched_as_the_rows_say_them(run, followed, make_container, docker_api):
    async def scenario():
        f = await followed()

        def made(**kw) -> str:
            # A word of a search is also the prefix of a container ID: an ID that starts with a
            # digit would be found by "3" or "137" for that reason alone.
            for _ in range(40):
                cid = make_container(**kw)
                if not cid[0].isdigit():
                    return cid
            raise AssertionError("40 container IDs in a row started with a digit")

        crashed = made(command=("sh", "-c", "exit 3"))
        killed = made()
        died = f.expect(lambda ev: ev.id == crashed and ev.action == "die")
        docker_api.start(crashed)
        await asyncio.wait_for(died, 20)
        died = f.expect(lambda ev: ev.id == killed and ev.action == "die")
        docker_api.start(killed)
        docker_api.kill(killed)
        await asyncio.wait_for(died, 20)
        await f.settle()
        return f, crashed, killed

    f, crashed, killed = run(scenario())

    def found(text):
        return {(r.actor, r.action) for r in f.store.read_blocking(query_events, TimelineFilter(text=text, limit=100))
                if r.actor in (crashed, killed)}

    assert found("exit 3") == found("code 3") == found("exited with code 3") == {(crashed, "die")}
    assert found("exit 137") == {(killed, "die")}  # killed: the engine's 128 + 9
    assert found("signal 9") == {(killed, "kill")}
    assert found("137") == {(killed, "die")}
    # The container filter with the ID's start, as `docker ps` shows it, through the same index.
    assert {r.action for r in f.store.read_blocking(query_events, TimelineFilter(container=crashed[:12], limit=100))} \
        >= {"create", "start", "die"}
