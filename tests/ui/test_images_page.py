"""The Images page against the real engine and a real registry, through the UI."""

from __future__ import annotations

import io
import os
import tarfile

import docker
import pytest
from PySide6.QtCore import Qt

from desktop.presentation.objects import USAGE_UNKNOWN, USAGE_UNKNOWN_TIP

from tests.harness.registry import registry  # noqa: F401 - the fixture
from tests.ui.objects_helpers import (answer_confirm, click, field_error, fill, open_dialog, row_texts, select,
                                      submit_and_wait_closed, submit_and_wait_error)


def unique_image(docker_api, make_container, repo: str, tag: str, size: int = 300_000) -> str:
    cid = make_container()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = os.urandom(size)
        ti = tarfile.TarInfo("random.bin")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    docker_api.put_archive(cid, "/", buf.getvalue())
    return docker_api.commit(cid, repository=repo, tag=tag)["Id"]


@pytest.fixture
def page(ph, qtbot):
    ph.window.show_page("images")
    return ph.objects.images_page


def test_list_tags_and_used_by_follow_events(page, qtbot, docker_api, test_image, make_container, run_id):
    image_id = docker_api.inspect_image(test_image)["Id"]
    docker_api.tag(test_image, f"pht-{run_id}/second", "x")
    try:
        qtbot.waitUntil(lambda: f"pht-{run_id}/second:x" in row_texts(page, image_id)[0], timeout=10000)
        assert test_image in row_texts(page, image_id)[0]
        name = f"pht-{run_id}-user"
        make_container(name)
        qtbot.waitUntil(lambda: name in page.stores.usage.image_users(image_id), timeout=10000)
        assert name in row_texts(page, image_id)[4] or "more" in row_texts(page, image_id)[4]
        # "unused" only hides it now
        page.toggles["in use"].setChecked(False)
        assert not page.select_key(image_id)
        page.toggles["in use"].setChecked(True)
    finally:
        docker_api.remove_image(f"pht-{run_id}/second:x")
    qtbot.waitUntil(lambda: f"pht-{run_id}/second:x" not in row_texts(page, image_id)[0], timeout=10000)


def test_used_by_says_unknown_until_the_containers_are_listed(page, qtbot, docker_api, test_image, make_container,
                                                             run_id, await_):
    """A blank Used by means no container uses the image: before the engine's containers are
    listed (the index lists them after the images) the cell says it is not known yet instead."""
    image_id = docker_api.inspect_image(test_image)["Id"]
    name = f"pht-{run_id}-user"
    make_container(name)
    qtbot.waitUntil(lambda: page.stores.images.get(image_id) is not None, timeout=10000)
    usage = page.stores.state_for(page.stores.images.get(image_id)).usage
    qtbot.waitUntil(lambda: name in usage.image_users(image_id), timeout=10000)
    usage.loaded = False  # as it is before that engine's first container list
    page.model.usage_changed()
    assert row_texts(page, image_id)[4] == USAGE_UNKNOWN
    assert page.model.index(page.model.row_of(image_id), 4).data(Qt.ItemDataRole.ToolTipRole) == USAGE_UNKNOWN_TIP
    await_(usage.load())  # the real list
    assert usage.loaded
    qtbot.waitUntil(lambda: name in row_texts(page, image_id)[4] or "more" in row_texts(page, image_id)[4],
                    timeout=10000)


def test_usage_toggles_keep_images_listed_until_their_use_is_known(page, qtbot, docker_api, make_container,
                                                                    run_id, await_):
    """Unticking Unused before the engine's containers are listed must not hide every image as
    unused: those not yet known to be used stay listed, and go once the list says they are unused."""
    image_id = unique_image(docker_api, make_container, f"pht-{run_id}/lonely", "v1", size=1000)
    try:
        qtbot.waitUntil(lambda: page.stores.images.get(image_id) is not None, timeout=10000)
        usage = page.stores.state_for(page.stores.images.get(image_id)).usage
        await_(usage.load())
        assert usage.image_users(image_id) == []
        usage.loaded = False  # as it is before that engine's first container list
        page.toggles["unused"].setChecked(False)
        assert page.select_key(image_id)
        await_(usage.load())
        qtbot.waitUntil(lambda: not page.select_key(image_id), timeout=10000)
        page.toggles["unused"].setChecked(True)
        assert page.select_key(image_id)
    finally:
        page.toggles["unused"].setChecked(True)
        docker_api.remove_image(image_id, force=True)


