"""Holding a rolling update and letting it go on, with only what the swarm offers.

The Engine API has no call that pauses an update. In swarmkit only the updater itself enters
UpdateStatus PAUSED (a task it started failed and FailureAction is pause), and no client can set
UpdateStatus: every service update resets it (manager/controlapi/service.go UpdateService), and an
updater with a paused status does nothing until then (manager/orchestrator/update/updater.go Run).
That is why re-sending the same spec resumes an update the swarm paused (`docker service update
SERVICE`, as Docker's docs say).

What a client can change is UpdateConfig.Delay, the wait after each batch. A spec that differs
makes the update supervisor cancel the running updater and start a new one for the tasks still on
the old version (update.Supervisor.Update): the batch under way is already in the store and
finishes, and the new updater replaces one more batch at once, since its delay comes after a batch,
not before. A very long delay then holds the update there; putting the delay back lets it go on.

Every update also makes the spec before it the service's PreviousSpec, which is what the swarm's
rollback goes back to. After a hold or a resume that is the update's own spec, and a rollback
would change nothing; so the spec from before the update is kept in a label of the service, and
Roll back sends it when the swarm's own target differs from the current spec only in what the
hold changed.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any

HOLD_LABEL = "io.pilothouse.update.hold"  # {"delay": the update's own delay in ns}
BEFORE_LABEL = "io.pilothouse.update.before"  # {"for": the template it belongs to, "spec": the spec to go back to}
OUR_LABELS = (HOLD_LABEL, BEFORE_LABEL)
# Long enough to be "until resumed"; far below the 10,000 years a protobuf duration allows.
HOLD_DELAY_NS = 10 * 365 * 24 * 3600 * 1_000_000_000


def held_delay(labels: Mapping[str, str]) -> int | None:
    """The update's own delay (ns) while Pilothouse holds it, else None."""
    raw = labels.get(HOLD_LABEL)
    if raw is None:
        return None
    try:
        return max(int(json.loads(raw).get("delay") or 0), 0)
    except (ValueError, TypeError, AttributeError):
        return 0


def without_our_labels(spec: Mapping[str, Any]) -> dict:
    out = copy.deepcopy(dict(spec))
    labels = dict(out.get("Labels") or {})
    for key in OUR_LABELS:
        labels.pop(key, None)
    out["Labels"] = labels
    return out


def _template_key(spec: Mapping[str, Any]) -> str:
    text = json.dumps(spec.get("TaskTemplate") or {}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _comparable(spec: Mapping[str, Any]) -> str:
    """The spec without what a hold or a resume changes (the delay and these labels)."""
    out = without_our_labels(spec)
    uc = dict(out.get("UpdateConfig") or {})
    uc.pop("Delay", None)
    out["UpdateConfig"] = uc
    return json.dumps(out, sort_keys=True, separators=(",", ":"))


def _before(labels: Mapping[str, str], spec: Mapping[str, Any]) -> dict | None:
    raw = labels.get(BEFORE_LABEL)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("for") != _template_key(spec) or not isinstance(data.get("spec"), dict):
        return None  # from another update (someone changed the service since)
    return data["spec"]


def _keep_before(raw: Mapping[str, Any], spec: dict) -> None:
    """Before a call that replaces PreviousSpec, save the spec the update started from."""
    labels = spec.setdefault("Labels", {})
    current = raw.get("Spec") or {}
    if _before(current.get("Labels") or {}, current) is not None:
        return
    prev = raw.get("PreviousSpec")
    if not prev or _comparable(prev) == _comparable(current):
        return
    labels[BEFORE_LABEL] = json.dumps({"for": _template_key(current), "spec": without_our_labels(prev)},
                                      sort_keys=True, separators=(",", ":"))


def held_spec(raw: Mapping[str, Any]) -> dict:
    """The service's spec with its update held: a very long delay, the own delay kept in a label."""
    spec = copy.deepcopy(dict(raw["Spec"]))
    labels = dict(spec.get("Labels") or {})
    spec["Labels"] = labels
    uc = dict(spec.get("UpdateConfig") or {})
    if HOLD_LABEL not in labels:
        labels[HOLD_LABEL] = json.dumps({"delay": int(uc.get("Delay") or 0)})
    uc["Delay"] = HOLD_DELAY_NS
    spec["UpdateConfig"] = uc
    _keep_before(raw, spec)
    return spec


def resumed_spec(raw: Mapping[str, Any]) -> dict:
    """The spec that lets the update go on: its own delay back if held, else the same spec
    (a new updater starts either way, which is what leaves a paused status)."""
    spec = copy.deepcopy(dict(raw["Spec"]))
    labels = dict(spec.get("Labels") or {})
    spec["Labels"] = labels
    restore_delay(spec)
    _keep_before(raw, spec)
    return spec


def restore_delay(spec: dict) -> None:
    """Undo a hold in `spec` (in place): the update's own delay back, the hold label gone."""
    labels = spec.get("Labels") or {}
    delay = held_delay(labels)
    if delay is None:
        return
    uc = dict(spec.get("UpdateConfig") or {})
    if delay:
        uc["Delay"] = delay
    else:
        uc.pop("Delay", None)
    spec["UpdateConfig"] = uc
    labels.pop(HOLD_LABEL, None)


def rollback_spec(raw: Mapping[str, Any]) -> dict | None:
    """The spec Roll back must send as an update, or None when the swarm's own rollback is right."""
    current = raw.get("Spec") or {}
    before = _before(current.get("Labels") or {}, current)
    prev = raw.get("PreviousSpec")
    if before is None or (prev and _comparable(prev) != _comparable(current)):
        return None
    return without_our_labels(before)
