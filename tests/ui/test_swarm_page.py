"""The Swarm section against a real three-node swarm (tests/harness/swarm.py), driven like a user."""

from __future__ import annotations

import base64

import contextlib
import textwrap

import docker
import pytest
from PySide6.QtWidgets import QApplication

from desktop.engine.compose import ComposeRun
from desktop.engine.swarm_records import STACK_LABEL
from tests.harness.swarm import TEST_IMAGE_V2
from tests.ui.objects_helpers import (answer_confirm, click, field_error, fill, open_dialog, submit_and_wait_closed,
                                      submit_and_wait_error)

BUSYBOX = "pilothouse-test/busybox:latest"


@pytest.fixture
def swarm_api(swarm_cluster):
    api = swarm_cluster.manager.api()
    yield api
    for s in api.services():
        with contextlib.suppress(docker.errors.APIError):
            api.remove_service(s["ID"])
    for s in api.secrets():
        with contextlib.suppress(docker.errors.APIError):
            api.remove_secret(s["ID"])
    for c in api.configs():
        with contextlib.suppress(docker.errors.APIError):
            api.remove_config(c["ID"])
    for n in api.nodes():
        if n["Spec"].get("Availability") != "active":
            api.update_node(n["ID"], n["Version"]["Index"], dict(n["Spec"], Availability="active"))
    for net in api.networks(filters={"label": STACK_LABEL}):
        with contextlib.suppress(docker.errors.APIError):
            api.remove_network(net["Id"])
    api.close()


def _service(api, name, replicas=1, image=BUSYBOX, command=("sleep", "3600"), **kw):
    cs = docker.types.ContainerSpec(image, list(command), stop_signal="SIGKILL", **kw.pop("cs", {}))
    return api.create_service(docker.types.TaskTemplate(cs), name=name,
                              mode=docker.types.ServiceMode("replicated", replicas=replicas), **kw)["ID"]


def _open_swarm(qtbot, app_factory, await_, host):
    ph = app_factory(host)
    await_(ph.first_load(timeout=30))
    ph.window.show_page("swarm")
    page = ph.swarm.page
    qtbot.waitUntil(lambda: page.state is not None and page.state.info is not None, timeout=20000)
    return ph, page


def _manager(qtbot, app_factory, await_, cluster):
    ph, page = _open_swarm(qtbot, app_factory, await_, cluster.manager.host)
    qtbot.waitUntil(lambda: page.view is not None and page.ready, timeout=20000)
    return ph, page, page.view


def _cell(tab, key: str, title: str) -> str:
    r = tab.model.row_of(key)
    if r < 0:
        return ""
    col = next(i for i, c in enumerate(tab.model.columns) if c.title == title)
    return tab.model.index(r, col).data() or ""


