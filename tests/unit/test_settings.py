"""Settings: defaults, field validation, atomic persistence in a temp config dir."""

from __future__ import annotations

import json

import pytest

from desktop.state.settings import DEFAULTS, HostLimits, Settings, SettingsError, SettingsStore, validate_field

LIMITS = HostLimits(cpus=4, memory_mib=8192, disk_free_gib=100)


def store(tmp_path) -> SettingsStore:
    return SettingsStore(tmp_path / "cfg", limits=lambda: LIMITS)


def test_defaults_without_a_file(tmp_path):
    s = store(tmp_path)
    assert s.current == Settings() == DEFAULTS
    assert s.current.theme == "system" and s.current.engines == ()
    assert not s.path.exists()  # nothing written until something changes


def test_round_trip_and_change_announced(tmp_path):
    s = store(tmp_path)
    seen = []
    s.changed.connect(lambda settings, names: seen.append((settings.theme, names)))
    s.update(theme="dark", vm_cpus="3", engines="unix:///run/a.sock\n\n tcp://127.0.0.1:2376 ")
    assert seen == [("dark", ["theme", "vm_cpus", "engines"])]
    again = store(tmp_path)
    assert again.current.theme == "dark"
    assert again.current.vm_cpus == 3
    # Lines (the older form) are read; each is kept as a named engine and saved as an object.
    assert [(e.name, e.address) for e in again.current.engines] == [("a.sock", "unix:///run/a.sock"),
                                                                    ("127.0.0.1", "tcp://127.0.0.1:2376")]
    assert json.loads(s.path.read_text())["engines"][0] == {"name": "a.sock", "address": "unix:///run/a.sock"}
    assert [p.name for p in s.path.parent.iterdir()] == ["settings.json"]  # no temp files left
    s.update(theme="dark")  # no change: no announcement
    assert len(seen) == 1


@pytest.mark.parametrize("name,value,fragment", [
    ("theme", "purple", "system, light, dark"),
    ("vm_cpus", "0", "at least 1"),
    ("vm_cpus", "5", "at most 4"),
    ("vm_cpus", "two", "whole number"),
    ("vm_memory_mib", "100", "at least 512"),
    ("vm_memory_mib", "9000", "at most 8192"),
    ("vm_disk_gib", "500", "at most 100"),
    ("engines", "http://x", "not an engine endpoint"),
    ("notifications", "yes", "on or off"),
])
def test_validation_messages(name, value, fragment):
    v, err = validate_field(name, value, LIMITS)
    assert v is None and fragment in err


def test_update_with_bad_fields_changes_nothing(tmp_path):
    s = store(tmp_path)
    with pytest.raises(SettingsError) as ei:
        s.update(theme="dark", vm_cpus="99", vm_memory_mib="12")
    assert set(ei.value.errors) == {"vm_cpus", "vm_memory_mib"}
    assert s.current == DEFAULTS and not s.path.exists()


def test_bad_stored_fields_fall_back_to_defaults(tmp_path):
    s = store(tmp_path)
    s.path.parent.mkdir(parents=True)
    s.path.write_text(json.dumps({"theme": "neon", "vm_cpus": 64, "notifications": False, "unknown": 1}))
    loaded = store(tmp_path)
    assert loaded.current.theme == "system"  # bad value: default, and the problem is kept to show
    assert "theme" in loaded.load_problems
    assert loaded.current.notifications is False
    assert loaded.current.vm_cpus == 64  # host limits apply when editing, not at load


def test_unreadable_file_gives_defaults(tmp_path):
    s = store(tmp_path)
    s.path.parent.mkdir(parents=True)
    s.path.write_text("{not json")
    loaded = store(tmp_path)
    assert loaded.current == DEFAULTS and "file" in loaded.load_problems


def test_default_dir_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert SettingsStore(limits=lambda: LIMITS).path == tmp_path / "pilothouse" / "settings.json"


def test_every_setting_is_used_somewhere():
    """A setting nobody reads is a promise the app does not keep."""
    from pathlib import Path

    from desktop.state.settings import FIELD_NAMES

    root = Path(__file__).resolve().parents[2] / "desktop"
    skip = {root / "state" / "settings.py", root / "ui" / "desk" / "settings_page.py"}
    code = "\n".join(p.read_text() for p in root.rglob("*.py") if p not in skip)
    unused = [n for n in FIELD_NAMES if f".{n}" not in code]
    assert not unused, f"settings that nothing reads: {unused}"
