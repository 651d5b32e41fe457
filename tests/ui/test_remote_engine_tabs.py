"""The app itself on a tcp+TLS engine and on an ssh:// engine: a container's Logs, Terminal,
Files and Stats tabs all work, over the same connection the app resolved (paramiko unimportable)."""

from __future__ import annotations

import sys

import pytest

from desktop.app import Pilothouse
from desktop.engine.endpoints import Endpoint, TLSFiles
from tests.ui.test_terminal_tab import screen_lines, type_line


def remote_endpoint(kind, request, private_engine) -> Endpoint:
    if private_engine is None:
        pytest.skip("needs the harness-managed engine")
    if kind == "tls":
        ca, cert, key = private_engine.tls_files()
        return Endpoint(private_engine.tls_host, "--host", tls=TLSFiles(ca, cert, key, verify=True))
    sshd = request.getfixturevalue("sshd")
    return Endpoint(sshd.url(str(private_engine.socket)), "--host", ssh_identity=str(sshd.client_key),
                    ssh_known_hosts=str(sshd.known_hosts))


@pytest.mark.parametrize("kind", ["tls", "ssh"])
def test_container_tabs_on_a_remote_engine(kind, request, private_engine, test_image, make_container, qtbot,
                                           aloop, await_, monkeypatch):
    monkeypatch.setitem(sys.modules, "paramiko", None)
    ep = remote_endpoint(kind, request, private_engine)
    ph = Pilothouse([ep])
    ph.window.resize(1200, 700)
    ph.window.show()
    ph.start()
    try:
        await_(ph.first_load(timeout=30))
        cid = make_container(command=("sh", "-c", "echo hello-from-logs; sleep 3600"), start=True)
        qtbot.waitUntil(lambda: ph.all_containers.get(cid) is not None, timeout=20000)
        page = ph.details.open_container(ph.all_containers.get(cid))
        logs = page.logs
        qtbot.waitUntil(lambda: any(logs.buffer.line(i)[0] == "hello-from-logs" for i in range(len(logs.buffer))),
                        timeout=20000)
        term = page.show_tab("Terminal")
        qtbot.waitUntil(lambda: term.session is not None and term.session.running, timeout=20000)
        type_line(qtbot, term, "echo $((6*7))")
        qtbot.waitUntil(lambda: "42" in screen_lines(term), timeout=10000)
        with qtbot.waitSignal(page.files.listed, timeout=20000):
            page.show_tab("Files")
        assert "etc/" in {page.files.tree.topLevelItem(i).text(0) for i in range(page.files.tree.topLevelItemCount())}
        page.tabs.setCurrentWidget(page.tab("Stats"))
        qtbot.waitUntil(lambda: ph.monitoring.stats_hub.latest(cid) is not None, timeout=20000)
        ph.details.close()
    finally:
        await_(ph.aclose())
        ph.window.close()
        ph.window.deleteLater()
