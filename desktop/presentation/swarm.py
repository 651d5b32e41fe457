"""Pure functions that turn swarm records into what the user reads (no Qt)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from desktop.engine.swarm_records import SwarmNode, SwarmService, SwarmTask

UPDATE_STATE_TEXT = {
    "updating": "updating",
    "paused": "update paused",
    "completed": "updated",
    "rollback_started": "rolling back",
    "rollback_paused": "rollback paused",
    "rollback_completed": "rolled back",
}


def node_status_text(n: SwarmNode) -> str:
    if n.state == "down":
        return "down (unreachable)" + (f": {n.message}" if n.message and n.message != "heartbeat failure" else "")
    return n.state


def node_role_text(n: SwarmNode) -> str:
    if n.role != "manager":
        return "worker"
    if n.leader:
        return "manager (leader)"
    return "manager" + (f" ({n.reachability})" if n.reachability and n.reachability != "reachable" else "")


def replicas_text(s: SwarmService, running: int) -> str:
    if s.mode in ("global", "global-job"):
        return f"{running} (global)"
    return f"{running}/{s.replicas}"


def ports_text(s: SwarmService) -> str:
    return ", ".join(str(p) for p in s.ports)


def update_text(s: SwarmService) -> str:
    return UPDATE_STATE_TEXT.get(s.update_state, s.update_state)


@dataclass(frozen=True)
class SlotProgress:
    slot: str  # replica number, or the node for a global service
    image: str  # what runs (or is starting) in it now
    state: str
    updated: bool


@dataclass(frozen=True)
class UpdateProgress:
    state: str  # the service's update state
    target_image: str
    updated: int
    total: int
    slots: tuple[SlotProgress, ...]
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.updated / self.total if self.total else 1.0

    @property
    def active(self) -> bool:
        return self.state in ("updating", "rollback_started")

    @property
    def paused(self) -> bool:
        return self.state in ("paused", "rollback_paused")


def update_progress(service: SwarmService | None, tasks: Iterable[SwarmTask],
                    node_names: Mapping[str, str] | None = None) -> UpdateProgress | None:
    """How far a rolling update (or rollback) has come: per slot, does the newest task run the target image?"""
    if service is None:
        return None
    names = node_names or {}
    newest: dict[str, SwarmTask] = {}
    for t in tasks:
        if t.service_id != service.id or t.desired_state not in ("running", "ready", "accepted"):
            continue
        slot = str(t.slot) if t.slot is not None else names.get(t.node_id, t.node_id[:12])
        cur = newest.get(slot)
        if cur is None or (t.updated or t.created) > (cur.updated or cur.created):
            newest[slot] = t
    slots = tuple(SlotProgress(k, t.image, t.state, t.image == service.image and t.running)
                  for k, t in sorted(newest.items(), key=lambda kv: (len(kv[0]), kv[0])))
    total = service.replicas if service.mode == "replicated" and service.replicas is not None else len(slots)
    done = sum(s.updated for s in slots)
    return UpdateProgress(service.update_state, service.image, min(done, total), total, slots, service.update_message)


def task_rows(tasks: Sequence[SwarmTask]) -> list[SwarmTask]:
    """A service's tasks as `docker service ps` orders them: by slot, newest first within a slot."""
    return sorted(tasks, key=lambda t: (t.slot if t.slot is not None else 0, t.node_id,
                                        "" if t.current else "1", _neg(t.created)))


def _neg(s: str) -> str:
    return "".join(chr(0x10FFFF - ord(c)) for c in s)


def mask_token(token: str) -> str:
    """A join token with its secret part hidden (`SWMTKN-1-<cluster>-<secret>`)."""
    if not token:
        return ""
    head = token[:14]
    return head + "•" * 12


def drain_summary(node: SwarmNode, tasks: Sequence[SwarmTask], service_names: Mapping[str, str]) -> str:
    """The drain confirmation's sentence: which tasks will move off the node."""
    current = [t for t in tasks if t.node_id == node.id and t.current]
    if not current:
        return f"Drain {node.hostname}? No tasks run on it now; new ones will not be placed there."
    names = [f"{service_names.get(t.service_id, t.service_id[:12])}.{t.slot}" if t.slot is not None
             else service_names.get(t.service_id, t.service_id[:12]) for t in current]
    shown = ", ".join(sorted(names)[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return (f"Drain {node.hostname}? Its {len(current)} task{'s' if len(current) != 1 else ''} ({shown}) will be "
            "stopped there and started on other nodes.")
