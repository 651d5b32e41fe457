"""Run the installed Compose (`docker compose` plugin, else `docker-compose`) against an engine.

Compose is a separate program: we run it as a subprocess with an argv list (never a shell),
with DOCKER_HOST (and TLS variables) pointing at the engine, and stream its merged output line
by line from a worker thread to the loop. A run is cancelled by terminating the process.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop.engine.endpoints import Endpoint
from desktop.system_programs import system_program_env

INSTALL_HINT = ("Compose is not installed. Install the Docker Compose plugin (Debian/Ubuntu: "
                "“sudo apt install docker-compose-plugin” from Docker's repository, or see "
                "https://docs.docker.com/compose/install/) or the standalone “docker-compose” "
                "(“sudo apt install docker-compose”), then reopen this page.")

_VERSION_RE = re.compile(r"(\d+\.\d+\.\d+)")


@dataclass(frozen=True)
class ComposeTool:
    """How to invoke Compose here: the argv prefix and its version."""

    argv: tuple[str, ...]
    version: str

    @property
    def label(self) -> str:
        return f"{' '.join(Path(self.argv[0]).name if i == 0 else a for i, a in enumerate(self.argv))} {self.version}"

    @property
    def is_v1(self) -> bool:
        return self.version.startswith("1.")


def _version_of(argv: Sequence[str]) -> str | None:
    try:
        out = subprocess.run([*argv, "version"], capture_output=True, text=True, timeout=20,
                             stdin=subprocess.DEVNULL, env=system_program_env())
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    m = _VERSION_RE.search(out.stdout)
    return m.group(1) if m else "unknown"


def find_compose(path: str | None = None) -> ComposeTool | None:
    """The `docker compose` plugin if the docker CLI has it, else `docker-compose`; None if neither.

    Blocking (runs `version`): call it in an executor.
    """
    docker = shutil.which("docker", path=path)
    if docker:
        v = _version_of([docker, "compose"])
        if v:
            return ComposeTool((docker, "compose"), v)
    standalone = shutil.which("docker-compose", path=path)
    if standalone:
        v = _version_of([standalone])
        if v:
            return ComposeTool((standalone,), v)
    return None


def engine_env(endpoint: Endpoint, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for Compose: ours, with the engine's endpoint replacing any DOCKER_* choice."""
    env = system_program_env(base)
    for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        env.pop(k, None)
    env["DOCKER_HOST"] = endpoint.host
    if endpoint.tls is not None:
        paths = [p for p in (endpoint.tls.ca, endpoint.tls.cert, endpoint.tls.key) if p]
        if paths:
            env["DOCKER_CERT_PATH"] = str(Path(paths[0]).parent)
        if endpoint.tls.verify:
            env["DOCKER_TLS_VERIFY"] = "1"
    # Plain output: the page is not a terminal.
    env["COMPOSE_ANSI"] = "never"
    env["NO_COLOR"] = "1"
    env.setdefault("COMPOSE_PROGRESS", "plain")
    return env


@dataclass(frozen=True)
class ComposeTarget:
    """Which project a command is about: its name and, when known, its files and directory."""

    name: str
    config_files: tuple[str, ...] = ()
    working_dir: str | None = None

    def args(self) -> list[str]:
        a = ["-p", self.name]
        for f in self.config_files:
            a += ["-f", f]
        if self.working_dir:
            a += ["--project-directory", self.working_dir]
        return a

    def files_exist(self) -> bool:
        return bool(self.config_files) and all(Path(f).is_file() for f in self.config_files)


def verb_args(verb: str, *, volumes: bool = False, follow: bool = True, tail: int = 200) -> list[str]:
    """The sub-command for a page action."""
    if verb == "up":
        return ["up", "--detach", "--build", "--remove-orphans"]
    if verb == "down":
        return ["down", "--remove-orphans"] + (["--volumes"] if volumes else [])
    if verb == "restart":
        return ["restart"]
    if verb == "pull":
        return ["pull"]
    if verb == "logs":
        return ["logs", "--no-color", "--timestamps", f"--tail={tail}"] + (["--follow"] if follow else [])
    raise ValueError(f"unknown compose action {verb!r}")


class ComposeRun:
    """One running Compose process; `await run.wait()` gives its exit code; `cancel()` stops it."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], cwd: str | None,
                 on_line: Callable[[str], None]) -> None:
        self.argv = list(argv)
        self._env = dict(env)
        self._cwd = cwd if cwd and Path(cwd).is_dir() else None
        self._on_line = on_line
        self._proc: subprocess.Popen | None = None
        self.cancelled = False
        self._lock = threading.Lock()
        self._loop = asyncio.get_running_loop()
        self._done: asyncio.Future[int] = self._loop.create_future()
        self._thread = threading.Thread(target=self._pump, name="compose-run", daemon=True)
        self._thread.start()

    def _deliver(self, line: str) -> None:
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._on_line, line)

    def _finish(self, code: int) -> None:
        def set_it() -> None:
            if not self._done.done():
                self._done.set_result(code)

        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(set_it)

    def _pump(self) -> None:
        try:
            with self._lock:
                if self.cancelled:
                    self._finish(-1)
                    return
                self._proc = subprocess.Popen(
                    self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                    env=self._env, cwd=self._cwd, start_new_session=True)
            assert self._proc.stdout is not None
            for raw in self._proc.stdout:
                self._deliver(raw.decode("utf-8", "replace").rstrip("\r\n"))
            code = self._proc.wait()
        except OSError as exc:
            self._deliver(f"Could not run {self.argv[0]}: {exc.strerror or exc}")
            code = 127
        self._finish(code)

    def cancel(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 5 s); wait() then returns its code."""
        with self._lock:
            self.cancelled = True
            proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()

        def reap() -> None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()

        threading.Thread(target=reap, name="compose-reap", daemon=True).start()

    @property
    def running(self) -> bool:
        return not self._done.done()

    async def wait(self) -> int:
        return await asyncio.shield(self._done)


def start(tool: ComposeTool, endpoint: Endpoint, target: ComposeTarget, sub: Sequence[str],
          on_line: Callable[[str], None]) -> ComposeRun:
    """Start `compose <target args> <sub>` against the engine; call from the loop's thread."""
    argv = [*tool.argv, *target.args(), *sub]
    return ComposeRun(argv, engine_env(endpoint), target.working_dir, on_line)
