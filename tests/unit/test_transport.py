"""Which engines are reached in clear, from every place an address comes from; DOCKER_TLS."""

from __future__ import annotations

import hashlib
import json

from desktop.engine.endpoints import Endpoint, TLSFiles, discover
from desktop.engine.transport import is_unencrypted_remote, unencrypted_engines


def test_plain_tcp_off_loopback_from_host_env_and_context(tmp_path):
    explicit = discover("tcp://10.1.2.3:2375", env={}, home=tmp_path, platform="linux")
    env = discover(None, env={"DOCKER_HOST": "tcp://build-box:2375"}, home=tmp_path, platform="linux")
    cfg = tmp_path / ".docker"
    digest = hashlib.sha256(b"remote").hexdigest()
    meta = cfg / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({"Name": "remote", "Endpoints": {"docker": {"Host": "tcp://[2001:db8::1]:2375"}}}))
    ctx = discover(None, env={"DOCKER_CONTEXT": "remote"}, home=tmp_path, platform="linux")
    for eps in (explicit, env, ctx):
        assert len(eps) == 1 and is_unencrypted_remote(eps[0]), eps


def test_loopback_sockets_tls_and_ssh_are_not_flagged():
    for host in ("tcp://127.0.0.1:2375", "tcp://localhost:2375", "tcp://[::1]:2375", "unix:///var/run/docker.sock",
                 "ssh://me@far-away", "npipe:////./pipe/docker_engine"):
        assert not is_unencrypted_remote(Endpoint(host, "--host")), host
    assert not is_unencrypted_remote(Endpoint("tcp://10.0.0.1:2376", "--host", tls=TLSFiles(None, None, None)))


def test_names_for_the_banner():
    engines = [("host", [Endpoint("unix:///run/docker.sock", "default")]),
               ("build", [Endpoint("tcp://10.0.0.9:2375", "settings")]),
               ("tcp://10.0.0.8:2375", [Endpoint("tcp://10.0.0.8:2375", "--host")])]
    assert unencrypted_engines(engines) == ["build (tcp://10.0.0.9:2375)", "tcp://10.0.0.8:2375"]


def test_docker_tls_without_verify(tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "cert.pem").write_text("x")
    (certs / "key.pem").write_text("x")
    ep, = discover(None, env={"DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS": "1", "DOCKER_CERT_PATH": str(certs)},
                   home=tmp_path, platform="linux")
    assert ep.tls is not None and ep.tls.verify is False and ep.tls.cert == str(certs / "cert.pem")
    assert not is_unencrypted_remote(ep)
    ep, = discover(None, env={"DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)},
                   home=tmp_path, platform="linux")
    assert ep.tls.verify is True
    ep, = discover(None, env={"DOCKER_HOST": "tcp://h:2375"}, home=tmp_path, platform="linux")
    assert ep.tls is None and is_unencrypted_remote(ep)
