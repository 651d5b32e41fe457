from desktop.desktop_entry import install


def test_install_writes_entry_and_icons_under_xdg_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    written = install()
    entry = tmp_path / "applications" / "pilothouse.desktop"
    assert entry in written
    text = entry.read_text()
    assert text.startswith("[Desktop Entry]") and "Exec=" in text and "Icon=pilothouse" in text
    assert (tmp_path / "icons" / "hicolor" / "512x512" / "apps" / "pilothouse.png").is_file()
    assert (tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "pilothouse.svg").is_file()
