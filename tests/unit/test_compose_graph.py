"""A Compose project's graph from its containers' labels: services, conditions, layers, networks."""

from desktop.engine.records import Container, PortBinding
from desktop.state.compose_graph import build_graph, parse_depends


def c(name, svc, state="running", status="Up", depends="", ports=()):
    labels = {"com.docker.compose.project": "p", "com.docker.compose.service": svc}
    if depends:
        labels["com.docker.compose.depends_on"] = depends
    return Container(id=name * 4, name=name, image="i", image_id="", command="", created=0, state=state,
                     status=status, ports=tuple(ports), labels=labels)


def test_parse_depends():
    assert parse_depends("db:service_healthy:false,cache:service_started:true") == [
        ("db", "service_healthy"), ("cache", "service_started")]
    assert parse_depends("db") == [("db", "service_started")]
    assert parse_depends("") == []


def test_graph_layers_state_health_ports_networks():
    members = [c("p-web-1", "web", depends="api:service_started:false", ports=[PortBinding(80, "tcp", 8080)]),
               c("p-api-1", "api", depends="db:service_healthy:false,cache:service_started:false"),
               c("p-api-2", "api", state="exited", status="Exited (1)"),
               c("p-db-1", "db", status="Up 3 minutes (unhealthy)"), c("p-cache-1", "cache", state="exited")]
    g = build_graph(members, {"p-web-1" * 4: ["p_front"], "p-api-1" * 4: ["p_front", "p_back"],
                              "p-db-1" * 4: ["p_back"]})
    assert g.layers() == [["cache", "db"], ["api"], ["web"]]
    assert {(e.service, e.depends_on, e.condition) for e in g.edges} == {
        ("web", "api", "service_started"), ("api", "db", "service_healthy"), ("api", "cache", "service_started")}
    assert g.services["api"].state == "running" and g.services["cache"].state == "exited"
    assert g.services["db"].health == "unhealthy"
    assert g.services["web"].ports == ["8080→80/tcp"]
    assert g.networks == {"p_back": ["api", "db"], "p_front": ["api", "web"]}


def test_a_cycle_does_not_hang():
    g = build_graph([c("a", "a", depends="b"), c("b", "b", depends="a")])
    assert sorted(s for col in g.layers() for s in col) == ["a", "b"]
