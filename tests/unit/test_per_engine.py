"""PerEngine: one thing per followed engine, made on first use (or at once), dropped with its engine."""

from __future__ import annotations

import asyncio

from desktop.engine.endpoints import Endpoint
from desktop.state.engines import EngineRegistry
from desktop.state.per_engine import PerEngine


def registry_of(*keys: str) -> EngineRegistry:
    reg = EngineRegistry()
    for k in keys:
        reg.add(k, [Endpoint(f"unix:///nonexistent/{k}.sock", "--host")])
    return reg


def test_made_on_first_use_dropped_with_its_engine_adopted_ones_not_owned():
    reg = registry_of("a", "b")
    dropped = []
    things = PerEngine(reg, lambda s: f"thing-{s.key}", lambda k, t, owned: dropped.append((k, t, owned)))
    things.adopt("a", "primary's")
    assert things.existing("b") is None and things.get("b") == "thing-b" and things.existing("b") == "thing-b"
    assert things.get("nope") is None and sorted(things.keys()) == ["a", "b"]
    asyncio.run(reg.remove("b"))
    assert dropped == [("b", "thing-b", True)] and things.existing("b") is None
    things.close()
    assert dropped[-1] == ("a", "primary's", False)
    assert things.existing("a") == "primary's"  # still readable after close
    reg.add("c", [Endpoint("unix:///nonexistent/c.sock", "--host")])
    assert things.get("c") is None  # nothing new once closed


def test_eager_makes_one_per_engine_now_and_for_engines_added_later():
    reg = registry_of("a")
    made = []
    things = PerEngine(reg, lambda s: made.append(s.key) or s.key.upper(), eager=True)
    assert made == ["a"]
    reg.add("b", [Endpoint("unix:///nonexistent/b.sock", "--host")])
    assert made == ["a", "b"] and things["b"] == "B" and len(things) == 2
    things.close()
    reg.add("c", [Endpoint("unix:///nonexistent/c.sock", "--host")])
    assert made == ["a", "b"]


def test_the_primary_is_the_first_engine_until_another_is_made_primary():
    reg = registry_of("a", "b", "c")
    changed = []
    reg.primary_changed.connect(lambda s: changed.append(s.key))
    assert reg.primary.key == "a"
    assert not reg.set_primary("nope") and reg.primary.key == "a"
    assert reg.set_primary("b") and reg.primary.key == "b" and changed == ["b"]
    assert reg.set_primary("b") and changed == ["b"]  # already: nothing announced
    asyncio.run(reg.remove("c"))
    assert reg.primary.key == "b" and changed == ["b"]
    asyncio.run(reg.remove("b"))  # the primary goes: the first engine left stands in, announced
    assert reg.primary.key == "a" and changed == ["b", "a"]
