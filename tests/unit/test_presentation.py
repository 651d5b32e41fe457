from desktop.engine.records import Container
from desktop.presentation.containers import age, matches_filter, port_links, project_state, state_key, state_text


def c(state="running", status="Up 2 minutes", labels=None, name="web", ports=()):
    return Container(id="abcdef123456" + "0" * 52, name=name, image="nginx:1", image_id="sha256:x",
                     command="sh", created=0, state=state, status=status, labels=labels or {}, ports=ports)


def test_state_text_and_key():
    assert state_text(c()) == "Running"
    assert state_text(c(status="Up 1 minute (healthy)")) == "Running (healthy)"
    ex = c("exited", "Exited (137) 3 seconds ago")
    assert state_text(ex) == "Exited (137)" and state_key(ex) == "failed"
    assert state_key(c("exited", "Exited (0) 1 hour ago")) == "exited"


def test_age():
    assert age(0, 5) == "just now"
    assert age(0, 120) == "2 minutes ago"
    assert age(0, 86400) == "1 day ago"


def test_port_links():
    from desktop.engine.records import PortBinding as P

    x = c(ports=(P(80, "tcp", 8080, "0.0.0.0"), P(80, "tcp", 8080, "::"), P(53, "udp", 5353, "0.0.0.0")))
    assert port_links(x) == [("5353:53/udp", None), ("8080:80", "http://localhost:8080")]


def test_project_state():
    assert project_state([c(), c()]) == ("Running (2/2)", "running")
    assert project_state([c(), c("exited", "Exited (0) x")])[0] == "Running (1/2)"
    assert project_state([c("exited", "Exited (1) x")]) == ("Exited (with errors)", "failed")


def test_filter():
    x = c(labels={"com.docker.compose.project": "shop", "tier": "front"})
    for q in ("web", "NGINX", "abcdef", "shop", "tier", "tier=front", "front"):
        assert matches_filter(x, q), q
    assert not matches_filter(x, "db")
