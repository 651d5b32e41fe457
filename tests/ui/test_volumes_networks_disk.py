"""Volumes, Networks and Disk usage pages through the UI, against the real engine."""

from __future__ import annotations

import tarfile

import docker
import pytest

from tests.ui.objects_helpers import (answer_confirm, choose_in_file_dialog, click, fill, open_dialog, row_texts,
                                      select, submit_and_wait_closed, submit_and_wait_error)


def members(path) -> dict[str, bytes]:
    with tarfile.open(path) as tf:
        return {m.name.lstrip("./"): tf.extractfile(m).read() for m in tf if m.isfile()}


@pytest.fixture
def volumes(ph):
    ph.window.show_page("volumes")
    return ph.objects.volumes_page


@pytest.fixture
def networks(ph):
    ph.window.show_page("networks")
    return ph.objects.networks_page


def test_volume_create_in_use_refused_then_removed(volumes, qtbot, docker_api, make_container, run_id):
    page = volumes
    dlg = open_dialog(qtbot, page, "create", "create_dialog_opened")
    fill(qtbot, dlg, name="x y")
    assert "name" in submit_and_wait_error(qtbot, dlg, "name")
    name = f"pht-{run_id}-vol"
    fill(qtbot, dlg, name=name, labels="team=pilot")
    submit_and_wait_closed(qtbot, dlg)
    assert docker_api.inspect_volume(name)["Labels"] == {"team": "pilot"}
    qtbot.waitUntil(lambda: page.model.row_of(name) >= 0, timeout=10000)
    holder = f"pht-{run_id}-holder"
    make_container(holder, binds=[f"{name}:/data"])
    qtbot.waitUntil(lambda: holder in row_texts(page, name)[4], timeout=10000)
    select(qtbot, page, name)
    click(qtbot, page.buttons["remove"][0])
    qtbot.waitUntil(lambda: page.message.is_error and holder in page.message.text(), timeout=20000)
    assert docker_api.inspect_volume(name)["Name"] == name
    docker_api.remove_container(holder, force=True)
    qtbot.waitUntil(lambda: row_texts(page, name)[4] == "", timeout=10000)
    select(qtbot, page, name)
    click(qtbot, page.buttons["remove"][0])
    assert name in answer_confirm(qtbot, accept=True)
    qtbot.waitUntil(lambda: page.model.row_of(name) < 0, timeout=10000)
    with pytest.raises(docker.errors.NotFound):
        docker_api.inspect_volume(name)


def test_removal_follows_the_engine_not_a_stale_usage(volumes, qtbot, docker_api, make_container, run_id,
                                                     monkeypatch):
    """A container removed from the CLI a moment ago may still be in the usage the page knows:
    removing its volume must not be refused for it (the engine is asked)."""
    page = volumes
    name = f"pht-{run_id}-stale"
    docker_api.create_volume(name)
    try:
        holder = f"pht-{run_id}-gone"
        make_container(holder, binds=[f"{name}:/data"])
        qtbot.waitUntil(lambda: holder in row_texts(page, name)[4], timeout=10000)
        usage = page.stores.state_for(page.model.item(page.model.row_of(name))).usage
        docker_api.remove_container(holder, force=True)
        monkeypatch.setattr(usage, "volume_users", lambda _n: [holder])  # the view has not heard yet
        select(qtbot, page, name)
        click(qtbot, page.buttons["remove"][0])
        assert name in answer_confirm(qtbot, accept=True)
        qtbot.waitUntil(lambda: page.model.row_of(name) < 0, timeout=10000)
        with pytest.raises(docker.errors.NotFound):
            docker_api.inspect_volume(name)
    finally:
        try:
            docker_api.remove_volume(name)
        except docker.errors.NotFound:
            pass


