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


COMPOSE = """
x-common: &common
  restart: unless-stopped
  networks: [back]
services:
  web:
    <<: *common
    image: nginx
    ports: ["8080:80", "127.0.0.1:8443:443/tcp", "9000", {target: 53, published: 5353, protocol: udp}]
    depends_on:
      api: {condition: service_healthy}
      cache: {condition: nonsense}
    networks: {front: {}, back: {}}
  api:
    <<: *common
    depends_on: [db]
    volumes: ["./src:/app:ro", "uploads:/data", "/anonymous"]
  db:
    image: postgres
    volumes: [{type: volume, source: pgdata, target: /var/lib/postgresql/data}]
  cache:
    image: redis
  metrics:
    network_mode: host
networks:
  front: {name: shop-front}
  back: {}
volumes:
  pgdata: {external: true}
  uploads: {}
"""


def test_compose_file_fields():
    from desktop.state.compose_spec import parse_compose

    spec = parse_compose(COMPOSE, "shop")
    assert list(spec.services) == ["web", "api", "db", "cache", "metrics"]
    assert spec.services["web"].depends_on == {"api": "service_healthy", "cache": "service_started"}
    assert spec.services["api"].depends_on == {"db": "service_started"}
    assert spec.services["web"].ports == ["8080→80/tcp", "8443→443/tcp", "5353→53/udp"]
    assert spec.networks_of("web") == ["shop-front", "shop_back"]
    assert spec.networks_of("api") == ["shop_back"]  # from the anchor
    assert spec.networks_of("db") == ["shop_default"] and spec.networks_of("metrics") == []
    assert [(v.name, v.kind) for v in spec.volumes_of("api")] == [("./src", "bind"), ("shop_uploads", "volume")]
    assert [v.name for v in spec.volumes_of("db")] == ["pgdata"]  # external: its own name


def test_hostile_or_broken_files_are_explained():
    import pytest

    from desktop.state.compose_spec import ComposeSpecError, parse_compose

    for text, words in (("services: [", "not valid YAML"), ("- a\n- b", "mapping of services"),
                        ("!!python/object/apply:os.system ['true']", "not valid YAML")):
        with pytest.raises(ComposeSpecError, match=words):
            parse_compose(text, "p")
    # an alias bomb is built as shared references, and only a few typed fields are read
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9))
    spec = parse_compose(bomb + "services:\n  s:\n    ports: *j\n    volumes: *j\n    depends_on: *j\n", "p")
    assert spec.services["s"].ports == [] and spec.services["s"].depends_on == {}


def test_graph_of_a_partly_running_project_from_its_file():
    from desktop.state.compose_spec import parse_compose

    spec = parse_compose(COMPOSE, "shop")
    running = c("shop-db-1", "db")
    running.labels["com.docker.compose.project"] = "shop"
    g = build_graph([running], {running.id: ["shop_default"]}, spec=spec)
    assert g.from_file
    assert sorted(g.services) == ["api", "cache", "db", "metrics", "web"]
    assert g.services["web"].state == "missing" and g.services["db"].state == "running"
    assert g.layers() == [["cache", "db", "metrics"], ["api"], ["web"]]
    assert ("web", "api", "service_healthy") in {(e.service, e.depends_on, e.condition) for e in g.edges}
    assert g.services["web"].ports == ["8080→80/tcp", "8443→443/tcp", "5353→53/udp"]
    assert g.networks == {"shop-front": ["web"], "shop_back": ["api", "web"], "shop_default": ["cache", "db"]}
    assert g.volumes == {"./src": ["api"], "pgdata": ["db"], "shop_uploads": ["api"]}
    assert g.bind_mounts == {"./src"}
