"""Engines saved in Settings: the JSON object form, the older line form still read, paths with
spaces, missing files kept (checked when used), and which engine the window opens on."""

from __future__ import annotations

import json

import pytest

from desktop.engine.endpoint_input import FieldError
from desktop.engine.endpoints import Endpoint
from desktop.engine.saved_engines import SavedEngine
from desktop.state import startup
from desktop.state.settings import SettingsStore, validate_field


def test_old_lines_and_new_objects_read_alike(tmp_path):
    key = tmp_path / "my keys" / "id ed25519"  # spaces: the line form could not hold this path
    key.parent.mkdir()
    key.write_text("k")
    old = SavedEngine.parse("build ssh://me@build:2222 ssh_identity=/x/id")
    assert (old.name, old.address, old.ssh_identity) == ("build", "ssh://me@build:2222", "/x/id")
    new = SavedEngine.parse({"name": "build", "address": "ssh://me@build:2222", "ssh_identity": str(key)})
    assert new.endpoint().ssh_identity == str(key)
    assert SavedEngine.parse(new.to_dict()) == new
    assert new.to_dict() == {"name": "build", "address": "ssh://me@build:2222", "ssh_identity": str(key)}
    assert SavedEngine.parse("/run/user/1000/docker.sock").address == "unix:///run/user/1000/docker.sock"


def test_missing_files_are_kept_but_reported_when_used(tmp_path):
    entry = SavedEngine.parse({"name": "ci", "address": "tcp://ci.example:2376", "tls_ca": "/gone/ca.pem",
                               "tls_cert": "/gone/cert.pem", "tls_key": "/gone/key.pem"})
    assert entry.kind == "TCP with TLS" and entry.details() == "CA ca.pem, certificate cert.pem, key key.pem"
    with pytest.raises(FieldError) as ei:
        entry.endpoint()
    assert ei.value.field == "tls_ca" and "/gone/ca.pem" in str(ei.value)


@pytest.mark.parametrize("value,fragment", [
    ([{"name": "a", "address": "ftp://x"}], "not an engine endpoint"),
    ([{"name": "a", "address": "unix:///a.sock", "colour": "red"}], "“colour” is not something"),
    ([{"name": "a", "address": "unix:///a.sock"}, {"name": "a", "address": "unix:///b.sock"}], "Two engines are named a"),
    ([{"name": "a b", "address": "unix:///a.sock"}], "Use letters, digits"),
    ([{"name": "a", "address": "tcp://far.example:2375"}], "needs TLS"),
])
def test_bad_entries_say_what_is_wrong(value, fragment):
    v, err = validate_field("engines", value)
    assert v is None and fragment in err, err


def test_saved_file_is_readable_json_and_old_files_still_load(tmp_path):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "settings.json").write_text(json.dumps({"engines": ["build unix:///run/build.sock"]}))
    s = SettingsStore(cfg)
    assert s.current.engines == (SavedEngine("build", "unix:///run/build.sock"),) and not s.load_problems
    s.update(primary_engine="build")
    saved = json.loads((cfg / "settings.json").read_text())
    assert saved["engines"] == [{"name": "build", "address": "unix:///run/build.sock"}]
    assert saved["primary_engine"] == "build"


def test_the_primary_engine_comes_first_and_the_discovered_one_is_followed_beside_it(monkeypatch):
    monkeypatch.setattr(startup, "list_contexts", lambda: [])
    found = [Endpoint("unix:///var/run/docker.sock", "default")]
    saved = (SavedEngine("build", "unix:///run/build.sock"), SavedEngine("ci", "unix:///run/ci.sock"))
    first, extras = startup.choose_primary(found, saved, "build")
    assert [e.host for e in first] == ["unix:///run/build.sock"] and startup.engine_name(first) == "build"
    assert [(n, eps[0].host) for n, eps in extras] == [("local", "unix:///var/run/docker.sock"),
                                                       ("ci", "unix:///run/ci.sock")]
    # No choice, a name that is not saved, or --host on the command line: discovery's engine first.
    for primary, explicit in (("", False), ("gone", False), ("build", True)):
        first, extras = startup.choose_primary(found, saved, primary, explicit_host=explicit)
        assert first == found and [n for n, _ in extras] == ["build", "ci"]
