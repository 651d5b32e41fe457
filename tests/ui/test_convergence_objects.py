"""Model-based, smaller: the Images, Volumes, Networks and Compose pages agree with the engine
after any sequence of CLI-made changes (pull/tag/untag/remove, create/remove, connect/disconnect,
Compose-labelled containers started, stopped and removed)."""

from __future__ import annotations

import io
import os
import tarfile

import docker
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.ui.features import objects as objects_wing
from desktop.ui.objects.object_model import ItemRole
from tests.conftest import RUN_LABEL
from tests.harness.registry import registry  # noqa: F401 - the fixture
from tests.ui.convergence import Driver, machine_settings, report

EXAMPLES = int(os.environ.get("PILOTHOUSE_CONVERGE_OBJECT_EXAMPLES", "2"))
STEPS = int(os.environ.get("PILOTHOUSE_CONVERGE_OBJECT_STEPS", "15"))
COL_USED = {"images": 4, "volumes": 4, "networks": 5}


def _users(tooltip: str | None) -> tuple[str, ...]:
    if not tooltip or tooltip.startswith("No container"):
        return ()
    return tuple(sorted(tooltip.split("\n")))


def page_objects(page, kind: str) -> dict:
    """key → (what the row names, its users), over every row of the page's model."""
    model = page.model
    out = {}
    for r in range(model.rowCount()):
        item = model.index(r, 0).data(ItemRole)
        users = _users(model.index(r, COL_USED[kind]).data(0x03))  # ToolTipRole
        if kind == "images":
            out[item.id] = (tuple(sorted(item.tags)), users)
        else:
            out[item.name] = users
    return out


def engine_objects(api: docker.APIClient, kind: str) -> dict:
    containers = api.containers(all=True)

    def name(c) -> str:
        return (c.get("Names") or ["/" + c["Id"][:12]])[0].lstrip("/")

    if kind == "images":
        users: dict[str, list[str]] = {}
        for c in containers:
            users.setdefault(c.get("ImageID", ""), []).append(name(c))
        return {im["Id"]: (tuple(sorted(t for t in im.get("RepoTags") or [] if t != "<none>:<none>")),
                           tuple(sorted(users.get(im["Id"], ()))))
                for im in api.images()}
    if kind == "volumes":
        users = {}
        for c in containers:
            for m in c.get("Mounts") or []:
                if m.get("Type") == "volume" and m.get("Name"):
                    users.setdefault(m["Name"], []).append(name(c))
        return {v["Name"]: tuple(sorted(users.get(v["Name"], ()))) for v in api.volumes().get("Volumes") or []}
    users = {}
    for c in containers:
        for net in ((c.get("NetworkSettings") or {}).get("Networks") or {}):
            users.setdefault(net, []).append(name(c))
    return {n["Name"]: tuple(sorted(users.get(n["Name"], ()))) for n in api.networks()}


def _unique_image(api, image: str, repo: str, run_id: str) -> str:
    c = api.create_container(image, command=["true"], labels={RUN_LABEL: run_id})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = os.urandom(64_000)
        ti = tarfile.TarInfo("random.bin")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    api.put_archive(c["Id"], "/", buf.getvalue())
    image_id = api.commit(c["Id"], repository=repo, tag="v1")["Id"]
    api.remove_container(c["Id"])
    return image_id