def test_nodes_tasks_drain_confirmation_and_join_tokens(qtbot, app_factory, await_, swarm_cluster, swarm_api):
    cluster = swarm_cluster
    _service(swarm_api, "spread", replicas=6)
    ph, page, view = _manager(qtbot, app_factory, await_, cluster)
    nodes = view.nodes
    assert view.tabs.currentWidget() is nodes
    qtbot.waitUntil(lambda: nodes.model.rowCount() == 3, timeout=10000)
    target = cluster.workers[1]
    assert _cell(nodes, target.node_id, "Hostname") == target.hostname
    assert _cell(nodes, target.node_id, "Address") == target.address
    assert _cell(nodes, cluster.manager.node_id, "Role") == "manager (leader)"
    # The Tasks column follows the tasks while the tab is on screen.
    qtbot.waitUntil(lambda: sum(int(_cell(nodes, n.node_id, "Tasks") or 0) for n in cluster.nodes) == 6
                    and int(_cell(nodes, target.node_id, "Tasks") or 0) > 0, timeout=30000)
    assert page.state.tasks.watched == {"*"}

    assert nodes.select_key(target.node_id)
    # The selected node's tasks, under the table.
    # (a task may still be starting when it is first listed: the line follows it to running)
    qtbot.waitUntil(lambda: nodes.node_tasks.text().startswith(f"Tasks on {target.hostname} (")
                    and "spread." in nodes.node_tasks.text() and " running" in nodes.node_tasks.text(), timeout=30000)
    click(qtbot, nodes.buttons["drain"][0])
    text = answer_confirm(qtbot, accept=True)
    assert text.startswith(f"Drain {target.hostname}? Its ")
    assert "spread." in text and "will be stopped there and started on other nodes" in text
    qtbot.waitUntil(lambda: _cell(nodes, target.node_id, "Availability") == "drain", timeout=15000)
    qtbot.waitUntil(lambda: _cell(nodes, target.node_id, "Tasks") == "0"
                    and sum(int(_cell(nodes, n.node_id, "Tasks") or 0) for n in cluster.nodes) == 6, timeout=40000)
    assert nodes.select_key(target.node_id)
    qtbot.waitUntil(lambda: nodes.node_tasks.text() == f"No tasks on {target.hostname}.", timeout=10000)
    click(qtbot, nodes.buttons["activate"][0])
    qtbot.waitUntil(lambda: _cell(nodes, target.node_id, "Availability") == "active", timeout=15000)

    click(qtbot, nodes.buttons["joinTokens"][0])
    panel = nodes.tokens_panel
    qtbot.waitUntil(panel.isVisible, timeout=10000)
    tokens = swarm_api.inspect_swarm()["JoinTokens"]
    token = tokens["Worker"]
    assert token not in panel.text() and token not in panel.line("worker")
    exact = f"docker swarm join --token {token} {cluster.manager.address}:2377"
    click(qtbot, panel.copy_buttons["worker"])  # the exact line, though it is not shown
    assert QApplication.clipboard().text() == exact and token not in panel.text()
    click(qtbot, panel.show_buttons["worker"])
    assert panel.line("worker") == exact and panel.fields["worker"].text() == exact
    assert tokens["Manager"] not in panel.text() and panel.show_buttons["worker"].text() == "Hide token"
    click(qtbot, panel.show_buttons["worker"])
    assert token not in panel.text()

    # Leaving the page stops the task refreshes.
    ph.window.show_page("containers")
    qtbot.waitUntil(lambda: page.state.tasks.watched == set(), timeout=20000)


def test_promote_demote_and_remove_a_down_node(qtbot, app_factory, await_, swarm_cluster, swarm_api):
    cluster = swarm_cluster
    ph, page, view = _manager(qtbot, app_factory, await_, cluster)
    nodes = view.nodes
    victim, other = cluster.workers
    qtbot.waitUntil(lambda: nodes.model.rowCount() == 3, timeout=10000)
    assert nodes.select_key(victim.node_id)
    click(qtbot, nodes.buttons["promote"][0])
    # Demoted only once it has joined the managers' raft (a manager still joining is reported
    # without reachability): the swarm's own `docker node demote` wants the same.
    qtbot.waitUntil(lambda: _cell(nodes, victim.node_id, "Role") == "manager"
                    and page.state.nodes.get(victim.node_id).reachability == "reachable", timeout=30000)
    assert nodes.select_key(victim.node_id)
    click(qtbot, nodes.buttons["demote"][0])
    qtbot.waitUntil(lambda: _cell(nodes, victim.node_id, "Role") == "worker", timeout=20000)

    # A node that is up is not removed: the page says what to do instead.
    assert nodes.select_key(other.node_id)
    click(qtbot, nodes.buttons["removeNode"][0])
    qtbot.waitUntil(lambda: nodes.message.is_error and "only a node that is down can be removed"
                    in nodes.message.text(), timeout=20000)
    try:
        victim.kill()
        qtbot.waitUntil(lambda: _cell(nodes, victim.node_id, "Status").startswith("down"), timeout=30000)
        assert nodes.select_key(victim.node_id)
        click(qtbot, nodes.buttons["removeNode"][0])
        assert f"Remove {victim.hostname} from the swarm?" in answer_confirm(qtbot, accept=True)
        qtbot.waitUntil(lambda: nodes.model.row_of(victim.node_id) < 0, timeout=15000)
    finally:
        cluster.rejoin(victim)
    qtbot.waitUntil(lambda: nodes.model.row_of(victim.node_id) >= 0
                    and _cell(nodes, victim.node_id, "Status") == "ready", timeout=30000)


