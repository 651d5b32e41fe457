"""The Run form and the Build dialog through the UI, against the real engine."""

from __future__ import annotations

import socket

import docker

import pytest

from tests.ui.objects_helpers import click, field_error, fill, open_dialog, select, submit_and_wait_closed, submit_and_wait_error


@pytest.fixture
def page(ph, qtbot):
    ph.window.show_page("images")
    return ph.objects.images_page


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def open_run(qtbot, page, docker_api, image):
    select(qtbot, page, docker_api.inspect_image(image)["Id"])
    return open_dialog(qtbot, page, "run", "run_dialog_opened")


def test_run_valid_form_starts_container_and_selects_it(ph, page, qtbot, docker_api, test_image, run_id, tmp_path):
    dlg = open_run(qtbot, page, docker_api, test_image)
    assert dlg.values()["image"] in docker_api.inspect_image(test_image)["RepoTags"]
    name = f"pht-{run_id}-web"
    port = free_port()
    (tmp_path / "index.html").write_text("hi")
    fill(qtbot, dlg, image=test_image, name=name, ports=f"127.0.0.1:{port}:80/tcp", env="GREETING=hello world\nEMPTY=",
         mounts=f"{tmp_path}:/www:ro\npht-{run_id}-data:/data", command="httpd -f -p 80 -h /www", restart="no")
    try:
        submit_and_wait_closed(qtbot, dlg)
        info = docker_api.inspect_container(name)
        assert info["State"]["Running"]
        assert "GREETING=hello world" in info["Config"]["Env"] and "EMPTY=" in info["Config"]["Env"]
        assert info["HostConfig"]["PortBindings"]["80/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]
        mounts = {m["Destination"]: m for m in info["Mounts"]}
        assert mounts["/www"]["RW"] is False and mounts["/data"]["Name"] == f"pht-{run_id}-data"
        assert info["Config"]["Cmd"] == ["httpd", "-f", "-p", "80", "-h", "/www"]
        # the new container is selected on the Containers page and opens in its detail page
        qtbot.waitUntil(lambda: any(c.id == info["Id"] for c in ph.containers.page.selected_containers()),
                        timeout=10000)
        qtbot.waitUntil(lambda: ph.details.page is not None and ph.details.page.container is not None
                        and ph.details.page.container.id == info["Id"]
                        and ph.window.pages.currentWidget() is ph.details.page, timeout=10000)
        ph.details.close()
    finally:
        docker_api.remove_container(name, force=True)
        docker_api.remove_volume(f"pht-{run_id}-data")


def test_run_invalid_fields_each_get_a_sentence(page, qtbot, docker_api, test_image, run_id):
    before = len(docker_api.containers(all=True))
    dlg = open_run(qtbot, page, docker_api, test_image)
    fill(qtbot, dlg, ports="8080:80\n99999:80")
    assert "line 2" in field_error(dlg, "ports").lower()  # checked as typed, before Run is pressed
    fill(qtbot, dlg, image="Bad Image", name="-x", ports="8080:80\n99999:80", env="NOEQUALS", mounts="relative:/x:zz",
         restart="sometimes", command="echo 'open")
    submit_and_wait_error(qtbot, dlg, "image")
    for key, words in (("image", "spaces"), ("name", "name"), ("ports", "line 2"), ("env", "KEY=VALUE"),
                       ("mounts", "ro or rw"), ("restart", "Restart policy"), ("command", "quote")):
        assert words.lower() in field_error(dlg, key).lower(), (key, field_error(dlg, key))
    assert len(docker_api.containers(all=True)) == before  # nothing reached the engine
    dlg.reject()


def test_run_engine_refusals_beside_the_field(page, qtbot, docker_api, test_image, make_container, run_id):
    taken = make_container(f"pht-{run_id}-taken")
    port = free_port()
    holder = make_container(f"pht-{run_id}-port", start=True, command=("httpd", "-f", "-p", "80"),
                            ports={"80/tcp": ("127.0.0.1", port)})
    assert taken and holder
    dlg = open_run(qtbot, page, docker_api, test_image)
    fill(qtbot, dlg, name=f"pht-{run_id}-taken", command="sleep 60")
    assert "already in use" in submit_and_wait_error(qtbot, dlg, "name")
    fill(qtbot, dlg, name=f"pht-{run_id}-new", ports=f"127.0.0.1:{port}:80")
    assert str(port) in submit_and_wait_error(qtbot, dlg, "ports")
    # the half-made container was removed, so fixing the port and running again works
    assert not docker_api.containers(all=True, filters={"name": f"pht-{run_id}-new"})
    fill(qtbot, dlg, image=f"pht-{run_id}/missing:1", ports="")
    assert "not on this engine" in submit_and_wait_error(qtbot, dlg, "image")
    dlg.reject()


def test_build_with_run_step(page, qtbot, docker_api, test_image, run_id, tmp_path):
    (tmp_path / "Dockerfile").write_text(f"FROM {test_image}\nARG WHO\nRUN echo built by $WHO > /who\nCMD [\"cat\", \"/who\"]\n")
    dlg = open_dialog(qtbot, page, "build", "build_dialog_opened")
    fill(qtbot, dlg, folder=str(tmp_path / "nope"))
    assert "not a folder" in submit_and_wait_error(qtbot, dlg, "folder")
    tag = f"pht-{run_id}/built:1"
    fill(qtbot, dlg, folder=str(tmp_path), tag=tag, build_args="WHO=pilot", no_cache=True)
    submit_and_wait_closed(qtbot, dlg)
    image_id = docker_api.inspect_image(tag)["Id"]
    log = dlg.progress.log.toPlainText()
    assert "Step 3/4 : RUN echo built by $WHO > /who" in log and dlg.progress.bar.format() == "Step 4/4"
    qtbot.waitUntil(lambda: page.model.row_of(image_id) >= 0, timeout=10000)
    cid = docker_api.create_container(tag)["Id"]
    docker_api.start(cid)
    docker_api.wait(cid, timeout=30)
    assert docker_api.logs(cid) == b"built by pilot\n"
    docker_api.remove_container(cid, force=True)
    docker_api.remove_image(tag)


def test_failed_build_shows_the_failing_step(page, qtbot, docker_api, test_image, run_id, tmp_path):
    (tmp_path / "Dockerfile").write_text(f"FROM {test_image}\nRUN echo first\nRUN exit 3\nRUN echo never\n")
    dlg = open_dialog(qtbot, page, "build", "build_dialog_opened")
    fill(qtbot, dlg, folder=str(tmp_path), tag=f"pht-{run_id}/failed:1")
    err = submit_and_wait_error(qtbot, dlg, "form")
    assert "Step 3/4 : RUN exit 3" in err and "3" in err
    assert dlg.progress.log.textCursor().selectedText().startswith("Step 3/4 : RUN exit 3")
    assert "echo never" not in dlg.progress.log.toPlainText().split("Step 3/4")[0]
    dlg.reject()


def test_build_cancel_stops_it(page, qtbot, docker_api, test_image, run_id, tmp_path):
    (tmp_path / "Dockerfile").write_text(f"FROM {test_image}\nRUN echo started && sleep 60\n")
    dlg = open_dialog(qtbot, page, "build", "build_dialog_opened")
    tag = f"pht-{run_id}/cancelled:1"
    fill(qtbot, dlg, folder=str(tmp_path), tag=tag)
    click(qtbot, dlg.ok_button)
    qtbot.waitUntil(lambda: "started" in dlg.progress.log.toPlainText(), timeout=30000)
    click(qtbot, dlg.cancel_button)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=5000)
    # the engine stops the build when its client goes away: the RUN step's container stops
    def build_step_running() -> bool:
        return any("sleep 60" in c["Command"] for c in docker_api.containers())

    qtbot.waitUntil(lambda: not build_step_running(), timeout=20000)
    with pytest.raises(docker.errors.ImageNotFound):
        docker_api.inspect_image(tag)


