"""How clients reach the VM's dockerd: TLS settings for the docker SDK and a docker context."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import docker
from docker.tls import TLSConfig

from desktop.vm.tls import TLSFiles

CONTEXT_NAME = "pilothouse"


def docker_host(port: int) -> str:
    return f"tcp://127.0.0.1:{port}"


def tls_config(tls: TLSFiles) -> TLSConfig:
    """Mutual TLS: our client certificate, and only the VM's own CA is trusted."""
    return TLSConfig(client_cert=(str(tls.client_cert), str(tls.client_key)), ca_cert=str(tls.ca_cert), verify=True)


def docker_client_kwargs(port: int, tls: TLSFiles) -> dict:
    """kwargs for docker.APIClient / docker.DockerClient. Prefer api_client(): see there why."""
    return {"base_url": docker_host(port), "tls": tls_config(tls)}


class _VMAPIClient(docker.APIClient):
    # requests lets REQUESTS_CA_BUNDLE (and proxy variables) override the session's CA, which
    # would replace the VM's CA with the system bundle; the VM is loopback-only, so ignore env.
    def _retrieve_server_version(self):
        self.trust_env = False
        return super()._retrieve_server_version()


def api_client(port: int, tls: TLSFiles, **kwargs) -> docker.APIClient:
    """A low-level docker client for the VM engine (trust_env off, so the VM CA is used)."""
    kwargs.setdefault("version", "auto")
    client = _VMAPIClient(**docker_client_kwargs(port, tls), **kwargs)
    client.trust_env = False
    return client


def _context_id(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def write_docker_context(config_dir: Path, port: int, tls: TLSFiles, name: str = CONTEXT_NAME) -> Path:
    """Write (or update) the docker CLI context so `docker --context pilothouse` reaches the VM."""
    cid = _context_id(name)
    meta_dir = config_dir / "contexts" / "meta" / cid
    tls_dir = config_dir / "contexts" / "tls" / cid / "docker"
    meta_dir.mkdir(parents=True, exist_ok=True)
    tls_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(tls_dir.parent, 0o700)
    os.chmod(tls_dir, 0o700)
    meta = {"Name": name, "Metadata": {"Description": "Pilothouse VM"},
            "Endpoints": {"docker": {"Host": docker_host(port), "SkipTLSVerify": False}}}
    (meta_dir / "meta.json").write_text(json.dumps(meta))
    for src, dst in ((tls.ca_cert, "ca.pem"), (tls.client_cert, "cert.pem"), (tls.client_key, "key.pem")):
        shutil.copyfile(src, tls_dir / dst)
    os.chmod(tls_dir / "key.pem", 0o600)
    return meta_dir / "meta.json"


def remove_docker_context(config_dir: Path, name: str = CONTEXT_NAME) -> None:
    cid = _context_id(name)
    shutil.rmtree(config_dir / "contexts" / "meta" / cid, ignore_errors=True)
    shutil.rmtree(config_dir / "contexts" / "tls" / cid, ignore_errors=True)