def test_service_create_scale_rolling_update_rollback_logs_remove(qtbot, app_factory, await_, swarm_cluster,
                                                                    swarm_api):
    ph, page, view = _manager(qtbot, app_factory, await_, swarm_cluster)
    view.tabs.setCurrentWidget(view.services)
    services = view.services
    dlg = open_dialog(qtbot, services, "createService", "create_dialog")
    fill(qtbot, dlg, name="bad name!", image=BUSYBOX, replicas="2", memory="1k")
    assert "letters, digits" in field_error(dlg, "name")
    assert "at least 6m" in field_error(dlg, "memory")
    fill(qtbot, dlg, name="hello", memory="", ports="18181:80", stop_signal="SIGKILL",
         command='sh -c "echo hello-from-$(hostname); i=0; while sleep 1; do i=$((i+1)); echo tick-$i; done"')
    submit_and_wait_closed(qtbot, dlg)
    qtbot.waitUntil(lambda: any(s.name == "hello" for s in page.state.services.all()), timeout=10000)
    sid = next(s.id for s in page.state.services.all() if s.name == "hello")
    qtbot.waitUntil(lambda: _cell(services, sid, "Replicas") == "2/2", timeout=30000)
    assert _cell(services, sid, "Ports") == "18181→80"

    # A second service on the same port: the engine's refusal, as a sentence in the form.
    dlg = open_dialog(qtbot, services, "createService", "create_dialog")
    fill(qtbot, dlg, name="clash", image=BUSYBOX, ports="18181:80")
    click(qtbot, dlg.ok_button)
    qtbot.waitUntil(lambda: "port 18181 is already published by service hello" in field_error(dlg, "form"),
                    timeout=15000)
    dlg.reject()

    assert services.select_key(sid)
    dlg = open_dialog(qtbot, services, "scale", "scale_dialog")
    fill(qtbot, dlg, replicas="3")
    submit_and_wait_closed(qtbot, dlg)
    qtbot.waitUntil(lambda: _cell(services, sid, "Replicas") == "3/3", timeout=30000)

    assert services.select_key(sid)
    dlg = open_dialog(qtbot, services, "updateImage", "update_dialog")
    fill(qtbot, dlg, image=TEST_IMAGE_V2, parallelism="1", delay="0", monitor="0.5")
    submit_and_wait_closed(qtbot, dlg)
    sp = view.service_page
    qtbot.waitUntil(lambda: view.currentWidget() is sp and sp.service_id == sid, timeout=10000)
    assert page.state.tasks.watched >= {sid}
    seen: list[int] = []
    qtbot.waitUntil(lambda: seen.append(sp.progress_bar.value()) or
                    sp.progress_label.text().startswith(f"Updating to {TEST_IMAGE_V2}: 3 of 3 tasks (updated)"),
                    timeout=90000)
    assert seen == sorted(seen) and sp.progress_bar.maximum() == 3
    rows = [[sp.task_table.item(r, c).text() for c in range(sp.task_table.columnCount())]
            for r in range(sp.task_table.rowCount())]
    assert sum(1 for r in rows if r[2] == TEST_IMAGE_V2 and r[4] == "running") == 3
    assert any(r[2] == BUSYBOX and r[3] == "shutdown" for r in rows), "history shows the replaced tasks"

    click(qtbot, sp.rollback_button)
    answer_confirm(qtbot, accept=True)
    qtbot.waitUntil(lambda: sp.progress_label.text().startswith(f"Rolling back to {BUSYBOX}: 3 of 3 tasks (rolled back)"),
                    timeout=90000)

    sp.tabs.setCurrentIndex(1)  # merged logs of every task, across nodes
    names = {n.hostname for n in swarm_cluster.nodes}
    qtbot.waitUntil(lambda: "hello-from-" in sp.logs.toPlainText(), timeout=20000)
    log_text = sp.logs.toPlainText()
    assert any(f"hello@{h}" in log_text for h in names)
    # It follows: the tasks' new lines keep arriving while the tab is open.
    assert sp.follow.isChecked()
    ticks = log_text.count("tick-")
    qtbot.waitUntil(lambda: sp.logs.toPlainText().count("tick-") >= ticks + 6, timeout=30000)
    sp.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: '"Name": "hello"' in sp.inspect.toPlainText(), timeout=10000)

    click(qtbot, sp.findChild(type(sp.rollback_button), "serviceBackButton"))
    assert view.currentWidget() is view.tabs
    qtbot.waitUntil(lambda: sid not in page.state.tasks.watched, timeout=20000)
    assert services.select_key(sid)
    click(qtbot, services.buttons["removeService"][0])
    assert "Remove service hello?" in answer_confirm(qtbot, accept=True)
    qtbot.waitUntil(lambda: services.model.row_of(sid) < 0, timeout=15000)


