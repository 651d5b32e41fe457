"""Images, Volumes and Networks with two real engines: rows tagged with their engine, one engine
shown at a time, actions sent to the row's engine, one engine stopped → the other's rows stay."""

from __future__ import annotations

import asyncio

import docker
import pytest

from desktop.engine.endpoints import Endpoint
from desktop.state.connection import RECONNECTING
from desktop.ui.objects.images_page import COL_ENGINE as IMAGE_ENGINE
from desktop.ui.objects.volumes_page import COL_ENGINE as VOLUME_ENGINE
from tests.harness.private_engine import TEST_IMAGE
from tests.ui.objects_helpers import answer_confirm, click, fill, open_dialog, submit_and_wait_closed


def shown(page, key: str) -> bool:
    """The row is in the table and passes the page's filters (engine, text)."""
    r = page.model.row_of(key)
    return r >= 0 and page.proxy.mapFromSource(page.model.index(r, 0)).isValid()


def cell(page, key: str, col: int) -> str:
    r = page.model.row_of(key)
    return page.model.index(r, col).data() if r >= 0 else ""


def test_volumes_of_two_engines_tagged_filtered_and_removed_on_the_right_engine(
        two, qtbot, docker_api, api_b, run_id):
    ph = two
    shared, only_b = f"pht-{run_id}-shared", f"pht-{run_id}-onb"
    docker_api.create_volume(shared)
    api_b.create_volume(shared)
    api_b.create_volume(only_b)
    try:
        ph.window.show_page("volumes")  # the object stores list now (lazily), on both engines
        page = ph.objects.volumes_page
        a_key, b_key, only_key = f"host|{shared}", f"second|{shared}", f"second|{only_b}"
        qtbot.waitUntil(lambda: all(shown(page, k) for k in (a_key, b_key, only_key)), timeout=15000)
        assert not page.view.isColumnHidden(VOLUME_ENGINE)
        assert cell(page, a_key, VOLUME_ENGINE) == "host" and cell(page, b_key, VOLUME_ENGINE) == "second"

        # One engine at a time.
        ph.window.select_engine("host")
        assert shown(page, a_key) and not shown(page, b_key) and not shown(page, only_key)
        assert page.view.isColumnHidden(VOLUME_ENGINE)
        ph.window.select_engine("second")
        assert not shown(page, a_key) and shown(page, b_key) and shown(page, only_key)
        ph.window.select_engine(None)
        assert shown(page, a_key)

        # Removing the second engine's copy removes it there only.
        assert page.select_key(b_key)
        assert page.selected()[0].engine_id == "second"
        click(qtbot, page.buttons["remove"][0])
        assert "on second" in answer_confirm(qtbot, accept=True)
        qtbot.waitUntil(lambda: page.model.row_of(b_key) < 0, timeout=10000)
        assert shared not in [v["Name"] for v in api_b.volumes()["Volumes"] or []]
        assert docker_api.inspect_volume(shared)["Name"] == shared
        assert shown(page, a_key)

        # Create with all engines shown: the form asks which engine, the primary preselected.
        dlg = open_dialog(qtbot, page, "create", "create_dialog_opened")
        assert dlg.values()["engine"] == "host"
        made = f"pht-{run_id}-made"
        fill(qtbot, dlg, engine="second", name=made)
        submit_and_wait_closed(qtbot, dlg)
        assert api_b.inspect_volume(made)["Name"] == made
        with pytest.raises(docker.errors.NotFound):
            docker_api.inspect_volume(made)
        qtbot.waitUntil(lambda: shown(page, f"second|{made}"), timeout=10000)

        # With one engine selected, the form goes there without asking.
        ph.window.select_engine("second")
        dlg = open_dialog(qtbot, page, "create", "create_dialog_opened")
        assert "engine" not in dlg.inputs
        dlg.reject()
        ph.window.select_engine(None)
    finally:
        for api, name in ((docker_api, shared), (api_b, shared), (api_b, only_b), (api_b, f"pht-{run_id}-made")):
            try:
                api.remove_volume(name)
            except docker.errors.NotFound:
                pass


def test_images_and_networks_tagged_and_one_engine_down_keeps_the_other(
        two, qtbot, docker_api, api_b, second_engine, run_id, await_):
    ph = two
    image_id = docker_api.inspect_image(TEST_IMAGE)["Id"]
    tag = f"pht-{run_id}/onb"
    api_b.tag(TEST_IMAGE, tag, "x")
    id_b = api_b.inspect_image(TEST_IMAGE)["Id"]
    net_b = api_b.create_network(f"pht-{run_id}-netb")["Id"]
    net_a = docker_api.create_network(f"pht-{run_id}-neta")["Id"]
    try:
        ph.window.show_page("images")
        images = ph.objects.images_page
        # The test image on each engine: one row per engine, each with its own tags.
        qtbot.waitUntil(lambda: shown(images, f"host|{image_id}") and f"{tag}:x" in cell(images, f"second|{id_b}", 0),
                        timeout=15000)
        assert f"{tag}:x" not in cell(images, f"host|{image_id}", 0)
        assert cell(images, f"second|{id_b}", IMAGE_ENGINE) == "second"
        assert not images.view.isColumnHidden(IMAGE_ENGINE)

        ph.window.show_page("networks")
        networks = ph.objects.networks_page
        qtbot.waitUntil(lambda: shown(networks, f"second|{net_b}") and shown(networks, f"host|{net_a}"),
                        timeout=10000)
        ph.window.select_engine("host")
        assert not shown(networks, f"second|{net_b}") and shown(networks, f"host|{net_a}")
        ph.window.select_engine(None)

        # Remove the second engine's network from the page: gone there, the first's stays.
        assert networks.select_key(f"second|{net_b}")
        click(qtbot, networks.buttons["remove"][0])
        answer_confirm(qtbot, accept=True)
        qtbot.waitUntil(lambda: networks.model.row_of(f"second|{net_b}") < 0, timeout=10000)
        with pytest.raises(docker.errors.NotFound):
            api_b.inspect_network(net_b)
        assert docker_api.inspect_network(net_a)["Id"] == net_a
        net_b = None

        # The second engine stops: its rows leave, the page names it, the first engine's rows stay.
        await_(asyncio.to_thread(second_engine.stop), timeout=60)
        qtbot.waitUntil(lambda: ph.engines.get("second").status.current.state == RECONNECTING, timeout=15000)
        qtbot.waitUntil(lambda: images.model.row_of(f"second|{id_b}") < 0, timeout=20000)
        assert shown(images, f"host|{image_id}") and shown(networks, f"host|{net_a}")
        assert not images.engine_notice.isHidden() and "second" in images.engine_notice.text()
        assert images.buttons["pull"][0].isEnabled()  # the first engine still takes actions

        # Back: its rows return with the reconnect's resync, the notice goes.
        await_(asyncio.to_thread(second_engine.start), timeout=60)
        ph.engines.get("second").sync.retry_now()
        qtbot.waitUntil(lambda: f"{tag}:x" in cell(images, f"second|{id_b}", 0), timeout=20000)
        assert images.engine_notice.isHidden()
    finally:
        docker_api.remove_network(net_a)
        if net_b:
            api_b.remove_network(net_b)


