"""Pure functions that turn swarm records into what the user reads (no Qt)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from desktop.engine.swarm_hold import held_delay
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
    if s.update_state == "updating" and held_delay(s.labels) is not None:
        return "update held"
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
    pending: int = 0  # slots not started yet (their newest task still runs another image)
    parallelism: int = 1
    held_delay_ns: int | None = None  # the update's own delay while Pilothouse holds it

    @property
    def held(self) -> bool:
        return self.held_delay_ns is not None and self.state == "updating"

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
    pending = sum(1 for s in slots if s.image != service.image)
    return UpdateProgress(service.update_state, service.image, min(done, total), total, slots, service.update_message,
                          pending, service.update_parallelism, held_delay(service.labels))


def seconds_text(ns: int) -> str:
    s = ns / 1e9
    return f"{s:g} s" if s < 120 else f"{s / 60:.0f} min"


def pause_blocker(p: UpdateProgress) -> str:
    """Why Pause cannot hold this update (empty when it can)."""
    if p.state != "updating":
        return "Only an update under way can be held; a rollback cannot."
    if p.held:
        return "The update is held."
    if p.parallelism == 0:
        return "This update replaces every task at once: there is no later batch to hold."
    if p.pending <= p.parallelism:
        return (f"{p.pending} task{'s' if p.pending != 1 else ''} still to replace: the swarm would replace "
                f"{'them' if p.pending != 1 else 'it'} before it holds.")
    return ""


def pause_hint(p: UpdateProgress) -> str:
    """What Pause, Resume and the engine's own pause do, for the line under the progress bar."""
    batch = "task" if p.parallelism == 1 else f"batch of {p.parallelism} tasks"
    if p.held:
        own = seconds_text(p.held_delay_ns or 0) if p.held_delay_ns else "no"
        return (f"Held by Pilothouse: the update's delay between batches is set to 10 years (the swarm has no "
                f"pause call). Resume puts its {own} delay back; the swarm then replaces the next {batch} at once "
                f"and goes on with the rest.")
    if p.state == "rollback_paused":
        return ("The swarm paused the rollback itself. Resume sends the service's spec again, as `docker service "
                "update` does; the swarm then replaces the tasks not yet rolled back, as an update.")
    if p.paused:
        return ("The swarm paused the update itself. Resume sends the service's spec again, as `docker service "
                f"update` does; the swarm then goes on with the tasks still on the old version, {batch} at a time.")
    if p.state == "updating":
        return (f"Pause: the swarm finishes any task it is replacing and replaces one more {batch}, then holds "
                "(the swarm has no pause call: Pilothouse sets the update's delay to 10 years, and any change "
                "restarts the swarm's rollout). Roll back still returns to the version from before the update.")
    return ""


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


def node_tasks_text(node: SwarmNode, tasks: Sequence[SwarmTask], service_names: Mapping[str, str]) -> str:
    """The selected node's tasks under the Nodes table: which service's replica, in which state."""
    current = [t for t in tasks if t.node_id == node.id and t.current]
    if not current:
        return f"No tasks on {node.hostname}."

    def name(t: SwarmTask) -> str:
        svc = service_names.get(t.service_id, t.service_id[:12])
        return f"{svc}.{t.slot}" if t.slot is not None else svc

    rows = sorted((name(t), t.state) for t in current)
    shown = " · ".join(f"{n} {state}" for n, state in rows[:40])
    more = f" · and {len(rows) - 40} more" if len(rows) > 40 else ""
    return f"Tasks on {node.hostname} ({len(rows)}): {shown}{more}"
