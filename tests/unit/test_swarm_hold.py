"""Holding a rolling update: the specs sent for Pause, Resume and Roll back, and what the view says."""

from __future__ import annotations

import json

from desktop.engine.swarm_hold import (BEFORE_LABEL, HOLD_DELAY_NS, HOLD_LABEL, held_delay, held_spec, resumed_spec,
                                       rollback_spec)
from desktop.engine.swarm_records import SwarmService, SwarmTask
from desktop.presentation.swarm import pause_blocker, pause_hint, update_progress, update_text


def _spec(image: str, delay: int = 3_000_000_000, replicas: int = 3, labels: dict | None = None) -> dict:
    return {"Name": "web", "Labels": dict(labels or {}), "Mode": {"Replicated": {"Replicas": replicas}},
            "TaskTemplate": {"ContainerSpec": {"Image": image, "Args": ["sleep", "3600"]}, "ForceUpdate": 0},
            "UpdateConfig": {"Parallelism": 1, "Delay": delay, "FailureAction": "pause", "Order": "stop-first"}}


def _raw(spec: dict, prev: dict | None, state: str = "updating") -> dict:
    return {"ID": "s1", "Version": {"Index": 10}, "Spec": spec, "PreviousSpec": prev,
            "UpdateStatus": {"State": state, "Message": "update in progress"}}


def test_hold_keeps_the_own_delay_and_the_spec_from_before_the_update():
    v1, v2 = _spec("app:v1", delay=0), _spec("app:v2")
    held = held_spec(_raw(v2, v1))
    assert held["UpdateConfig"]["Delay"] == HOLD_DELAY_NS
    assert held_delay(held["Labels"]) == 3_000_000_000
    assert held["TaskTemplate"] == v2["TaskTemplate"], "the tasks' spec is untouched: none becomes dirty"
    assert json.loads(held["Labels"][BEFORE_LABEL])["spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "app:v1"
    assert "Labels" in v2 and HOLD_LABEL not in v2["Labels"], "the inspect it was made from is not changed"

    # The swarm now has the update's own spec as PreviousSpec; Resume puts the delay back.
    resumed = resumed_spec(_raw(held, v2))
    assert resumed["UpdateConfig"]["Delay"] == 3_000_000_000
    assert HOLD_LABEL not in resumed["Labels"] and BEFORE_LABEL in resumed["Labels"]

    # Roll back after both: the swarm's target (the held spec) differs only in the delay, so the
    # spec from before the update is sent, without Pilothouse's labels.
    back = rollback_spec(_raw(resumed, held, "completed"))
    assert back["TaskTemplate"]["ContainerSpec"]["Image"] == "app:v1"
    assert back["UpdateConfig"]["Delay"] == 0
    assert not set(back["Labels"]) & {HOLD_LABEL, BEFORE_LABEL}


def test_the_swarms_own_rollback_when_its_target_is_a_real_earlier_version():
    v1, v2 = _spec("app:v1"), _spec("app:v2")
    assert rollback_spec(_raw(v2, v1)) is None, "no hold: the swarm's PreviousSpec is right"
    held = held_spec(_raw(v2, v1))
    resumed = resumed_spec(_raw(held, v2))
    scaled = dict(resumed, Mode={"Replicated": {"Replicas": 5}})
    assert rollback_spec(_raw(scaled, resumed)) is None, "a later scale is undone by the swarm's rollback"
    other = _spec("app:v3", labels=resumed["Labels"])
    assert rollback_spec(_raw(other, resumed)) is None, "a saved version of another update is ignored"


def test_resume_of_an_update_the_swarm_paused_sends_the_same_spec_and_saves_the_earlier_one():
    v1, v2 = _spec("app:v1"), _spec("app:v2")
    resumed = resumed_spec(_raw(v2, v1, "paused"))
    assert resumed["UpdateConfig"] == v2["UpdateConfig"] and resumed["TaskTemplate"] == v2["TaskTemplate"]
    assert rollback_spec(_raw(resumed, v2, "updating"))["TaskTemplate"]["ContainerSpec"]["Image"] == "app:v1"


def _task(tid, slot, image, state="running", desired="running", updated="2026-01-01T00:00:01Z"):
    return SwarmTask(tid, "e", "s1", "n1", slot, state, desired, image=image, updated=updated)


def test_pause_is_offered_only_when_there_is_a_later_batch_to_hold():
    tasks = [_task("a", 1, "app:v2"), _task("b", 2, "app:v1"), _task("c", 3, "app:v1")]
    svc = SwarmService("s1", "e", "web", "replicated", 3, "app:v2", update_state="updating")
    p = update_progress(svc, tasks)
    assert (p.pending, pause_blocker(p)) == (2, "")
    assert pause_hint(p).startswith("Pause: the swarm finishes any task it is replacing and replaces one more task")
    last = update_progress(svc, tasks[:1] + [_task("b", 2, "app:v2", "starting"), tasks[2]])
    assert "the swarm would replace it before it holds" in pause_blocker(last)
    wide = SwarmService("s1", "e", "web", "replicated", 3, "app:v2", update_state="updating", update_parallelism=0)
    assert "every task at once" in pause_blocker(update_progress(wide, tasks))
    back = SwarmService("s1", "e", "web", "replicated", 3, "app:v2", update_state="rollback_started")
    assert "a rollback cannot" in pause_blocker(update_progress(back, tasks))

    held = SwarmService("s1", "e", "web", "replicated", 3, "app:v2", update_state="updating",
                        labels={HOLD_LABEL: json.dumps({"delay": 3_000_000_000})})
    hp = update_progress(held, tasks)
    assert hp.held and update_text(held) == "update held"
    assert "Resume puts its 3 s delay back" in pause_hint(hp)
    paused = SwarmService("s1", "e", "web", "replicated", 3, "app:v2", update_state="paused")
    assert pause_hint(update_progress(paused, tasks)).startswith("The swarm paused the update itself.")