def test_pull_from_registry_with_progress(page, qtbot, docker_api, make_container, registry, run_id):  # noqa: F811
    repo = f"{registry.address}/pht/pull-{run_id}"
    image_id = unique_image(docker_api, make_container, repo, "v1", size=2_000_000)
    for line in docker_api.push(repo, tag="v1", stream=True, decode=True):
        assert "error" not in line, line
    docker_api.remove_image(f"{repo}:v1")
    qtbot.waitUntil(lambda: page.stores.images.get(image_id) is None, timeout=10000)

    dlg = open_dialog(qtbot, page, "pull", "pull_dialog_opened")
    fill(qtbot, dlg, reference="Not/A Valid:ref")
    assert "spaces" in field_error(dlg, "reference")  # live check as typed
    assert "spaces" in submit_and_wait_error(qtbot, dlg, "reference")
    fill(qtbot, dlg, reference=f"{repo}:v1")
    assert field_error(dlg, "reference") == ""
    submit_and_wait_closed(qtbot, dlg)
    assert docker_api.inspect_image(f"{repo}:v1")["Id"] == image_id
    panel = dlg.progress
    assert panel.repaints >= 1 and panel.layers.fraction == 1.0 and panel.table.rowCount() >= 1
    qtbot.waitUntil(lambda: page.stores.images.get(image_id) is not None, timeout=10000)
    assert f"Pulled {repo}:v1" in page.message.text()
    docker_api.remove_image(f"{repo}:v1")


def test_pull_cancel(page, qtbot, docker_api, make_container, registry, run_id):  # noqa: F811
    repo = f"{registry.address}/pht/cancel-{run_id}"
    unique_image(docker_api, make_container, repo, "v1", size=60_000_000)
    for _ in docker_api.push(repo, tag="v1", stream=True):
        pass
    docker_api.remove_image(f"{repo}:v1")
    dlg = open_dialog(qtbot, page, "pull", "pull_dialog_opened")
    fill(qtbot, dlg, reference=f"{repo}:v1")
    click(qtbot, dlg.ok_button)
    qtbot.waitUntil(lambda: any(la.status.startswith("Downloading") for la in dlg.progress.layers.layers.values()),
                    timeout=20000)
    click(qtbot, dlg.cancel_button)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=20000)
    assert "Pulled" not in page.message.text()
    assert not docker_api.images(name=repo)  # the engine dropped the pull with the connection


def test_tag_push_and_remove_explains_users(page, qtbot, docker_api, make_container, registry, run_id):  # noqa: F811
    image_id = unique_image(docker_api, make_container, f"pht-{run_id}/local", "1")
    select(qtbot, page, image_id)
    dlg = open_dialog(qtbot, page, "tag", "tag_dialog_opened")
    fill(qtbot, dlg, reference="UPPER/case")
    assert "lowercase" in submit_and_wait_error(qtbot, dlg, "reference")
    ref = f"{registry.address}/pht/pushed-{run_id}:2"
    fill(qtbot, dlg, reference=ref)
    submit_and_wait_closed(qtbot, dlg)
    assert ref in docker_api.inspect_image(image_id)["RepoTags"]
    qtbot.waitUntil(lambda: ref in row_texts(page, image_id)[0], timeout=10000)

    select(qtbot, page, image_id)
    dlg = open_dialog(qtbot, page, "push", "push_dialog_opened")
    fill(qtbot, dlg, reference=ref)
    submit_and_wait_closed(qtbot, dlg)
    assert dlg.progress.layers.digest.startswith("sha256:")
    assert "Pushed" in page.message.text()

    user = f"pht-{run_id}-holder"
    docker_api.create_container(image_id, command=["sleep", "1"], name=user)
    try:
        qtbot.waitUntil(lambda: user in page.stores.usage.image_users(image_id), timeout=10000)
        select(qtbot, page, image_id)
        click(qtbot, page.buttons["remove"][0])
        text = answer_confirm(qtbot, accept=True)
        assert user in text
        qtbot.waitUntil(lambda: page.message.is_error and user in page.message.text(), timeout=10000)
        assert docker_api.inspect_image(image_id)["Id"] == image_id
    finally:
        docker_api.remove_container(user, force=True)
    qtbot.waitUntil(lambda: not page.stores.usage.image_users(image_id), timeout=10000)
    select(qtbot, page, image_id)
    click(qtbot, page.buttons["remove"][0])
    answer_confirm(qtbot, accept=True)
    qtbot.waitUntil(lambda: page.model.row_of(image_id) < 0, timeout=10000)
    with pytest.raises(docker.errors.ImageNotFound):
        docker_api.inspect_image(image_id)


