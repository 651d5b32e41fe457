"""StatsHubs routes each container to its own engine's hub; MergedEvents merges every engine's
events. No engine needed: nothing here is running, so no stream opens."""

from __future__ import annotations

import asyncio

from desktop.engine.endpoints import Endpoint
from desktop.engine.records import Container, EngineEvent
from desktop.metrics.stats_hub import StatsHub
from desktop.metrics.stats_hub import StatsHubs
from desktop.state.engines import MergedContainerStore, MergedEvents, EngineRegistry


def container(cid: str, engine: str) -> Container:
    return Container(id=cid * 64, name=f"c-{cid}", image="x", image_id="sha256:x", command="sh", created=0.0,
                     state="exited", status="Exited (0) 1 second ago", engine_id=engine)


def registry_of(*keys: str) -> EngineRegistry:
    reg = EngineRegistry()
    for k in keys:
        reg.add(k, [Endpoint(f"unix:///nonexistent/{k}.sock", "--host")])
    return reg


def test_a_container_is_routed_to_its_engines_hub_made_on_first_use():
    reg = registry_of("a", "b")
    merged = MergedContainerStore(reg)
    a, b = reg.get("a"), reg.get("b")
    a.containers.replace_all([container("1", "a")])
    b.containers.replace_all([container("2", "b")])
    primary = StatsHub(a.client, a.containers)
    hubs = StatsHubs(reg, merged.owner, "a", primary)
    assert hubs.existing("b") is None
    assert hubs.latest("2" * 64) is None and hubs.existing("b") is None  # a cell's read makes no hub

    sub = hubs.subscribe("2" * 64, glance=True)
    hub_b = hubs.existing("b")
    assert hub_b is not None and hub_b.client is b.client and hub_b.store is b.containers
    assert hub_b.subscribers("2" * 64) == 1 and primary.subscribers("2" * 64) == 0
    assert hubs.hub_for("1" * 64) is primary and hubs.hub_for("unknown") is primary
    sub.close()
    assert hub_b.subscribers("2" * 64) == 0

    # An engine removed: its hub is closed and forgotten; the primary's stays the app's.
    asyncio.run(reg.remove("b"))
    assert hubs.existing("b") is None and hub_b._closed
    hubs.close()
    assert not primary._closed
    asyncio.run(reg.aclose())


def test_merged_events_follow_engines_added_and_removed():
    reg = registry_of("a")
    events = MergedEvents(reg)
    got: list[EngineEvent] = []
    events.connect(got.append)
    c = reg.add("c", [Endpoint("unix:///nonexistent/c.sock", "--host")])
    reg.get("a").sync.events.emit(EngineEvent("container", "start", "x", engine_id="a"))
    c.sync.events.emit(EngineEvent("container", "die", "y", engine_id="c"))
    assert [(e.engine_id, e.action) for e in got] == [("a", "start"), ("c", "die")]
    asyncio.run(reg.remove("c"))
    c.sync.events.emit(EngineEvent("container", "die", "z", engine_id="c"))
    assert len(got) == 2
    events.close()
    reg.get("a").sync.events.emit(EngineEvent("container", "die", "w", engine_id="a"))
    assert len(got) == 2
    asyncio.run(reg.aclose())
