"""StateTally: the count beside the table follows every store change, state changes included."""

from desktop.engine.records import Container
from desktop.state.container_counts import StateTally
from desktop.state.containers import ContainerStore


def c(cid: str, state: str) -> Container:
    return Container(cid, cid, "img", "sha256:x", "sleep", 0.0, state, "")


def test_counts_follow_upserts_removals_and_resets():
    store = ContainerStore()
    seen = []
    tally = StateTally(store, lambda: seen.append((tally.total, tally.running)))
    store.replace_all([c("a", "running"), c("b", "exited")])
    assert (tally.total, tally.running) == (2, 1)
    store.upsert([c("a", "exited")])  # a state change alone moves the running count
    assert (tally.total, tally.running) == (2, 0)
    store.upsert([c("b", "running"), c("d", "running")])
    assert (tally.total, tally.running) == (3, 2)
    store.remove(["b"])
    assert (tally.total, tally.running) == (2, 1)
    store.clear()
    assert (tally.total, tally.running) == (0, 0)
    assert seen[-1] == (0, 0) and len(seen) == 5
    tally.detach()
    store.replace_all([c("e", "running")])
    assert len(seen) == 5
