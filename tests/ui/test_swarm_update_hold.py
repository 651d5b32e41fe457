"""Pause, Resume and Roll back of a rolling update in the service page, on a real three-node swarm.

The swarm has no pause call (desktop/engine/swarm_hold.py): what the page offers is checked
against what the engine then does with the service's tasks.
"""

from __future__ import annotations

import docker
from PySide6.QtWidgets import QPushButton

from desktop.engine.swarm_hold import HOLD_DELAY_NS, HOLD_LABEL
from tests.harness.swarm import TEST_IMAGE_V2
from tests.ui.objects_helpers import answer_confirm, click, fill, open_dialog, submit_and_wait_closed
from tests.ui.test_swarm_page import BUSYBOX, _cell, _manager, _service, swarm_api  # noqa: F401 - fixture

OWN_DELAY_S = 6


def _current(api, sid: str) -> list[tuple[int, str, str, str]]:
    """The engine's tasks meant to run: (slot, image, state, id), by slot."""
    out = []
    for t in api.tasks(filters={"service": sid, "desired-state": "running"}):
        image = t["Spec"]["ContainerSpec"]["Image"].split("@")[0]
        out.append((t.get("Slot") or 0, image, t["Status"]["State"], t["ID"]))
    return sorted(out)


def _on(rows, image: str) -> int:
    return sum(1 for r in rows if r[1] == image and r[2] == "running")


def _open_update(qtbot, view, sid: str, **values):
    services = view.services
    view.tabs.setCurrentWidget(services)
    qtbot.waitUntil(lambda: services.select_key(sid), timeout=20000)
    dlg = open_dialog(qtbot, services, "updateImage", "update_dialog")
    fill(qtbot, dlg, image=TEST_IMAGE_V2, **values)
    submit_and_wait_closed(qtbot, dlg)
    sp = view.service_page
    qtbot.waitUntil(lambda: view.currentWidget() is sp and sp.service_id == sid, timeout=10000)
    return sp


def test_pause_holds_the_update_resume_finishes_it_and_roll_back_still_goes_back(
        qtbot, app_factory, await_, swarm_cluster, swarm_api):
    api = swarm_api
    sid = _service(api, "held", replicas=3)
    ph, page, view = _manager(qtbot, app_factory, await_, swarm_cluster)
    qtbot.waitUntil(lambda: _cell(view.services, sid, "Replicas") == "3/3", timeout=40000)

    sp = _open_update(qtbot, view, sid, parallelism="1", delay=str(OWN_DELAY_S), monitor="0.5")
    # One task replaced; the swarm waits 6 s before the next: Pause is offered, and says what it does.
    qtbot.waitUntil(lambda: sp.progress_bar.value() == 1 and sp.pause_button.isVisible()
                    and sp.pause_button.isEnabled(), timeout=60000)
    assert sp.hold_hint.text().startswith("Pause: the swarm finishes any task it is replacing and replaces one "
                                          "more task, then holds")
    assert not sp.resume_button.isVisible()
    click(qtbot, sp.pause_button)
    qtbot.waitUntil(lambda: "(update held)" in sp.progress_label.text() and sp.resume_button.isVisible(),
                    timeout=20000)
    assert sp.hold_hint.text().startswith("Held by Pilothouse")
    assert f"Resume puts its {OWN_DELAY_S} s delay back" in sp.hold_hint.text()
    assert not sp.pause_button.isVisible()
    assert _cell(view.services, sid, "Update") == "update held"
    spec = api.inspect_service(sid)["Spec"]
    assert spec["UpdateConfig"]["Delay"] == HOLD_DELAY_NS and HOLD_LABEL in spec["Labels"]

    # The engine: as the swarm restarts its rollout on any change, one more task is replaced...
    qtbot.waitUntil(lambda: sp.progress_bar.value() == 2, timeout=60000)
    rows = _current(api, sid)
    assert (_on(rows, TEST_IMAGE_V2), _on(rows, BUSYBOX)) == (2, 1), rows
    # ...and then nothing more. Observed for twice the update's own delay (an absence has no
    # event to wait for): the last old task keeps running, every store refresh sees the same tasks.
    seen: list[list] = []

    def note() -> None:
        seen.append(sorted(t.id for t in page.state.tasks.of_service(sid) if t.desired_state == "running"))

    page.state.tasks.refreshed.connect(note)
    try:
        qtbot.wait(2 * OWN_DELAY_S * 1000)
    finally:
        page.state.tasks.refreshed.disconnect(note)
    assert len(seen) >= 3, "the page kept listing the tasks while the update was held"
    assert all(ids == seen[0] for ids in seen), "a task was replaced while the update was held"
    assert _current(api, sid) == rows
    assert api.inspect_service(sid)["UpdateStatus"]["State"] == "updating"

    click(qtbot, sp.resume_button)
    qtbot.waitUntil(lambda: sp.progress_label.text().startswith(f"Updating to {TEST_IMAGE_V2}: 3 of 3 tasks (updated)"),
                    timeout=90000)
    inspect = api.inspect_service(sid)
    assert inspect["UpdateStatus"]["State"] == "completed"
    assert inspect["Spec"]["UpdateConfig"]["Delay"] == OWN_DELAY_S * 1_000_000_000
    assert HOLD_LABEL not in inspect["Spec"]["Labels"]
    assert _on(_current(api, sid), TEST_IMAGE_V2) == 3

    # The swarm's own rollback target is now the held spec (same image); Roll back goes to the
    # version from before the update all the same.
    assert inspect["PreviousSpec"]["TaskTemplate"]["ContainerSpec"]["Image"].startswith(TEST_IMAGE_V2)
    click(qtbot, sp.rollback_button)
    answer_confirm(qtbot, accept=True)
    qtbot.waitUntil(lambda: sp.progress_label.text().startswith(f"Updating to {BUSYBOX}: 3 of 3 tasks"), timeout=90000)
    rows = _current(api, sid)
    assert _on(rows, BUSYBOX) == 3, rows
    assert api.inspect_service(sid)["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"].startswith(BUSYBOX)