def test_stacks_deploy_cancel_and_remove(qtbot, app_factory, await_, swarm_cluster, swarm_api, tmp_path):
    compose = tmp_path / "stack.yml"
    compose.write_text(textwrap.dedent("""\
        version: "3.8"
        services:
          web:
            image: pilothouse-test/busybox:latest
            command: ["sleep", "3600"]
            stop_signal: SIGKILL
            deploy: {replicas: 2}
        configs:
          site:
            file: ./site.conf
        """))
    (tmp_path / "site.conf").write_text("listen 80\n")
    ph, page, view = _manager(qtbot, app_factory, await_, swarm_cluster)
    view.tabs.setCurrentWidget(view.stacks)
    stacks = view.stacks
    click(qtbot, stacks.deploy_button)
    qtbot.waitUntil(lambda: getattr(stacks, "deploy_dialog", None) is not None and stacks.deploy_dialog.isVisible(),
                    timeout=20000)
    dlg = stacks.deploy_dialog
    fill(qtbot, dlg, name="bad stack!")
    click(qtbot, dlg.ok_button)
    qtbot.waitUntil(lambda: "Choose the Compose file" in field_error(dlg, "file"), timeout=20000)
    assert "letters, digits" in field_error(dlg, "name")
    fill(qtbot, dlg, file=str(compose), name="shop", resolve="never")
    submit_and_wait_closed(qtbot, dlg)
    qtbot.waitUntil(lambda: stacks.message.text() == "Stack shop was deployed.", timeout=60000)
    assert "Creating service shop_web" in stacks.output.toPlainText()
    qtbot.waitUntil(lambda: [(s.name, s.services, s.configs) for s in stacks.stacks] == [("shop", ("shop_web",), 1)],
                    timeout=15000)

    # Cancel stops the running CLI (a real process that would otherwise run for a minute).
    stacks._start(ComposeRun(["sleep", "60"], {}, None, stacks._on_line), "Deploying…", "done", "failed")
    assert stacks.cancel_button.isEnabled()
    click(qtbot, stacks.cancel_button)
    qtbot.waitUntil(lambda: stacks.message.text().startswith("Cancelled."), timeout=10000)
    assert stacks.deploy_button.isEnabled()

    assert stacks.select("shop")
    click(qtbot, stacks.remove_button)
    assert "shop_web" in answer_confirm(qtbot, accept=True)
    qtbot.waitUntil(lambda: stacks.message.text() == "Stack shop was removed.", timeout=60000)
    qtbot.waitUntil(lambda: stacks.stacks == [], timeout=15000)


