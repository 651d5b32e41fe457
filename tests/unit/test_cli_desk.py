from desktop.cli import main
from desktop.engine.endpoint_input import format_engine_line, parse_engine_line


def test_saved_engine_lines_round_trip(tmp_path):
    key = tmp_path / "id"
    key.write_text("k")
    ep = parse_engine_line(f"build ssh://me@build:2222/run/docker.sock ssh_identity={key}")
    assert (ep.name, ep.host, ep.ssh_identity) == ("build", "ssh://me@build:2222/run/docker.sock", str(key))
    assert parse_engine_line(format_engine_line(ep)) == ep
    assert parse_engine_line("unix:///run/user/1000/docker.sock").name == "docker.sock"
    assert parse_engine_line("tcp://127.0.0.1:2375").name == "127.0.0.1"


def test_install_desktop_entry_flag(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["--install-desktop-entry"]) == 0
    assert str(tmp_path / "applications" / "pilothouse.desktop") in capsys.readouterr().out
