"""Registry login through the docker configuration's credential helper, against a real registry
with authentication: the helper stores the secret, Pilothouse writes no password anywhere."""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest

from tests.harness.registry import auth_registry  # noqa: F401 - the fixture
from tests.ui.objects_helpers import fill, open_dialog, select, submit_and_wait_closed, submit_and_wait_error

HELPER = """#!{python}
# A docker credential helper for tests: keeps credentials in a JSON file next to itself.
import json, pathlib, sys
store = pathlib.Path(__file__).with_name("store.json")
data = json.loads(store.read_text()) if store.exists() else {{}}
op = sys.argv[1]
if op == "store":
    req = json.loads(sys.stdin.read())
    data[req["ServerURL"]] = {{"Username": req["Username"], "Secret": req["Secret"]}}
    store.write_text(json.dumps(data))
elif op == "get":
    url = sys.stdin.read().strip()
    if url not in data:
        print("credentials not found in native keychain"); sys.exit(1)
    print(json.dumps({{"ServerURL": url, **data[url]}}))
elif op == "erase":
    data.pop(sys.stdin.read().strip(), None); store.write_text(json.dumps(data))
elif op == "list":
    print(json.dumps({{k: v["Username"] for k, v in data.items()}}))
"""


@pytest.fixture
def docker_config(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-phtest"
    helper.write_text(HELPER.format(python=sys.executable))
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    cfgdir = tmp_path / "docker-config"
    cfgdir.mkdir()
    (cfgdir / "config.json").write_text(json.dumps({"credsStore": "phtest"}))
    monkeypatch.setenv("DOCKER_CONFIG", str(cfgdir))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return cfgdir, bindir / "store.json"


def test_login_stores_through_helper_then_push_works(docker_config, ph, qtbot, docker_api, auth_registry,  # noqa: F811
                                                     test_image, run_id, tmp_path):
    cfgdir, store = docker_config
    page = ph.objects.images_page
    ph.window.show_page("images")
    ref_repo = f"{auth_registry.address}/pht/auth-{run_id}"
    docker_api.tag(test_image, ref_repo, "1")
    try:
        dlg = open_dialog(qtbot, page, "login", "login_dialog_opened")
        fill(qtbot, dlg, registry=auth_registry.address, username="pilot", password="wrong")
        assert "refused" in submit_and_wait_error(qtbot, dlg, "form")
        assert not store.exists()
        fill(qtbot, dlg, password="s3cret-pw")
        submit_and_wait_closed(qtbot, dlg)
        qtbot.waitUntil(lambda: "docker-credential-phtest" in page.message.text(), timeout=10000)  # said once stored
        assert json.loads(store.read_text())[auth_registry.address] == {"Username": "pilot", "Secret": "s3cret-pw"}
        # Pilothouse wrote no password: the configuration is as it was, no other file appeared
        assert json.loads((cfgdir / "config.json").read_text()) == {"credsStore": "phtest"}
        assert sorted(p.name for p in cfgdir.iterdir()) == ["config.json"]
        # a push now authenticates with the stored credentials
        image_id = docker_api.inspect_image(test_image)["Id"]
        select(qtbot, page, image_id)
        dlg = open_dialog(qtbot, page, "push", "push_dialog_opened")
        fill(qtbot, dlg, reference=f"{ref_repo}:1")
        submit_and_wait_closed(qtbot, dlg)
        assert dlg.progress.layers.digest.startswith("sha256:")
    finally:
        docker_api.remove_image(f"{ref_repo}:1")