def test_secret_create_hidden_value_and_refused_removal(qtbot, app_factory, await_, swarm_cluster, swarm_api,
                                                         tmp_path):
    ph, page, view = _manager(qtbot, app_factory, await_, swarm_cluster)
    view.tabs.setCurrentWidget(view.secrets)
    secrets = view.secrets
    value = "hunter2-not-to-be-shown"
    dlg = open_dialog(qtbot, secrets, "createSecrets", "create_dialog")
    fill(qtbot, dlg, name="db_pass", text=value)
    submit_and_wait_closed(qtbot, dlg)
    qtbot.waitUntil(lambda: any(s.name == "db_pass" for s in page.state.secrets.all()), timeout=10000)
    assert "its value is not shown again" in secrets.message.text()
    assert dlg.inputs["text"].text() == ""
    sec = next(s for s in page.state.secrets.all() if s.name == "db_pass")
    cells = [secrets.model.index(r, c).data() for r in range(secrets.model.rowCount())
             for c in range(secrets.model.columnCount())]
    assert value not in " ".join(str(c) for c in cells)
    _service(swarm_api, "needs-secret", cs={"secrets": [docker.types.SecretReference(sec.id, "db_pass")]})
    assert secrets.select_key(sec.id)
    click(qtbot, secrets.buttons["removeSecrets"][0])
    answer_confirm(qtbot, accept=True)
    qtbot.waitUntil(lambda: secrets.message.is_error and "is in use by needs-secret" in secrets.message.text(),
                    timeout=15000)
    assert sec.id in page.state.secrets
    assert value not in secrets.message.text()

    # From a file: the form reads it off the UI thread; both text and file, or a missing or too
    # large file, are refused where they were typed.
    secret_file = tmp_path / "tls.key"
    secret_file.write_bytes(b"-----BEGIN KEY-----\nnot-shown\n")
    dlg = open_dialog(qtbot, secrets, "createSecrets", "create_dialog")
    fill(qtbot, dlg, name="tls_key", text="also", file=str(secret_file))
    assert "not both" in submit_and_wait_error(qtbot, dlg, "file")
    fill(qtbot, dlg, text="", file=str(tmp_path / "missing.key"))
    assert "Could not read" in submit_and_wait_error(qtbot, dlg, "file")
    big = tmp_path / "big.key"
    big.write_bytes(b"x" * (600 * 1024))
    fill(qtbot, dlg, file=str(big))
    assert "at most 500 KiB" in submit_and_wait_error(qtbot, dlg, "file")
    fill(qtbot, dlg, file=str(secret_file))
    submit_and_wait_closed(qtbot, dlg)
    qtbot.waitUntil(lambda: any(s.name == "tls_key" for s in page.state.secrets.all()), timeout=10000)
    assert "not-shown" not in secrets.message.text()

    # A config's content is readable back from the engine: it is the file's bytes exactly.
    view.tabs.setCurrentWidget(view.configs)
    conf_file = tmp_path / "app.conf"
    conf_file.write_bytes("listen = 8080\nname = \u00e9t\u00e9\n".encode())
    dlg = open_dialog(qtbot, view.configs, "createConfigs", "create_dialog")
    fill(qtbot, dlg, name="app_conf", file=str(conf_file))
    submit_and_wait_closed(qtbot, dlg)
    qtbot.waitUntil(lambda: any(c.name == "app_conf" for c in page.state.configs.all()), timeout=10000)
    conf = next(c for c in swarm_api.configs() if c["Spec"]["Name"] == "app_conf")
    assert base64.b64decode(conf["Spec"]["Data"]) == conf_file.read_bytes()


def test_worker_and_non_swarm_engines_explain_and_initialise(qtbot, app_factory, await_, swarm_cluster):
    ph, page = _open_swarm(qtbot, app_factory, await_, swarm_cluster.workers[0].host)
    qtbot.waitUntil(lambda: page.explain.isVisible(), timeout=10000)
    assert page.explain.heading.text() == "This engine is a swarm worker"
    assert "connect to a manager to manage the swarm" in page.explain.text.text()
    assert swarm_cluster.manager.address in page.explain.text.text()
    assert page.explain.init_button.isHidden()

    spare = swarm_cluster.spares[0]
    ph2, page2 = _open_swarm(qtbot, app_factory, await_, spare.host)
    qtbot.waitUntil(lambda: page2.explain.isVisible(), timeout=10000)
    assert page2.explain.heading.text() == "Not part of a swarm"
    try:
        click(qtbot, page2.explain.init_button)
        qtbot.waitUntil(lambda: getattr(page2, "init_dialog", None) is not None and page2.init_dialog.isVisible(),
                        timeout=20000)
        dlg = page2.init_dialog
        fill(qtbot, dlg, addr="127.0.0.1")
        assert "loopback" in field_error(dlg, "addr")
        fill(qtbot, dlg, addr="0.0.0.0")
        assert "not one address" in field_error(dlg, "addr")
        fill(qtbot, dlg, addr=spare.address)
        submit_and_wait_closed(qtbot, dlg)
        assert f"advertised at {spare.address}" in answer_confirm(qtbot, accept=True)
        qtbot.waitUntil(lambda: page2.view is not None and page2.view.isVisible(), timeout=30000)
        qtbot.waitUntil(lambda: page2.view.nodes.model.rowCount() == 1, timeout=15000)
    finally:
        api = spare.api()
        with contextlib.suppress(docker.errors.APIError):
            api.leave_swarm(force=True)
        api.close()
    assert QApplication.activeModalWidget() is None