def test_images_build_run_and_remove_go_to_the_chosen_and_the_rows_engine(
        two, qtbot, docker_api, api_b, run_id, tmp_path):
    ph = two
    page = ph.objects.images_page
    ph.window.show_page("images")
    tag = f"pht-{run_id}/both:1"
    (tmp_path / "Dockerfile").write_text(f"FROM {TEST_IMAGE}\nRUN echo on-b > /where\nCMD [\"cat\", \"/where\"]\n")
    run_name = f"pht-{run_id}-ran"
    try:
        # Build with all engines shown: the form asks which engine; the image is made there only.
        dlg = open_dialog(qtbot, page, "build", "build_dialog_opened")
        assert dlg.values()["engine"] == "host"
        fill(qtbot, dlg, engine="second", folder=str(tmp_path), tag=tag)
        submit_and_wait_closed(qtbot, dlg, timeout=120000)
        id_b = api_b.inspect_image(tag)["Id"]
        with pytest.raises(docker.errors.ImageNotFound):
            docker_api.inspect_image(tag)
        docker_api.tag(TEST_IMAGE, f"pht-{run_id}/both", "1")  # the same tag on the first engine
        id_a = docker_api.inspect_image(tag)["Id"]
        qtbot.waitUntil(lambda: shown(page, f"second|{id_b}") and tag in cell(page, f"host|{id_a}", 0),
                        timeout=15000)
        ph.window.select_engine("host")
        assert not shown(page, f"second|{id_b}") and shown(page, f"host|{id_a}")
        ph.window.select_engine(None)

        # Run from the second engine's image: the container is made on that engine.
        assert page.select_key(f"second|{id_b}")
        dlg = open_dialog(qtbot, page, "run", "run_dialog_opened")
        assert "engine" not in dlg.inputs  # the image's engine, no question
        fill(qtbot, dlg, name=run_name, detach=True)
        submit_and_wait_closed(qtbot, dlg)
        assert api_b.inspect_container(run_name)["Image"] == id_b
        assert docker_api.containers(all=True, filters={"name": run_name}) == []
        api_b.remove_container(run_name, force=True)

        # Remove the second engine's row: the tag goes there, the first engine keeps its own.
        assert page.select_key(f"second|{id_b}")
        click(qtbot, page.buttons["remove"][0])
        assert "on second" in answer_confirm(qtbot, accept=True)
        # The page says how the removal went; a refusal is the sentence that explains the failure.
        qtbot.waitUntil(lambda: page.message.text().startswith("Removed") or page.message.is_error, timeout=10000)
        assert page.message.text().startswith("Removed"), page.message.text()
        qtbot.waitUntil(lambda: page.model.row_of(f"second|{id_b}") < 0, timeout=10000)
        with pytest.raises(docker.errors.ImageNotFound):
            api_b.inspect_image(tag)
        assert docker_api.inspect_image(tag)["Id"] == id_a
        assert tag in cell(page, f"host|{id_a}", 0)
    finally:
        for api in (api_b, docker_api):
            try:
                api.remove_container(run_name, force=True)
            except docker.errors.NotFound:
                pass
            try:
                api.remove_image(tag)
            except docker.errors.ImageNotFound:
                pass


def test_an_engine_added_while_a_page_is_open_lists_its_objects_there(ph, qtbot, second_engine, api_b, run_id):
    name = f"pht-{run_id}-late"
    api_b.create_volume(name)
    try:
        ph.window.show_page("volumes")
        page = ph.objects.volumes_page
        assert page.view.isColumnHidden(VOLUME_ENGINE)  # one engine: no Engine column
        qtbot.waitUntil(lambda: page.stores.volumes.loaded, timeout=10000)
        ph.connections.add_engine(Endpoint(second_engine.host, "--host", name="late"))
        qtbot.waitUntil(lambda: shown(page, f"late|{name}"), timeout=20000)
        assert not page.view.isColumnHidden(VOLUME_ENGINE) and cell(page, f"late|{name}", VOLUME_ENGINE) == "late"
        assert ph.objects.disk_page.engine_combo.count() == 2
    finally:
        api_b.remove_volume(name)
