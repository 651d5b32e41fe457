"""A Compose project's Graph tab against the real engine: services coloured by state and health,
depends_on conditions from the containers' labels, networks and ports, clicks open containers,
and the graph follows the engine."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt


def test_graph_of_a_project(test_image, docker_api, ph, qtbot, run_id):
    proj = f"graph{run_id}"
    net = docker_api.create_network(f"{proj}_back", labels={"pilothouse.test.run": run_id})["Id"]
    try:
        def svc(name, depends="", healthcheck=None, ports=None):
            labels = {"com.docker.compose.project": proj, "com.docker.compose.service": name,
                      "pilothouse.test.run": run_id}
            if depends:
                labels["com.docker.compose.depends_on"] = depends
            return docker_api.create_container(
                test_image, command=["sleep", "3600"], name=f"{proj}-{name}-1", labels=labels, stop_signal="SIGKILL",
                healthcheck=healthcheck, ports=list(ports) if ports else None,
                host_config=docker_api.create_host_config(port_bindings=ports))["Id"]

        db = svc("db", healthcheck={"test": ["CMD", "true"], "interval": 500_000_000})
        web = svc("web", depends="db:service_healthy:false", ports={80: ("127.0.0.1", None)})
        for cid in (db, web):
            docker_api.connect_container_to_network(cid, net)
            docker_api.start(cid)
        qtbot.waitUntil(lambda: all(ph.all_containers.get(c) is not None for c in (db, web)), timeout=20000)
        qtbot.waitUntil(lambda: ph.all_containers.get(db).health == "healthy", timeout=20000)
        members = [ph.all_containers.get(c) for c in (db, web)]
        page = ph.details.open_project(proj, members)
        tab = page.tab("Graph")
        with qtbot.waitSignal(tab.drawn, timeout=20000):
            page.show_tab("Graph")
        g = tab.graph
        assert g.layers() == [["db"], ["web"]]
        assert [(e.service, e.depends_on, e.condition) for e in g.edges] == [("web", "db", "service_healthy")]
        assert g.services["db"].health == "healthy" and g.services["web"].state == "running"
        assert g.networks[f"{proj}_back"] == ["db", "web"]
        assert g.services["web"].ports and g.services["web"].ports[0].endswith("→80/tcp")
        assert tab.items["db"].pen().color().name() == "#2e7d32"  # healthy border

        # it follows the engine: db stops, its node turns grey
        with qtbot.waitSignal(tab.drawn, timeout=20000):
            docker_api.kill(db)
        qtbot.waitUntil(lambda: tab.graph.services["db"].state == "exited", timeout=20000)
        assert tab.items["db"].brush().color().name() == "#e6e7ea"

        # a click on a service opens its container
        item = tab.items["web"]
        tab.view.centerOn(item)
        at = tab.view.mapFromScene(item.sceneBoundingRect().center())
        qtbot.mouseClick(tab.view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(at.x(), at.y()))
        qtbot.waitUntil(lambda: ph.details.page is not None and ph.details.page.container is not None
                        and ph.details.page.container.id == web, timeout=10000)
    finally:
        for c in docker_api.containers(all=True, filters={"label": f"com.docker.compose.project={proj}"}):
            docker_api.remove_container(c["Id"], force=True)
        docker_api.remove_network(net)


COMPOSE = """services:
  web:
    image: nginx
    ports: ["8080:80"]
    depends_on:
      api: {condition: service_healthy}
    networks: [front, back]
  api:
    image: api
    depends_on: [db]
    networks: [back]
    volumes: ["uploads:/data"]
  db:
    image: postgres
    networks: [back]
    volumes: ["pgdata:/var/lib/postgresql/data"]
networks: {front: {}, back: {}}
volumes: {pgdata: {}, uploads: {}}
"""


def test_graph_from_the_compose_file_of_a_project_not_running(tmp_path, test_image, docker_api, ph, qtbot, run_id):
    proj = f"filed{run_id}"
    folder = tmp_path / proj
    folder.mkdir()
    (folder / "compose.yaml").write_text(COMPOSE)
    page = ph.compose.page
    ph.window.show_page("compose")
    assert page.open_project_file(str(folder / "compose.yaml")) is not None
    graph = ph.inside.compose_graph
    with qtbot.waitSignal(graph.drawn, timeout=20000):
        page.views.setCurrentWidget(graph)
    qtbot.waitUntil(lambda: graph.graph is not None and graph.graph.from_file and graph.project == proj, timeout=20000)
    g = graph.graph
    assert g.layers() == [["db"], ["api"], ["web"]]
    assert [(e.service, e.depends_on, e.condition) for e in g.edges] == [
        ("api", "db", "service_started"), ("web", "api", "service_healthy")]
    assert all(n.state == "missing" for n in g.services.values())
    assert g.services["web"].ports == ["8080→80/tcp"]
    assert g.networks == {f"{proj}_back": ["api", "db", "web"], f"{proj}_front": ["web"]}
    assert g.volumes == {f"{proj}_pgdata": ["db"], f"{proj}_uploads": ["api"]}
    assert "Compose file" in graph.source.text()
    assert graph.items["web"].pen().style() == Qt.PenStyle.DashLine  # not created

    # one service comes up (as `compose up db` would label it): the graph follows, partly running
    labels = {"com.docker.compose.project": proj, "com.docker.compose.service": "db", "pilothouse.test.run": run_id,
              "com.docker.compose.project.config_files": str(folder / "compose.yaml"),
              "com.docker.compose.project.working_dir": str(folder)}
    db = docker_api.create_container(test_image, command=["sleep", "3600"], name=f"{proj}-db-1", labels=labels,
                                     stop_signal="SIGKILL")["Id"]
    try:
        docker_api.start(db)
        qtbot.waitUntil(lambda: graph.graph.services["db"].state == "running", timeout=20000)
        g = graph.graph
        assert g.services["web"].state == "missing" and len(g.edges) == 2
        assert graph.items["db"].brush().color().name() == "#d7f0db"
        # clicking the running service opens its container
        item = graph.items["db"]
        graph.view.centerOn(item)
        at = graph.view.mapFromScene(item.sceneBoundingRect().center())
        qtbot.mouseClick(graph.view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(at.x(), at.y()))
        qtbot.waitUntil(lambda: ph.details.page is not None and ph.details.page.container is not None
                        and ph.details.page.container.id == db, timeout=10000)
        # the project's own page (from the Containers list) draws the file too
        page_of_project = ph.details.open_project(proj, [ph.all_containers.get(db)])
        tab = page_of_project.tab("Graph")
        with qtbot.waitSignal(tab.drawn, timeout=20000):
            page_of_project.show_tab("Graph")
        assert sorted(tab.graph.services) == ["api", "db", "web"] and tab.graph.from_file
    finally:
        docker_api.remove_container(db, force=True)
