"""The merged object store over several engines' stores: keys by engine, fine signals, an engine's
rows hidden while it is unreachable and back when it returns."""

from __future__ import annotations

from desktop.engine.object_records import Volume
from desktop.state.engine_objects import MergedObjectStore, merged_key
from desktop.state.object_store import ObjectStore, key_of


async def _never() -> list:
    return []


def volume(name: str, engine: str, driver: str = "local") -> Volume:
    return Volume(name, driver, f"/v/{name}", engine_id=engine)


def record(merged: MergedObjectStore) -> list:
    seen: list = []
    merged.reset.connect(lambda: seen.append(("reset",)))
    merged.upserted.connect(lambda items: seen.append(("upserted", sorted(merged_key(i) for i in items))))
    merged.removed.connect(lambda keys: seen.append(("removed", sorted(keys))))
    return seen


def test_same_name_on_two_engines_is_two_rows_and_each_engine_changes_only_its_own():
    a, b = ObjectStore(_never, key_of("name")), ObjectStore(_never, key_of("name"))
    merged = MergedObjectStore("volumes")
    merged.follow("a", a, shown=True)
    merged.follow("b", b, shown=True)
    seen = record(merged)
    a.replace_all([volume("data", "a")])
    b.replace_all([volume("data", "b"), volume("only-b", "b")])
    assert sorted(merged_key(v) for v in merged.all()) == ["a|data", "b|data", "b|only-b"]
    assert merged.get("b|data").engine_id == "b"
    assert merged.get("data").engine_id == "a"  # a bare name: the first engine's
    assert merged.resolve("only-b") == "b|only-b"

    seen.clear()
    b.remove(["data"])
    assert seen == [("removed", ["b|data"])]
    assert merged.get("a|data") is not None
    b.upsert([volume("only-b", "b", driver="other")])
    assert seen[-1] == ("upserted", ["b|only-b"]) and merged.get("b|only-b").driver == "other"


def test_an_unreachable_engine_leaves_and_comes_back_without_touching_the_other():
    a, b = ObjectStore(_never, key_of("name")), ObjectStore(_never, key_of("name"))
    merged = MergedObjectStore("volumes")
    merged.follow("a", a, shown=True)
    merged.follow("b", b, shown=False)  # not connected yet
    a.replace_all([volume("x", "a")])
    b.replace_all([volume("y", "b")])
    assert [merged_key(v) for v in merged.all()] == ["a|x"]
    seen = record(merged)

    merged.set_shown("b", True)
    assert seen == [("upserted", ["b|y"])]
    merged.set_shown("b", False)
    assert seen[-1] == ("removed", ["b|y"])
    b.upsert([volume("z", "b")])  # events of a hidden engine do not reach the page
    assert [merged_key(v) for v in merged.all()] == ["a|x"]
    merged.set_shown("b", True)
    assert sorted(merged_key(v) for v in merged.all()) == ["a|x", "b|y", "b|z"]

    merged.unfollow("b")
    assert [merged_key(v) for v in merged.all()] == ["a|x"]
    b.upsert([volume("w", "b")])
    assert merged.get("b|w") is None
