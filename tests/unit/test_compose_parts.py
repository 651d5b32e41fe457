"""Qt-free Compose pieces: argv building, environment, project naming, service listing, the runner."""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys

from desktop.engine.compose import ComposeRun, ComposeTarget, engine_env, verb_args
from desktop.engine.endpoints import Endpoint, TLSFiles
from desktop.state.compose_projects import declared_services, project_name_for


def test_target_and_verbs_are_argv_lists():
    t = ComposeTarget("shop", ("/p/compose.yaml", "/p/override.yaml"), "/p")
    assert t.args() == ["-p", "shop", "-f", "/p/compose.yaml", "-f", "/p/override.yaml", "--project-directory", "/p"]
    assert verb_args("up") == ["up", "--detach", "--build", "--remove-orphans"]
    assert verb_args("down", volumes=True)[-1] == "--volumes"
    assert "--volumes" not in verb_args("down")
    assert "--follow" in verb_args("logs")


def test_env_points_at_the_engine_only():
    base = {"PATH": "/bin", "DOCKER_HOST": "tcp://elsewhere:2375", "DOCKER_CONTEXT": "other", "SECRET": "x"}
    env = engine_env(Endpoint("unix:///tmp/e.sock", "--host"), base)
    assert env["DOCKER_HOST"] == "unix:///tmp/e.sock" and "DOCKER_CONTEXT" not in env
    assert env["PATH"] == "/bin"
    tls = engine_env(Endpoint("tcp://h:2376", "ctx", tls=TLSFiles("/c/ca.pem", "/c/cert.pem", "/c/key.pem")), base)
    assert tls["DOCKER_TLS_VERIFY"] == "1" and tls["DOCKER_CERT_PATH"] == "/c"


def test_project_name_and_declared_services(tmp_path):
    d = tmp_path / "My Shop.v2"
    d.mkdir()
    f = d / "compose.yaml"
    f.write_text("version: '3'\nservices:\n  web:\n    image: x\n    ports:\n      - 80\n  'db':\n    image: y\n"
                 "volumes:\n  data:\n")
    assert project_name_for(f) == "myshopv2"
    assert declared_services(f) == ("web", "db")
    assert declared_services(tmp_path / "missing.yaml") == ()


def test_runner_streams_lines_and_cancels():
    async def main():
        lines: list[str] = []
        script = "import sys, time\nfor i in range(3): print('line', i, flush=True)\ntime.sleep(60)\n"
        run = ComposeRun([sys.executable, "-c", script], {"PATH": "/usr/bin:/bin"}, None, lines.append)
        deadline = asyncio.get_running_loop().time() + 20
        while len(lines) < 3 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        assert lines == ["line 0", "line 1", "line 2"]
        assert run.running
        run.cancel()
        code = await asyncio.wait_for(run.wait(), 10)
        assert code != 0 and run.cancelled

        failed = ComposeRun(["/nonexistent/compose"], {}, None, lines.append)
        assert await asyncio.wait_for(failed.wait(), 10) == 127
        assert lines[-1].startswith("Could not run /nonexistent/compose")

    # a thread of its own: UI tests may leave a qasync loop marked running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        ex.submit(asyncio.run, main()).result(timeout=60)
