from desktop.cli import main, with_saved_engines
from desktop.engine.endpoints import Endpoint


def test_saved_engines_come_first_unless_one_was_chosen():
    found = [Endpoint("unix:///var/run/docker.sock", "default")]
    out = with_saved_engines(found, ("tcp://10.0.0.5:2375", "unix:///var/run/docker.sock"), explicit=False)
    assert [e.host for e in out] == ["tcp://10.0.0.5:2375", "unix:///var/run/docker.sock"]
    assert out[0].source == "settings"
    assert with_saved_engines(found, ("tcp://10.0.0.5:2375",), explicit=True) == found
    assert with_saved_engines(found, (), explicit=False) == found


def test_install_desktop_entry_flag(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["--install-desktop-entry"]) == 0
    assert str(tmp_path / "applications" / "pilothouse.desktop") in capsys.readouterr().out