class _Base(RuleBasedStateMachine):
    """Shared: containers made for the objects (removed at the end of each example)."""

    api: docker.APIClient
    driver: Driver
    image: str
    run_id: str
    kind = ""
    page = None

    def __init__(self) -> None:
        super().__init__()
        self.containers: list[str] = []
        self.n = 0

    def _name(self, what: str) -> str:
        self.n += 1
        return f"cvo-{self.run_id}-{what}{self.n}"

    def cli(self, fn, *args, **kwargs):
        try:
            return self.driver.call(fn, *args, **kwargs)
        except docker.errors.APIError:
            return None

    def _container(self, start: bool = False, image: str | None = None, **host) -> str | None:
        c = self.cli(self.api.create_container, image or self.image, command=["sleep", "3600"],
                     name=self._name("c"), labels={RUN_LABEL: self.run_id}, stop_signal="SIGKILL",
                     host_config=self.api.create_host_config(**host))
        if c is None:
            return None
        self.containers.append(c["Id"])
        if start:
            self.cli(self.api.start, c["Id"])
        return c["Id"]

    @precondition(lambda self: self.containers)
    @rule(i=st.integers(0, 31))
    def remove_container(self, i):
        cid = self.containers.pop(i % len(self.containers))
        self._forget(cid)
        self.cli(self.api.remove_container, cid, force=True)

    def _forget(self, cid: str) -> None:
        pass

    @invariant()
    def page_agrees_with_engine(self):
        self.driver.converge(lambda: engine_objects(self.api, self.kind), lambda: page_objects(self.page, self.kind),
                             f"the last step on the {self.kind} page")

    def teardown(self):
        for cid in self.containers:
            self.cli(self.api.remove_container, cid, force=True)
        self.cleanup()
        self.driver.converge(lambda: engine_objects(self.api, self.kind), lambda: page_objects(self.page, self.kind),
                             f"clean-up of the {self.kind} page")

    def cleanup(self) -> None:
        pass


class ImagesMachine(_Base):
    kind = "images"
    pushed: list[str] = []  # repo:v1 references in the registry

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []  # tags this example made

    @rule(i=st.integers(0, 7))
    def pull(self, i):
        ref = self.pushed[i % len(self.pushed)]
        self.cli(lambda: self.api.pull(ref.rsplit(":", 1)[0], tag="v1"))

    @rule(i=st.integers(0, 7))
    def tag(self, i):
        sources = [self.image] + [r for r in self.pushed if self._present(r)] + self.tags
        src = sources[i % len(sources)]
        tag = f"cvo-{self.run_id}/t{self.n}"
        self.n += 1
        if self.cli(self.api.tag, src, tag, "x"):
            self.tags.append(f"{tag}:x")

    @precondition(lambda self: self.tags)
    @rule(i=st.integers(0, 7))
    def untag(self, i):
        ref = self.tags.pop(i % len(self.tags))
        self.cli(self.api.remove_image, ref)

    @rule(i=st.integers(0, 7), force=st.booleans())
    def remove_pulled(self, i, force):
        self.cli(self.api.remove_image, self.pushed[i % len(self.pushed)], force=force)

    @rule(i=st.integers(0, 7), start=st.booleans())
    def use(self, i, start):
        refs = [r for r in self.pushed if self._present(r)] + self.tags
        if refs:
            self._container(start=start, image=refs[i % len(refs)])

    def _present(self, ref: str) -> bool:
        try:
            self.api.inspect_image(ref)
            return True
        except docker.errors.NotFound:
            return False

    def cleanup(self) -> None:
        for ref in self.tags + self.pushed:
            self.cli(self.api.remove_image, ref, force=True)


class VolumesMachine(_Base):
    kind = "volumes"

    def __init__(self) -> None:
        super().__init__()
        self.volumes: list[str] = []

    @rule()
    def create(self):
        name = self._name("v")
        if self.cli(self.api.create_volume, name, labels={RUN_LABEL: self.run_id}):
            self.volumes.append(name)

    @precondition(lambda self: self.volumes)
    @rule(i=st.integers(0, 31))
    def remove(self, i):
        name = self.volumes[i % len(self.volumes)]
        if self.cli(lambda: self.api.remove_volume(name) or True):  # refused while a container uses it
            self.volumes.remove(name)

    @precondition(lambda self: self.volumes)
    @rule(i=st.integers(0, 31), start=st.booleans())
    def mount(self, i, start):
        self._container(start=start, binds={self.volumes[i % len(self.volumes)]: {"bind": "/data", "mode": "rw"}})

    def cleanup(self) -> None:
        for name in self.volumes:
            self.cli(self.api.remove_volume, name, force=True)


