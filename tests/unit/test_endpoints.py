"""Endpoint discovery with real context files in a temporary HOME."""

import hashlib
import json

from desktop.engine.endpoints import discover, list_contexts


def write_context(home, name, host, tls=False, skip_verify=False):
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = home / ".docker" / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({
        "Name": name, "Metadata": {"Description": "test"},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_verify}},
    }))
    if tls:
        d = home / ".docker" / "contexts" / "tls" / digest / "docker"
        d.mkdir(parents=True)
        for f in ("ca.pem", "cert.pem", "key.pem"):
            (d / f).write_text("x")


def test_explicit_host_wins(tmp_path):
    eps = discover("tcp://example:2375", env={"DOCKER_HOST": "unix:///x.sock"}, home=tmp_path, platform="linux")
    assert [(e.host, e.source) for e in eps] == [("tcp://example:2375", "--host")]


def test_docker_host_with_tls_verify(tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    for f in ("ca.pem", "cert.pem", "key.pem"):
        (certs / f).write_text("x")
    eps = discover(None, env={"DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "1",
                              "DOCKER_CERT_PATH": str(certs)}, home=tmp_path, platform="linux")
    assert len(eps) == 1 and eps[0].source == "DOCKER_HOST"
    assert eps[0].tls.ca == str(certs / "ca.pem") and eps[0].tls.key == str(certs / "key.pem")


def test_docker_context_env_and_current_context(tmp_path):
    write_context(tmp_path, "remote", "tcp://10.0.0.5:2376", tls=True)
    write_context(tmp_path, "other", "unix:///other.sock")
    eps = discover(None, env={"DOCKER_CONTEXT": "remote"}, home=tmp_path, platform="linux")
    assert eps[0].host == "tcp://10.0.0.5:2376" and eps[0].source == "context remote"
    assert eps[0].tls.cert.endswith("cert.pem")
    (tmp_path / ".docker" / "config.json").write_text(json.dumps({"currentContext": "other"}))
    eps = discover(None, env={}, home=tmp_path, platform="linux")
    assert [e.host for e in eps] == ["unix:///other.sock"]
    assert {e.name for e in list_contexts(env={}, home=tmp_path)} == {"remote", "other"}


def test_docker_config_env_moves_the_config_dir(tmp_path):
    cfg = tmp_path / "elsewhere"
    write_context(tmp_path, "x", "unix:///x.sock")
    (tmp_path / ".docker").rename(cfg)
    (cfg / "config.json").write_text(json.dumps({"currentContext": "x"}))
    eps = discover(None, env={"DOCKER_CONFIG": str(cfg)}, home=tmp_path, platform="linux")
    assert eps[0].host == "unix:///x.sock"


def test_default_context_falls_back_to_platform_sockets(tmp_path):
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text(json.dumps({"currentContext": "default"}))
    rt = tmp_path / "run"
    rt.mkdir()
    (rt / "docker.sock").write_text("")  # exists: sorted first
    eps = discover(None, env={"XDG_RUNTIME_DIR": str(rt)}, home=tmp_path, platform="linux")
    hosts = [e.host for e in eps]
    assert hosts[0] == f"unix://{rt}/docker.sock"
    assert "unix:///var/run/docker.sock" in hosts


def test_platform_defaults_mac_and_windows(tmp_path):
    mac = [e.host for e in discover(None, env={}, home=tmp_path, platform="darwin")]
    assert f"unix://{tmp_path}/.docker/run/docker.sock" in mac
    assert any(".colima" in h for h in mac) and any(".orbstack" in h for h in mac)
    assert any("podman" in h for h in mac)
    win = [e.host for e in discover(None, env={}, home=tmp_path, platform="win32")]
    assert win[0] == "npipe:////./pipe/docker_engine"
