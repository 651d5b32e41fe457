"""The object store's merge against removals that land while a list is in flight.

The engine can delete an object between the moment a list call is answered and the moment its
delete event is handled; the real-engine image test caught the resulting resurrection only now
and then, so the ordering is pinned here with a lister we hold open.
"""

from __future__ import annotations

import asyncio

from desktop.state.object_store import ObjectStore, key_of


class Item:
    def __init__(self, id: str) -> None:
        self.id = id

    def __eq__(self, other) -> bool:
        return isinstance(other, Item) and other.id == self.id

    __hash__ = None


def test_a_removal_during_a_list_is_not_undone_by_the_stale_answer():
    async def scenario():
        gate = asyncio.Event()
        answer = [Item("a"), Item("b")]

        async def lister():
            await gate.wait()
            return list(answer)

        store = ObjectStore(lister, key_of("id"))
        store.replace_all([Item("a"), Item("b")])
        store.refresh()
        await asyncio.sleep(0)          # the list is now in flight, its answer holds "b"
        store.remove(["b"])             # the delete event arrives first
        gate.set()
        await store.wait_idle()
        assert sorted(i.id for i in store.all()) == ["a"]
        # a later list (after the removal) is trusted again
        answer.append(Item("c"))
        store.refresh()
        await store.wait_idle()
        assert sorted(i.id for i in store.all()) == ["a", "b", "c"]

    asyncio.run(scenario())