# -- hypothesis through the form: no crash, nothing malformed reaches the engine ------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=16)
_port = st.one_of(_text, st.builds(lambda ip, c, p: f"{ip}{c}{p}", st.sampled_from(["", "127.0.0.1::", ":", "x:"]),
                                   st.integers(-1, 70000), st.sampled_from(["", "/udp", "/tcp", "/bad"])))
_env = st.one_of(_text, st.builds(lambda k, v: f"{k}={v}", _text, _text))
_mount = st.one_of(_text, st.builds(lambda s, t: f"{s}:{t}", st.sampled_from(["/tmp", "phv", "rel", ""]),
                                    st.sampled_from(["/m", "m", "/", ""])))


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(port=_port, env=_env, mount=_mount)
def test_run_form_generated_input(page, qtbot, docker_api, test_image, port, env, mount):
    before = {c["Id"] for c in docker_api.containers(all=True)}
    page.run_selected()
    qtbot.waitUntil(lambda: page.run_dialog_opened is not None and page.run_dialog_opened.isVisible(), timeout=5000)
    dlg = page.run_dialog_opened
    dlg.set_value("image", test_image)
    dlg.set_value("ports", port)
    dlg.set_value("env", env)
    dlg.set_value("mounts", mount)
    dlg.set_value("command", "sleep 5")
    dlg.set_value("auto_remove", False)
    click(qtbot, dlg.ok_button)
    qtbot.waitUntil(lambda: not dlg.isVisible() or (dlg.ok_button.isEnabled() and any(
        field_error(dlg, k) for k in ("ports", "env", "mounts", "form"))), timeout=30000)
    new = {c["Id"] for c in docker_api.containers(all=True)} - before
    if dlg.isVisible():
        errors = {k: field_error(dlg, k) for k in ("ports", "env", "mounts", "form") if field_error(dlg, k)}
        # an input field was refused: nothing was left on the engine
        assert errors and not new, errors
        dlg.reject()
    else:
        assert len(new) == 1
        docker_api.remove_container(new.pop(), force=True)
    for v in docker_api.volumes().get("Volumes") or []:
        if v["Name"] == "phv":
            docker_api.remove_volume("phv", force=True)
