"""Stacks: services grouped by the `com.docker.stack.namespace` label, deployed and removed
through the installed docker CLI's `stack` command (the engine API has no stack call: the CLI
turns the Compose file into networks, secrets, configs and services)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from desktop.engine.compose import ComposeRun, engine_env
from desktop.engine.endpoints import Endpoint
from desktop.engine.specs import SpecError
from desktop.engine.swarm_records import SwarmSecret, SwarmService

CLI_MISSING = ("The docker command-line tool is not installed; stacks are deployed with "
               "`docker stack deploy`. Install the docker CLI (Debian/Ubuntu: “sudo apt install docker.io” "
               "or docker-ce-cli), then try again.")
_STACK_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$")
RESOLVE_IMAGE = ("always", "changed", "never")


@dataclass(frozen=True)
class Stack:
    name: str
    engine_id: str
    services: tuple[str, ...]  # service names
    secrets: int = 0
    configs: int = 0


def group_stacks(services: Iterable[SwarmService], secrets: Iterable[SwarmSecret] = (),
                 engine_id: str = "") -> list[Stack]:
    """Stacks by name, from the namespace label the CLI puts on everything it deploys."""
    svc: dict[str, list[str]] = {}
    for s in services:
        if s.stack:
            svc.setdefault(s.stack, []).append(s.name)
    counts: dict[str, list[int]] = {}
    for x in secrets:
        if x.stack:
            c = counts.setdefault(x.stack, [0, 0])
            c[0 if x.kind == "secret" else 1] += 1
    names = sorted(set(svc) | set(counts))
    return [Stack(n, engine_id, tuple(sorted(svc.get(n, ()))), *counts.get(n, [0, 0])) for n in names]


def parse_stack_name(text: str) -> str:
    s = text.strip()
    if not _STACK_NAME_RE.match(s):
        raise SpecError("A stack name is letters, digits, '-' and '_', starting with a letter or digit.")
    return s


def docker_cli(path: str | None = None) -> str | None:
    return shutil.which("docker", path=path)


def deploy_argv(cli: str, name: str, compose_file: str, *, resolve_image: str = "always",
                prune: bool = False, with_registry_auth: bool = True) -> list[str]:
    if resolve_image not in RESOLVE_IMAGE:
        raise ValueError(f"resolve_image is one of {RESOLVE_IMAGE}")
    argv = [cli, "stack", "deploy", "--compose-file", compose_file, "--resolve-image", resolve_image]
    if prune:
        argv.append("--prune")
    if with_registry_auth:
        argv.append("--with-registry-auth")
    return [*argv, name]


def remove_argv(cli: str, name: str) -> list[str]:
    return [cli, "stack", "rm", name]


def start_deploy(endpoint: Endpoint, name: str, compose_file: str, on_line: Callable[[str], None], *,
                 resolve_image: str = "always", prune: bool = False, cli: str | None = None) -> ComposeRun:
    """Run `docker stack deploy` against the engine, streaming its output; call from the loop's thread."""
    cli = cli or docker_cli()
    if cli is None:
        raise FileNotFoundError(CLI_MISSING)
    name = parse_stack_name(name)
    if not Path(compose_file).is_file():
        raise SpecError(f"{compose_file} is not a file.")
    argv = deploy_argv(cli, name, compose_file, resolve_image=resolve_image, prune=prune)
    return ComposeRun(argv, engine_env(endpoint), str(Path(compose_file).parent), on_line)


def start_remove(endpoint: Endpoint, name: str, on_line: Callable[[str], None], cli: str | None = None) -> ComposeRun:
    cli = cli or docker_cli()
    if cli is None:
        raise FileNotFoundError(CLI_MISSING)
    return ComposeRun(remove_argv(cli, parse_stack_name(name)), engine_env(endpoint), None, on_line)
