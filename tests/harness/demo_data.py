"""Demo data for the page-fit tests and the README screenshots: what a real engine holds on a
busy day, with hostile-but-legal parts (very long names, long image references, non-ASCII label
values, a Compose service scaled to several replicas, exits with odd codes)."""

from __future__ import annotations

import docker

from tests.harness.private_engine import TEST_IMAGE

DEMO_LABEL = "pilothouse.demo"
LONG = "a-container-name-that-goes-on-and-on-far-beyond-any-column-width-with-hyphens-and-digits-0123456789"
LONG_PROJECT = "customer-portal-with-an-extremely-long-compose-project-name"
LONG_TAG = "registry.internal.example:5000/team-platform/observability/metrics-collector-agent:2026.11.30-rc.7"


def _labels(extra=None):
    return {DEMO_LABEL: "1", **(extra or {})}


def populate(host: str, hostile: bool = True) -> list[str]:
    """Create the demo containers (and, with `hostile`, long names, volumes and networks).
    Returns the container ids. Everything carries the DEMO_LABEL label."""
    api = docker.APIClient(base_url=host, version="auto", timeout=60)
    made: list[str] = []

    def run(name, command, start=True, labels=None, ports=None, pause=False, image=TEST_IMAGE):
        hc = api.create_host_config(port_bindings=ports or None)
        c = api.create_container(image, command=command, name=name, labels=_labels(labels),
                                 ports=list(ports) if ports else None, host_config=hc, stop_signal="SIGKILL")
        made.append(c["Id"])
        if start:
            api.start(c["Id"])
        if pause:
            api.pause(c["Id"])
        return c["Id"]

    def compose(project, service, number, **kw):
        labels = {"com.docker.compose.project": project, "com.docker.compose.service": service,
                  "com.docker.compose.container-number": str(number), "com.docker.compose.oneoff": "False"}
        return run(f"{project}-{service}-{number}", ["sleep", "86400"], labels=labels, **kw)

    run("web", ["httpd", "-f", "-p", "80", "-h", "/var/www"], ports={80: 48080})
    run("worker", ["sleep", "86400"])
    run("nightly-backup", ["sh", "-c", "exit 3"])
    run("scratchpad", ["sleep", "86400"], start=False)
    run("batch-job", ["sleep", "86400"], pause=True)
    compose("shop", "frontend", 1, ports={43000: 43000})
    compose("shop", "api", 1, ports={45000: 45000})
    for n in (1, 2, 3):
        compose("shop", "worker", n)
    compose("shop", "cache", 1)
    if hostile:
        api.tag(TEST_IMAGE, LONG_TAG.rsplit(":", 1)[0], LONG_TAG.rsplit(":", 1)[1])
        run(LONG, ["sleep", "86400"], image=LONG_TAG, labels={"description": "naïve café — 東京 ✓ <b>not bold</b>"})
        run("exit-255-" + LONG[:40], ["sh", "-c", "exit 255"])
        compose(LONG_PROJECT, "a-service-with-a-long-name-too", 1)
        compose(LONG_PROJECT, "a-service-with-a-long-name-too", 2)
        api.create_volume("volume-" + LONG[:80], labels=_labels())
        api.create_network("network-" + LONG[:50], labels=_labels())
    api.close()
    return made


def clear(host: str) -> None:
    """Remove what populate made."""
    api = docker.APIClient(base_url=host, version="auto", timeout=60)
    try:
        for c in api.containers(all=True, filters={"label": DEMO_LABEL}):
            api.remove_container(c["Id"], force=True)
        for v in api.volumes(filters={"label": DEMO_LABEL}).get("Volumes") or []:
            api.remove_volume(v["Name"], force=True)
        for n in api.networks(filters={"label": DEMO_LABEL}):
            api.remove_network(n["Id"])
        try:
            api.remove_image(LONG_TAG)
        except docker.errors.NotFound:
            pass
    finally:
        api.close()