def test_volume_browse_upload_download_export_import_clone(volumes, qtbot, docker_api, run_id, tmp_path):
    page = volumes
    a, b = f"pht-{run_id}-a", f"pht-{run_id}-b"
    docker_api.create_volume(a)
    docker_api.create_volume(b)
    try:
        select(qtbot, page, a)
        click(qtbot, page.buttons["browse"][0])
        qtbot.waitUntil(lambda: getattr(page, "browser_opened", None) is not None, timeout=20000)
        br = page.browser_opened
        src = tmp_path / "notes.txt"
        src.write_bytes(b"notes\n" * 5000)
        br.upload(str(src))
        qtbot.waitUntil(lambda: br.table.rowCount() == 1 and br.table.item(0, 0).text() == "notes.txt", timeout=10000)
        br.table.setCurrentCell(0, 0)
        br.download(str(tmp_path / "back.txt"))
        qtbot.waitUntil(lambda: (tmp_path / "back.txt").exists() and "Downloaded" in br.message.text(), timeout=10000)
        assert (tmp_path / "back.txt").read_bytes() == src.read_bytes()
        br.close()
        # export → import into b → export b: byte-identical contents
        page.export_selected(str(tmp_path / "a.tar"))
        qtbot.waitUntil(lambda: "Exported" in page.message.text(), timeout=10000)
        select(qtbot, page, b)
        page.import_selected(str(tmp_path / "a.tar"))
        answer_confirm(qtbot, accept=True)
        qtbot.waitUntil(lambda: "Imported" in page.message.text(), timeout=10000)
        click(qtbot, page.buttons["export"][0])  # through the file dialog, opened without a nested loop
        choose_in_file_dialog(qtbot, tmp_path / "b.tar")
        qtbot.waitUntil(lambda: f"Exported {b}" in page.message.text(), timeout=10000)
        assert members(tmp_path / "a.tar") == members(tmp_path / "b.tar") == {"notes.txt": src.read_bytes()}
        # clone
        select(qtbot, page, a)
        dlg = open_dialog(qtbot, page, "clone", "clone_dialog_opened")
        fill(qtbot, dlg, name=b)
        assert "already exists" in submit_and_wait_error(qtbot, dlg, "name")
        fill(qtbot, dlg, name=f"pht-{run_id}-c")
        submit_and_wait_closed(qtbot, dlg)
        qtbot.waitUntil(lambda: page.model.row_of(f"pht-{run_id}-c") >= 0, timeout=10000)
        # sizes from disk usage
        click(qtbot, page.buttons["sizes"][0])
        qtbot.waitUntil(lambda: row_texts(page, a)[3].endswith("kB"), timeout=10000)
    finally:
        for v in (a, b, f"pht-{run_id}-c"):
            try:
                docker_api.remove_volume(v)
            except docker.errors.NotFound:
                pass