def test_history_shows_layers(page, qtbot, test_image, docker_api):
    image_id = docker_api.inspect_image(test_image)["Id"]
    select(qtbot, page, image_id)
    click(qtbot, page.buttons["history"][0])
    qtbot.waitUntil(lambda: getattr(page, "history_dialog_opened", None) is not None, timeout=20000)
    table = page.history_dialog_opened.findChild(object, "historyTable")
    assert table.rowCount() >= 1 and table.item(0, 2).text().endswith("B")
    page.history_dialog_opened.close()


def test_save_remove_load_round_trip(page, qtbot, docker_api, make_container, run_id, tmp_path):
    ref = f"pht-{run_id}/saved:1"
    image_id = unique_image(docker_api, make_container, f"pht-{run_id}/saved", "1")
    select(qtbot, page, image_id)
    dlg = open_dialog(qtbot, page, "save", "save_dialog_opened")
    target = tmp_path / "images.tar"
    fill(qtbot, dlg, path=str(target))
    submit_and_wait_closed(qtbot, dlg)
    assert target.stat().st_size > 300_000
    docker_api.remove_image(ref)
    qtbot.waitUntil(lambda: page.model.row_of(image_id) < 0, timeout=10000)
    dlg = open_dialog(qtbot, page, "load", "load_dialog_opened")
    fill(qtbot, dlg, path=str(tmp_path / "missing.tar"))
    assert "tar file" in submit_and_wait_error(qtbot, dlg, "path")
    fill(qtbot, dlg, path=str(target))
    submit_and_wait_closed(qtbot, dlg)
    assert docker_api.inspect_image(ref)["Id"] == image_id
    qtbot.waitUntil(lambda: page.model.row_of(image_id) >= 0, timeout=10000)
    assert ref in page.message.text()
    docker_api.remove_image(ref)


def test_import_filesystem_tar(page, qtbot, docker_api, run_id, tmp_path):
    src = tmp_path / "fs.tar"
    with tarfile.open(src, "w") as tf:
        ti = tarfile.TarInfo("hello.txt")
        ti.size = 5
        tf.addfile(ti, io.BytesIO(b"hello"))
    dlg = open_dialog(qtbot, page, "import", "import_dialog_opened")
    fill(qtbot, dlg, path=str(src), reference=f"pht-{run_id}/imported:7")
    submit_and_wait_closed(qtbot, dlg)
    image_id = docker_api.inspect_image(f"pht-{run_id}/imported:7")["Id"]
    qtbot.waitUntil(lambda: page.model.row_of(image_id) >= 0, timeout=10000)
    docker_api.remove_image(image_id)


def test_filter_text_and_force_remove_of_image_used_by_stopped_container(page, qtbot, docker_api, make_container,
                                                                           run_id):
    image_id = unique_image(docker_api, make_container, f"pht-{run_id}/forced", "1")
    qtbot.waitUntil(lambda: page.model.row_of(image_id) >= 0, timeout=10000)
    qtbot.keyClicks(page.search, f"pht-{run_id}/forced")
    assert page.proxy.rowCount() == 1 and "1 of" in page.count_label.text()
    page.search.clear()
    user = docker_api.create_container(image_id, command=["true"], name=f"pht-{run_id}-stopped")["Id"]
    try:
        qtbot.waitUntil(lambda: bool(page.stores.usage.image_users(image_id)), timeout=10000)
        select(qtbot, page, image_id)
        click(qtbot, page.buttons["remove"][0])
        answer_confirm(qtbot, accept=True, check=True)  # tick "Force"
        qtbot.waitUntil(lambda: page.model.row_of(image_id) < 0, timeout=10000)
        with pytest.raises(docker.errors.ImageNotFound):
            docker_api.inspect_image(image_id)
        assert docker_api.inspect_container(user)["Image"] == image_id  # the container stays
    finally:
        docker_api.remove_container(user, force=True)