class NetworksMachine(_Base):
    kind = "networks"

    def __init__(self) -> None:
        super().__init__()
        self.networks: list[str] = []
        self.running: list[str] = []
        self.stopped: list[str] = []

    @rule()
    def create(self):
        name = self._name("n")
        if self.cli(self.api.create_network, name, driver="bridge", labels={RUN_LABEL: self.run_id}):
            self.networks.append(name)

    @precondition(lambda self: self.networks)
    @rule(i=st.integers(0, 31))
    def remove(self, i):
        name = self.networks[i % len(self.networks)]
        if self.cli(lambda: self.api.remove_network(name) or True):  # refused while a container is attached
            self.networks.remove(name)

    @rule()
    def run(self):
        cid = self._container(start=True)
        if cid:
            self.running.append(cid)

    def _attach(self, on: bool, pool: list[str], i: int, j: int) -> None:
        fn = self.api.connect_container_to_network if on else self.api.disconnect_container_from_network
        self.cli(fn, pool[j % len(pool)], self.networks[i % len(self.networks)])

    @precondition(lambda self: self.networks and self.running)
    @rule(on=st.booleans(), i=st.integers(0, 31), j=st.integers(0, 31))
    def connect_running(self, on, i, j):
        self._attach(on, self.running, i, j)

    @rule()
    def make_stopped(self):
        cid = self._container(start=False)
        if cid:
            self.stopped.append(cid)

    # Connecting a container that is not running sends no event at all (disconnecting does): the
    # app re-reads the references when the user comes back to the window, which is when someone
    # who ran `docker network connect` in a terminal would look.
    @precondition(lambda self: self.networks and self.stopped)
    @rule(on=st.booleans(), i=st.integers(0, 31), j=st.integers(0, 31))
    def connect_stopped(self, on, i, j):
        self._attach(on, self.stopped, i, j)
        if on:
            QApplication.instance().applicationStateChanged.emit(Qt.ApplicationState.ApplicationActive)

    @precondition(lambda self: self.running)
    @rule(i=st.integers(0, 31))
    def remove_running(self, i):
        cid = self.running.pop(i % len(self.running))
        self.containers.remove(cid)
        self.cli(self.api.remove_container, cid, force=True)

    def _forget(self, cid: str) -> None:
        for kept in (self.running, self.stopped):
            if cid in kept:
                kept.remove(cid)

    def cleanup(self) -> None:
        for cid in self.running:
            self.cli(self.api.remove_container, cid, force=True)
        for name in self.networks:
            self.cli(self.api.remove_network, name)


def _bind(machine, ph, qtbot, docker_api, test_image, run_id, kind):
    driver = Driver(qtbot)
    attrs = {"api": docker_api, "driver": driver, "image": test_image, "run_id": run_id,
             "page": ph.compose.page if kind == "compose" else getattr(ph.objects, f"{kind}_page")}
    ph.window.show_page(kind)
    return type(machine.__name__, (machine,), attrs), driver


@pytest.mark.timeout(600)
def test_images_page_converges(ph, qtbot, docker_api, test_image, run_id, registry):  # noqa: F811
    machine, driver = _bind(ImagesMachine, ph, qtbot, docker_api, test_image, run_id, "images")
    pushed = []
    for k in range(2):
        repo = f"{registry.address}/cvo-{run_id}/img{k}"
        _unique_image(docker_api, test_image, repo, run_id)
        for line in docker_api.push(repo, tag="v1", stream=True, decode=True):
            assert "error" not in line, line
        docker_api.remove_image(f"{repo}:v1")
        pushed.append(f"{repo}:v1")
    machine.pushed = pushed
    try:
        run_state_machine_as_test(machine, settings=machine_settings(EXAMPLES, STEPS))
    finally:
        driver.close()
    report(machine.kind, EXAMPLES * STEPS, driver.latencies)


@pytest.mark.timeout(600)
def test_volumes_page_converges(ph, qtbot, docker_api, test_image, run_id):
    machine, driver = _bind(VolumesMachine, ph, qtbot, docker_api, test_image, run_id, "volumes")
    try:
        run_state_machine_as_test(machine, settings=machine_settings(EXAMPLES, STEPS))
    finally:
        driver.close()
    report(machine.kind, EXAMPLES * STEPS, driver.latencies)