def test_network_create_validate_connect_disconnect_remove(networks, qtbot, docker_api, make_container, run_id):
    page = networks
    dlg = open_dialog(qtbot, page, "create", "create_dialog_opened")
    name = f"pht-{run_id}-net"
    fill(qtbot, dlg, name=name, subnet="10.77.0.5/24")
    assert "host bits" in submit_and_wait_error(qtbot, dlg, "subnet")
    fill(qtbot, dlg, subnet="10.77.0.0/24", gateway="10.78.0.1")
    assert "not inside" in submit_and_wait_error(qtbot, dlg, "gateway")
    fill(qtbot, dlg, gateway="10.77.0.1")
    submit_and_wait_closed(qtbot, dlg)
    net_id = docker_api.inspect_network(name)["Id"]
    try:
        qtbot.waitUntil(lambda: row_texts(page, net_id)[3:5] == ["10.77.0.0/24", "10.77.0.1"], timeout=10000)
        cname = f"pht-{run_id}-member"
        make_container(cname)
        qtbot.waitUntil(lambda: cname in [r.name for r in page.stores.usage.containers()], timeout=10000)
        select(qtbot, page, net_id)
        dlg = open_dialog(qtbot, page, "connect", "choose_dialog_opened")
        fill(qtbot, dlg, choice=cname)
        submit_and_wait_closed(qtbot, dlg)
        assert name in docker_api.inspect_container(cname)["NetworkSettings"]["Networks"]
        qtbot.waitUntil(lambda: cname in row_texts(page, net_id)[5], timeout=10000)
        select(qtbot, page, net_id)
        click(qtbot, page.buttons["remove"][0])
        qtbot.waitUntil(lambda: page.message.is_error and cname in page.message.text(), timeout=20000)
        dlg = open_dialog(qtbot, page, "disconnect", "choose_dialog_opened")
        fill(qtbot, dlg, choice=cname)
        submit_and_wait_closed(qtbot, dlg)
        assert name not in docker_api.inspect_container(cname)["NetworkSettings"]["Networks"]
        qtbot.waitUntil(lambda: row_texts(page, net_id)[5] == "", timeout=10000)
        select(qtbot, page, net_id)
        click(qtbot, page.buttons["remove"][0])
        answer_confirm(qtbot, accept=True)
        qtbot.waitUntil(lambda: page.model.row_of(net_id) < 0, timeout=10000)
    finally:
        try:
            docker_api.remove_network(net_id)
        except docker.errors.NotFound:
            pass


def test_disk_usage_prune_shows_exactly_what_goes(ph, qtbot, docker_api, make_container, run_id):
    stopped = make_container(f"pht-{run_id}-stopped")
    running = make_container(f"pht-{run_id}-running", start=True)
    ph.window.show_page("disk")
    page = ph.objects.disk_page
    qtbot.waitUntil(lambda: page.usage is not None and any(r.id == stopped for r in page.usage.of("container")),
                    timeout=10000)
    qtbot.waitUntil(lambda: page.prune_buttons["container"].isEnabled(), timeout=20000)
    click(qtbot, page.prune_buttons["container"])
    text = answer_confirm(qtbot, accept=False)
    assert f"pht-{run_id}-stopped" in text and f"pht-{run_id}-running" not in text and "reclaiming" in text
    assert docker_api.inspect_container(stopped)
    preview = {r.id for r in page.usage.of("container") if r.reclaimable}
    click(qtbot, page.prune_buttons["container"])
    answer_confirm(qtbot, accept=True)
    qtbot.waitUntil(lambda: "Removed" in page.message.text(), timeout=20000)
    with pytest.raises(docker.errors.NotFound):
        docker_api.inspect_container(stopped)
    assert docker_api.inspect_container(running)["State"]["Running"]
    remaining = {c["Id"] for c in docker_api.containers(all=True)}
    assert not (preview & remaining)
    assert page.plugins_empty.isVisible()


def test_prune_dangling_images_and_unused_volumes(ph, qtbot, docker_api, make_container, run_id):
    dangling = docker_api.commit(make_container())["Id"]  # no tag: dangling, unused
    vol = f"pht-{run_id}-unused"
    docker_api.create_volume(vol)
    ph.window.show_page("disk")
    page = ph.objects.disk_page
    page.refresh()
    qtbot.waitUntil(lambda: page.usage is not None and any(r.id == dangling for r in page.usage.of("image")),
                    timeout=10000)
    click(qtbot, page.prune_buttons["image"])
    text = answer_confirm(qtbot, accept=True)
    assert dangling.split(":")[1][:12] in text
    qtbot.waitUntil(lambda: "Removed" in page.message.text(), timeout=20000)
    with pytest.raises(docker.errors.ImageNotFound):
        docker_api.inspect_image(dangling)
    click(qtbot, page.prune_buttons["volume"])
    text = answer_confirm(qtbot, accept=True)
    assert vol in text
    qtbot.waitUntil(lambda: "volumes no container uses" in page.message.text(), timeout=20000)
    with pytest.raises(docker.errors.NotFound):
        docker_api.inspect_volume(vol)
