"""Every second connection to an engine goes through one factory, which dials what the client
resolved; no module opens an SDK client of its own on the typed address."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from desktop.engine.client import make_api_client
from desktop.engine.endpoints import Endpoint

ROOT = Path(__file__).resolve().parents[2] / "desktop"
# Where clients may be made: the factory and the connection itself; the VM's own TLS client.
ALLOWED = {"engine/client.py", "engine/stream_clients.py", "vm/engine_access.py"}


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name == "from_env" and isinstance(f, ast.Attribute) and not (
                    isinstance(f.value, ast.Name) and f.value.id == "docker"):
                continue  # another class's from_env (the VM build's archive Sources), not docker's
            yield name, node.lineno
        elif isinstance(node, ast.Name) and node.id == "make_api_client" and isinstance(node.ctx, ast.Load):
            yield "make_api_client", node.lineno  # passed to run(...) as a callable


def test_no_module_opens_its_own_engine_client():
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel in ALLOWED:
            continue
        for name, line in _calls(ast.parse(path.read_text())):
            if name in ("make_api_client", "APIClient", "DockerClient", "from_env"):
                offenders.append(f"{rel}:{line} {name}")
    assert not offenders, "open connections through desktop.engine.stream_clients: " + ", ".join(offenders)


def test_ssh_addresses_are_never_handed_to_the_sdk():
    with pytest.raises(ValueError, match="tunnel"):
        make_api_client(Endpoint("ssh://me@127.0.0.1", "--host"), version="1.41")


def test_engine_clients_ignore_proxy_variables(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    api = make_api_client(Endpoint("tcp://127.0.0.1:2375", "--host"), version="1.41")
    try:
        assert api.trust_env is False
        assert api.merge_environment_settings(api.base_url, {}, None, None, None)["proxies"] == {}
    finally:
        api.close()


def test_docker_cli_gets_the_resolved_endpoint_and_tls_and_no_proxies():
    from desktop.engine.client import EngineClient
    from desktop.engine.endpoints import TLSFiles
    from desktop.engine.stream_clients import docker_cli_args, docker_cli_env

    client = EngineClient([Endpoint("tcp://10.0.0.5:2376", "--host", tls=TLSFiles("/c/ca.pem", "/c/cert.pem", "/c/key.pem"))])
    client.api_endpoint = client.endpoints[0]
    client._api = object()  # connected, as far as the factory can tell
    assert docker_cli_args(client) == ["--host", "tcp://10.0.0.5:2376", "--tlsverify", "--tlscacert", "/c/ca.pem",
                                       "--tlscert", "/c/cert.pem", "--tlskey", "/c/key.pem"]
    env = docker_cli_env({"PATH": "/bin", "DOCKER_HOST": "tcp://elsewhere", "HTTPS_PROXY": "http://proxy:3128",
                          "DOCKER_CONFIG": "/cfg"})
    assert env == {"PATH": "/bin", "DOCKER_CONFIG": "/cfg"}
    client._api = None
    client._executor.shutdown()