def test_the_swarms_own_pause_after_a_failed_task_and_resume(qtbot, app_factory, await_, swarm_cluster, swarm_api,
                                                              tmp_path):
    api = swarm_api
    # Every node is a dockerd on this machine: a bind-mounted directory is the same one on all of
    # them, so a file in it decides for every task whether it starts.
    flags = tmp_path / "flags"
    flags.mkdir()
    (flags / "ok").write_text("")
    mount = docker.types.Mount("/flags", str(flags), type="bind", read_only=True)
    sid = _service(api, "fragile", replicas=3, command=("sh", "-c", "test -e /flags/ok || exit 3; exec sleep 3600"),
                   cs={"mounts": [mount]})
    ph, page, view = _manager(qtbot, app_factory, await_, swarm_cluster)
    qtbot.waitUntil(lambda: _cell(view.services, sid, "Replicas") == "3/3", timeout=40000)

    (flags / "ok").unlink()  # the tasks running go on; any new one fails at once
    # The 3 s delay gives the failure time to reach the manager before a second task would start.
    sp = _open_update(qtbot, view, sid, parallelism="1", delay="3", monitor="3")
    qtbot.waitUntil(lambda: "(update paused)" in sp.progress_label.text() and sp.resume_button.isVisible(),
                    timeout=60000)
    assert "update paused due to failure or early termination of task" in sp.progress_label.text()
    assert sp.hold_hint.text().startswith("The swarm paused the update itself. Resume sends the service's spec again")
    assert not sp.pause_button.isVisible()
    status = api.inspect_service(sid)["UpdateStatus"]
    assert status["State"] == "paused"
    assert _on(_current(api, sid), BUSYBOX) == 2, "the other two slots were not touched"

    (flags / "ok").write_text("")
    click(qtbot, sp.resume_button)
    qtbot.waitUntil(lambda: sp.progress_label.text().startswith(f"Updating to {TEST_IMAGE_V2}: 3 of 3 tasks (updated)"),
                    timeout=120000)
    assert api.inspect_service(sid)["UpdateStatus"]["State"] == "completed"
    assert _on(_current(api, sid), TEST_IMAGE_V2) == 3
    assert sp.findChild(QPushButton, "resumeUpdateButton").isHidden()
