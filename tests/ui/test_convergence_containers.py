"""Model-based: whatever sequence of operations the docker CLI makes, the Containers page agrees
with the engine (name, state, exit code, Compose grouping) within a bounded wait.

Hypothesis drives a real engine beside the running app; after every step the rows are compared
with the engine's own list. Each example leaves nothing behind; the app lives across examples,
as it would across a day of use.
"""

from __future__ import annotations

import os

import docker
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from tests.conftest import RUN_LABEL
from tests.ui.convergence import Driver, engine_rows, machine_settings, report, shown_rows

EXAMPLES = int(os.environ.get("PILOTHOUSE_CONVERGE_EXAMPLES", "5"))
STEPS = int(os.environ.get("PILOTHOUSE_CONVERGE_STEPS", "40"))
ENGINE_RESTARTS = int(os.environ.get("PILOTHOUSE_CONVERGE_ENGINE_RESTARTS", "1"))  # per example
PROJECTS = ("shop", "blog")
SERVICES = ("web", "db", "cache")


def containers_machine(ph, qtbot, api: docker.APIClient, image: str, run_id: str, engine, host: str):
    label = f"{RUN_LABEL}={run_id}"
    page = ph.containers.page
    driver = Driver(qtbot, host)
    counter = iter(range(10**9))

    def cli(fn, *args, **kwargs):
        """One engine call as the CLI would make it; the engine may refuse (409 and the like)."""
        try:
            return driver.call(fn, *args, **kwargs)
        except docker.errors.APIError:
            return None

    class ContainersMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.ids: list[str] = []
            self.restarts = 0

        def _pick(self, i: int) -> str:
            return self.ids[i % len(self.ids)]

        def _create(self, command, *, project=None, service=None, restart=None, start=False) -> str:
            labels = {RUN_LABEL: run_id}
            if project:
                labels.update({"com.docker.compose.project": f"{project}{run_id}",
                               "com.docker.compose.service": service or "web"})
            hc = api.create_host_config(restart_policy=restart) if restart else api.create_host_config()
            c = driver.call(api.create_container, image, command=list(command), name=f"cv-{run_id}-{next(counter)}",
                            labels=labels, host_config=hc,
                            stop_signal="SIGKILL")  # busybox sleep as PID 1 ignores SIGTERM
            self.ids.append(c["Id"])
            if start:
                cli(api.start, c["Id"])
            return c["Id"]

        # -- making containers ---------------------------------------------------------------
        @rule(start=st.booleans())
        def create(self, start):
            self._create(["sleep", "3600"], start=start)

        @rule(project=st.sampled_from(PROJECTS), service=st.sampled_from(SERVICES), start=st.booleans())
        def create_compose(self, project, service, start):
            self._create(["sleep", "3600"], project=project, service=service, start=start)

        @rule(code=st.sampled_from([0, 3]), delay=st.sampled_from(["0", "0.2"]))
        def run_exits_by_itself(self, code, delay):
            self._create(["sh", "-c", f"sleep {delay}; exit {code}"], start=True)

        @rule(policy=st.sampled_from(["on-failure", "always"]))
        def run_restart_loop(self, policy):
            restart = {"Name": policy, "MaximumRetryCount": 3} if policy == "on-failure" else {"Name": policy}
            self._create(["sh", "-c", "sleep 0.1; exit 2"], restart=restart, start=True)

        # -- acting on one ------------------------------------------------------------------------
        @precondition(lambda self: self.ids)
        @rule(i=st.integers(0, 63))
        def start(self, i):
            cli(api.start, self._pick(i))

        @precondition(lambda self: self.ids)
        @rule(i=st.integers(0, 63))
        def stop(self, i):
            cli(api.stop, self._pick(i), timeout=0)

        @precondition(lambda self: self.ids)
        @rule(i=st.integers(0, 63))
        def kill(self, i):
            cli(api.kill, self._pick(i))

        @precondition(lambda self: self.ids)
        @rule(i=st.integers(0, 63))
        def pause(self, i):
            cli(api.pause, self._pick(i))

        @precondition(lambda self: self.ids)
        @rule(i=st.integers(0, 63))
        def unpause(self, i):
            cli(api.unpause, self._pick(i))

        @precondition(lambda self: self.ids)
        @rule(i=st.integers(0, 63))
        def restart(self, i):
            cli(api.restart, self._pick(i), timeout=0)

        @precondition(lambda self: self.ids)
        @rule(i=st.integers(0, 63))
        def rename(self, i):
            cli(api.rename, self._pick(i), f"cv-{run_id}-{next(counter)}")

        @precondition(lambda self: self.ids)
        @rule(i=st.integers(0, 63))
        def remove(self, i):
            cid = self._pick(i)
            try:
                driver.call(api.remove_container, cid)
                self.ids.remove(cid)
            except docker.errors.APIError:
                pass  # running: the engine refuses, as `docker rm` does

        @precondition(lambda self: self.ids)
        @rule(i=st.integers(0, 63))
        def force_remove(self, i):
            cid = self._pick(i)
            cli(api.remove_container, cid, force=True)
            self.ids.remove(cid)

        @precondition(lambda self: self.ids)
        @rule(i=st.integers(0, 63), pair=st.sampled_from([("pause", "kill"), ("start", "kill"), ("pause", "stop"),
                                                           ("restart", "kill"), ("kill", "start"),
                                                           ("unpause", "kill")]))
        def back_to_back(self, i, pair):
            """Two changes with no pause between them: the second lands while the app is still
            catching up with the first."""
            cid = self._pick(i)
            calls = {"pause": lambda: api.pause(cid), "kill": lambda: api.kill(cid), "start": lambda: api.start(cid),
                     "stop": lambda: api.stop(cid, timeout=0), "restart": lambda: api.restart(cid, timeout=0),
                     "unpause": lambda: api.unpause(cid)}

            def both():
                for verb in pair:
                    try:
                        calls[verb]()
                    except docker.errors.APIError:
                        pass

            driver.call(both)

        @precondition(lambda self: engine is not None and self.restarts < ENGINE_RESTARTS)
        @rule()
        def engine_restart(self):
            self.restarts += 1
            driver.call(engine.restart, within=180)

        # -- after every step -----------------------------------------------------------------------
        @invariant()
        def rows_agree_with_engine(self):
            driver.converge(lambda: engine_rows(api, label), lambda: shown_rows(page, label), "the last step")

        def teardown(self):
            if engine is not None and not engine.running:
                driver.call(engine.start, within=180)
            for cid in list(self.ids):
                cli(api.remove_container, cid, force=True)
            driver.converge(lambda: engine_rows(api, label), lambda: shown_rows(page, label), "clean-up")

    return ContainersMachine, driver