@pytest.mark.timeout(600)
def test_networks_page_converges(ph, qtbot, docker_api, test_image, run_id, monkeypatch):
    monkeypatch.setattr(objects_wing, "USAGE_RECHECK_INTERVAL", 0.0)
    machine, driver = _bind(NetworksMachine, ph, qtbot, docker_api, test_image, run_id, "networks")
    try:
        run_state_machine_as_test(machine, settings=machine_settings(EXAMPLES, STEPS))
    finally:
        driver.close()
    report(machine.kind, EXAMPLES * STEPS, driver.latencies)


def compose_on_page(page, run_id: str) -> dict:
    """project → summary line, and the selected project's services → (count line, containers)."""
    from PySide6.QtCore import Qt

    projects = {}
    for i in range(page.project_list.count()):
        name, _, summary = page.project_list.item(i).text().partition("\n")
        if run_id in name:
            projects[name] = summary
    current = page.project_list.currentItem()
    selected = current.data(Qt.ItemDataRole.UserRole + 1) if current is not None else None
    services = {}
    if selected and run_id in selected:
        for service, rows in page.service_rows().items():
            services[service] = sorted(r[0] for r in rows)
    return {"projects": projects, "selected": selected if selected and run_id in selected else None,
            "services": services}


def compose_on_engine(api, run_id: str, selected: str | None) -> dict:
    projects: dict[str, list] = {}
    for c in api.containers(all=True, filters={"label": f"{RUN_LABEL}={run_id}"}):
        p = (c.get("Labels") or {}).get("com.docker.compose.project")
        if p:
            projects.setdefault(p, []).append(c)
    summary = {p: f"{sum(c['State'] in ('running', 'restarting', 'paused') for c in cs)} of {len(cs)} running"
               for p, cs in projects.items()}
    services: dict[str, list] = {}
    for c in projects.get(selected or "", []):
        services.setdefault(c["Labels"].get("com.docker.compose.service", "(no service)"), []).append(
            c["Names"][0].lstrip("/"))
    return {"projects": summary, "selected": selected if selected in projects else None,
            "services": {s: sorted(n) for s, n in services.items()}}


class ComposeMachine(_Base):
    kind = "compose"
    PROJECTS = ("shop", "blog")
    SERVICES = ("web", "db")

    @rule(p=st.sampled_from(PROJECTS), s=st.sampled_from(SERVICES), start=st.booleans())
    def up_one(self, p, s, start):
        project = f"{p}{self.run_id}"
        self.n += 1
        c = self.cli(self.api.create_container, self.image, command=["sleep", "3600"],
                     name=f"{project}-{s}-{self.n}", stop_signal="SIGKILL",
                     labels={RUN_LABEL: self.run_id, "com.docker.compose.project": project,
                             "com.docker.compose.service": s},
                     host_config=self.api.create_host_config())
        if c is not None:
            self.containers.append(c["Id"])
            if start:
                self.cli(self.api.start, c["Id"])

    @precondition(lambda self: self.containers)
    @rule(i=st.integers(0, 31), verb=st.sampled_from(["start", "stop", "kill", "pause", "unpause", "restart"]))
    def act(self, i, verb):
        cid = self.containers[i % len(self.containers)]
        kwargs = {"timeout": 0} if verb in ("stop", "restart") else {}
        self.cli(getattr(self.api, verb), cid, **kwargs)

    @rule(p=st.sampled_from(PROJECTS))
    def select(self, p):
        self.page.select_project(f"{p}{self.run_id}")

    def _selected(self):
        return compose_on_page(self.page, self.run_id)["selected"]

    @invariant()
    def page_agrees_with_engine(self):
        self.driver.converge(lambda: compose_on_engine(self.api, self.run_id, self._selected()),
                             lambda: compose_on_page(self.page, self.run_id), "the last step on the Compose page")

    def teardown(self):
        for cid in self.containers:
            self.cli(self.api.remove_container, cid, force=True)
        self.page_agrees_with_engine()


@pytest.mark.timeout(600)
def test_compose_page_converges(ph, qtbot, docker_api, test_image, run_id):
    machine, driver = _bind(ComposeMachine, ph, qtbot, docker_api, test_image, run_id, "compose")
    try:
        run_state_machine_as_test(machine, settings=machine_settings(EXAMPLES, STEPS))
    finally:
        driver.close()
    report(machine.kind, EXAMPLES * STEPS, driver.latencies)