def test_page_follows_the_engine_switcher(qtbot, await_, aloop, swarm_cluster):
    """Two engines: the page shows the selected one's swarm (the primary's under "All engines")."""
    from desktop.app import Pilothouse
    from desktop.engine.endpoints import Endpoint

    ph = Pilothouse([Endpoint(swarm_cluster.workers[0].host, "--host")],
                    [("mgr", [Endpoint(swarm_cluster.manager.host, "--host")])])
    ph.window.resize(1200, 700)
    ph.window.show()
    ph.start()
    try:
        await_(ph.first_load(timeout=30))
        ph.window.show_page("swarm")
        page = ph.swarm.page
        qtbot.waitUntil(lambda: page.explain.isVisible()
                        and page.explain.heading.text() == "This engine is a swarm worker", timeout=20000)
        assert "the primary engine" in page.caption.text()
        ph.window.select_engine("mgr")
        qtbot.waitUntil(lambda: page.engine == "mgr" and page.view is not None and page.view.isVisible()
                        and page.view.nodes.model.rowCount() == 3, timeout=20000)
        assert page.caption.text() == "Engine mgr"
        ph.window.select_engine(None)
        qtbot.waitUntil(lambda: page.explain.isVisible(), timeout=10000)
    finally:
        await_(ph.aclose())
        ph.window.close()
        ph.window.deleteLater()


def test_swarm_tabs_service_page_and_forms_in_tab_order(qtbot, app_factory, await_, swarm_cluster, swarm_api):
    """A swarm manager's tabs, the join tokens, a service's page and the create forms, walked with
    real Tab presses: every control reached in reading order, no trap; the page's controls named."""
    from tests.ui.a11y_names import nameless
    from tests.ui.tab_walk import TAB_JUMPS, walk

    ph, page, view = _manager(qtbot, app_factory, await_, swarm_cluster)
    sid = _service(swarm_api, "tabwalk")
    ph.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is ph.window)
    problems: list[str] = []
    for i in range(view.tabs.count()):
        view.tabs.setCurrentIndex(i)
        QApplication.processEvents()
        problems += walk(page, f"swarm, {view.tabs.tabText(i)} tab", TAB_JUMPS).problems
    for tab, button in ((view.services, "createService"), (view.secrets, "createSecrets"),
                        (view.configs, "createConfigs")):
        view.tabs.setCurrentWidget(tab)
        dlg = open_dialog(qtbot, tab, button, "create_dialog")
        dlg.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is dlg)
        problems += walk(dlg, dlg.windowTitle(), TAB_JUMPS).problems
        dlg.reject()
        qtbot.waitUntil(lambda: not dlg.isVisible())
        ph.window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is ph.window)
    # The join tokens, shown on the Nodes tab: each line, Show token and Copy reached in order, named.
    view.tabs.setCurrentWidget(view.nodes)
    click(qtbot, view.nodes.buttons["joinTokens"][0])
    panel = view.nodes.tokens_panel
    qtbot.waitUntil(lambda: panel.isVisible() and bool(panel.text()), timeout=10000)
    walked = walk(page, "swarm, Nodes tab with the join tokens", TAB_JUMPS)
    problems += walked.problems
    order = [w for w in walked.visited if panel.isAncestorOf(w)]
    assert order == [panel.fields["worker"], panel.show_buttons["worker"], panel.copy_buttons["worker"],
                     panel.fields["manager"], panel.show_buttons["manager"], panel.copy_buttons["manager"]], order
    problems += [f"swarm page: nameless {p}" for p in nameless(page)]
    view.tabs.setCurrentWidget(view.services)
    qtbot.waitUntil(lambda: view.services.select_key(sid), timeout=20000)
    click(qtbot, view.services.buttons["openService"][0])
    sp = view.service_page
    qtbot.waitUntil(lambda: view.currentWidget() is sp)
    for i in range(sp.tabs.count()):
        sp.tabs.setCurrentIndex(i)
        QApplication.processEvents()
        problems += walk(page, f"service page, {sp.tabs.tabText(i)} tab", TAB_JUMPS).problems
    assert not problems, "\n".join(problems)


def test_screenshot_of_the_swarm_page(swarm_cluster, swarm_api, tmp_path):
    """`pilothouse --screenshot FILE --page swarm`: a real process, waiting for the swarm's lists."""
    from PySide6.QtGui import QImage

    from tests.ui.test_cli import run_cli

    png = tmp_path / "swarm.png"
    out = run_cli("--host", swarm_cluster.manager.host, "--screenshot", str(png), "--page", "swarm")
    assert out.returncode == 0, out.stderr
    assert f"wrote {png}: the swarm page, 3 rows" in out.stdout, out.stdout  # the Nodes tab, listed
    img = QImage(str(png))
    assert not img.isNull() and img.width() >= 800 and img.height() >= 500
