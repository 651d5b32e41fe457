"""Pure swarm pieces: form validation, spec building, presentation, log-line parsing."""

from __future__ import annotations

import pytest

from desktop.engine.run_request import FormErrors
from desktop.engine.specs import SpecError
from desktop.engine.swarm import task_problem
from desktop.engine.swarm_logs import parse_service_log_line
from desktop.engine.swarm_records import JoinTokens, SwarmNode, SwarmService, SwarmTask
from desktop.engine.swarm_specs import (parse_advertise_addr, parse_constraint, parse_memory, parse_service_form,
                                        service_spec)
from desktop.engine.swarm_stacks import deploy_argv, parse_stack_name
from desktop.presentation.swarm import drain_summary, mask_token, update_progress


def test_service_form_collects_every_error():
    with pytest.raises(FormErrors) as err:
        parse_service_form({"name": "no spaces", "image": "UPPER", "replicas": "-1", "ports": "1.2.3.4:80:80",
                            "constraints": "zone=eu", "memory": "1k", "cpus": "lots"})
    assert set(err.value.errors) == {"name", "image", "replicas", "ports", "constraints", "memory", "cpus"}


def test_service_spec_from_form():
    req = parse_service_form({"name": "web", "image": "nginx:1.27", "replicas": "3", "ports": "8080:80\n53/udp host",
                              "env": "A=1", "mounts": "data:/data:ro", "constraints": "node.role==worker",
                              "cpus": "0.5", "memory": "256m", "command": "nginx -g 'daemon off;'"})
    spec = service_spec(req)
    assert spec["Mode"] == {"Replicated": {"Replicas": 3}}
    assert spec["EndpointSpec"]["Ports"] == [
        {"Protocol": "tcp", "TargetPort": 80, "PublishMode": "ingress", "PublishedPort": 8080},
        {"Protocol": "udp", "TargetPort": 53, "PublishMode": "host"}]
    tt = spec["TaskTemplate"]
    assert tt["Placement"] == {"Constraints": ["node.role==worker"]}
    assert tt["Resources"]["Limits"] == {"NanoCPUs": 500_000_000, "MemoryBytes": 256 * 2**20}
    assert tt["ContainerSpec"]["Command"] == ["nginx", "-g", "daemon off;"]
    assert tt["ContainerSpec"]["Mounts"] == [{"Type": "volume", "Source": "data", "Target": "/data", "ReadOnly": True}]
    assert parse_service_form({"name": "g", "image": "x", "mode": "global", "replicas": "nonsense"}).mode == "global"


@pytest.mark.parametrize("text, words", [("127.0.0.1", "loopback"), ("0.0.0.0", "not one address"),
                                         ("", "Enter the address"), ("10.0.0.1:99999", "between 1 and 65535"),
                                         ("not an address!", "not an IP address")])
def test_advertise_address_refusals(text, words):
    with pytest.raises(SpecError) as err:
        parse_advertise_addr(text)
    assert words in str(err.value)


def test_advertise_address_accepted():
    assert parse_advertise_addr(" 192.168.1.10:2377 ") == "192.168.1.10:2377"
    assert parse_advertise_addr("eth0") == "eth0"
    assert parse_advertise_addr("[fd00::1]:2377") == "[fd00::1]:2377"
    with pytest.raises(SpecError):
        parse_advertise_addr("10.1.1.1", local_addresses=("10.1.1.2",))


def test_small_parsers():
    assert parse_constraint("node.labels.zone != eu") == "node.labels.zone!=eu"
    assert parse_memory("1.5g") == int(1.5 * 2**30)
    assert parse_stack_name("shop") == "shop"
    with pytest.raises(SpecError):
        parse_stack_name("-x")
    argv = deploy_argv("/usr/bin/docker", "shop", "/tmp/c.yml", resolve_image="never")
    assert argv == ["/usr/bin/docker", "stack", "deploy", "--compose-file", "/tmp/c.yml", "--resolve-image", "never",
                    "--with-registry-auth", "shop"]


def _task(tid, slot, image, state="running", desired="running", node="n1", updated="2026-01-01T00:00:01Z", err=""):
    return SwarmTask(tid, "e", "s1", node, slot, state, desired, error=err, image=image, updated=updated)


def test_update_progress_counts_newest_task_per_slot():
    svc = SwarmService("s1", "e", "web", "replicated", 3, "app:v2", update_state="updating")
    tasks = [_task("a", 1, "app:v1", "shutdown", "shutdown"), _task("b", 1, "app:v2", updated="2026-01-01T00:00:02Z"),
             _task("c", 2, "app:v2", "starting"), _task("d", 3, "app:v1")]
    p = update_progress(svc, tasks)
    assert (p.updated, p.total, p.active) == (1, 3, True)
    assert [(s.slot, s.updated) for s in p.slots] == [("1", True), ("2", False), ("3", False)]


def test_join_line_and_mask():
    t = JoinTokens("SWMTKN-1-abc-worker", "SWMTKN-1-abc-manager", "10.0.0.2:2377")
    assert t.join_command("worker") == "docker swarm join --token SWMTKN-1-abc-worker 10.0.0.2:2377"
    assert "worker" not in mask_token(t.worker)


def test_drain_summary_names_tasks():
    node = SwarmNode("n1", "e", "box1", "worker", "active", "ready")
    text = drain_summary(node, [_task("a", 1, "x"), _task("b", 2, "x", node="n2")], {"s1": "web"})
    assert text == "Drain box1? Its 1 task (web.1) will be stopped there and started on other nodes."


def test_task_problem_sentences():
    t = _task("a", 1, "app:v3", "rejected", "shutdown", err='No such image: app:v3')
    assert task_problem(t, "box2").startswith("The image app:v3 is not on node box2")
    t = _task("a", 1, "x", "pending", err="no suitable node (scheduling constraints not satisfied on 3 nodes)")
    assert "No node can run this task" in task_problem(t)


def test_service_log_line():
    ln = parse_service_log_line("2026-12-01T08:53:37.206242530Z com.docker.swarm.node.id=N,"
                                "com.docker.swarm.service.id=S,com.docker.swarm.task.id=T hello world")
    assert (ln.text, ln.node_id, ln.task_id, ln.timestamp[:4]) == ("hello world", "N", "T", "2026")
