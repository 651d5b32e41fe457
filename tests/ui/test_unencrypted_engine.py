"""The persistent "unencrypted engine" warning (the app is built but not started: no connection
is attempted to the non-loopback address)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.app import Pilothouse
from desktop.engine.endpoints import Endpoint


def make(endpoints, extra=()):
    return Pilothouse(endpoints, extra, defer_secondary=True)


def test_plain_tcp_off_loopback_shows_a_warning_that_stays(qtbot, aloop, await_, engine_host):
    ph = make([Endpoint(engine_host, "--host")], [("build box", [Endpoint("tcp://203.0.113.7:2375", "settings")])])
    try:
        banner = ph.window.unencrypted_banner
        assert not banner.isHidden()
        assert "build box (tcp://203.0.113.7:2375)" in banner.label.text()
        assert banner.label.textFormat() == Qt.TextFormat.PlainText
        ph.connections.set_engine_count(len(ph.engines.sessions))  # any later engine change keeps it
        assert not banner.isHidden()
    finally:
        await_(ph.aclose())
        ph.window.deleteLater()


def test_local_and_loopback_engines_show_none(qtbot, aloop, await_, engine_host):
    ph = make([Endpoint(engine_host, "--host")], [("local tcp", [Endpoint("tcp://127.0.0.1:2375", "settings")])])
    try:
        assert ph.window.unencrypted_banner.isHidden()
    finally:
        await_(ph.aclose())
        ph.window.deleteLater()