@pytest.mark.engine_restart
@pytest.mark.timeout(900)
def test_containers_page_converges_under_any_sequence(ph, qtbot, docker_api, test_image, run_id, private_engine,
                                                       engine_host):
    machine, driver = containers_machine(ph, qtbot, docker_api, test_image, run_id, private_engine, engine_host)
    try:
        run_state_machine_as_test(machine, settings=machine_settings(EXAMPLES, STEPS))
    finally:
        driver.close()
        for c in docker_api.containers(all=True, filters={"label": f"{RUN_LABEL}={run_id}"}):
            docker_api.remove_container(c["Id"], force=True)
    report("containers", EXAMPLES * STEPS, driver.latencies)


@pytest.mark.parametrize("first", ["pause", "start"])
def test_killed_after_pause_or_start_the_row_says_exited(ph, qtbot, docker_api, test_image, run_id, make_container,
                                                         first):
    """dockerd sends `die` before its list stops saying "paused"/"running": the row must not keep
    the old state (it did, for good: "Paused" after `docker pause web; docker kill web`)."""
    label = f"{RUN_LABEL}={run_id}"
    driver = Driver(qtbot)
    try:
        for _ in range(5):
            cid = make_container(start=True)
            driver.converge(lambda: engine_rows(docker_api, label), lambda: shown_rows(ph.containers.page, label),
                            "run")
            driver.call(lambda: (docker_api.pause(cid) if first == "pause" else None, docker_api.kill(cid)))
            driver.converge(lambda: engine_rows(docker_api, label), lambda: shown_rows(ph.containers.page, label),
                            f"{first} then kill")
            assert shown_rows(ph.containers.page, label)[cid][1] == "Exited (137)"
    finally:
        driver.close()
