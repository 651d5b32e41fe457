"""The container table's shape and text without Qt or dockerd: random upsert/remove sequences
against a straightforward reference, and the row announcements a Qt model relies on."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.engine.records import COMPOSE_PROJECT, COMPOSE_SERVICE, Container
from desktop.presentation.container_columns import (COL_CREATED, COL_ENGINE, COL_IMAGE, COL_NAME, COL_STATE,
                                                    COLUMNS, container_sort_key, container_text,
                                                    project_sort_key, project_text)
from desktop.presentation.container_tree import ContainerTree, Project

SORTABLE = (COL_NAME, COL_ENGINE, COL_IMAGE, COL_STATE, COL_CREATED)
MEMBER_KEYED = (COL_STATE, COL_CREATED)  # a project's key in these columns depends on its members


def container(n: int, project: str | None, engine: str, created: int, state: str, name: str) -> Container:
    labels = {COMPOSE_PROJECT: project, COMPOSE_SERVICE: f"svc{n % 3}"} if project else {}
    return Container(id=f"{n:064x}", name=name, image=f"img{n % 4}:1", image_id="sha256:x", command="sh",
                     created=float(created), state=state, status="", labels=labels, engine_id=engine)


def label(engine_id: str) -> str:
    return engine_id.upper()


ops = st.lists(st.one_of(
    st.tuples(st.just("upsert"), st.integers(0, 25), st.sampled_from([None, None, "shop", "blog"]),
              st.sampled_from(["", "b"]), st.integers(0, 5), st.sampled_from(["running", "exited", "paused"]),
              st.sampled_from(["web", "db", "api", "cache"])),
    st.tuples(st.just("remove"), st.lists(st.integers(0, 25), max_size=4)),
), max_size=40)


def reference(store: dict[str, Container], col: int, descending: bool) -> list:
    """The table a user should see: top-level rows and each project's rows, as sort keys."""
    projects: dict[tuple[str, str], list[Container]] = {}
    top: list = []
    for c in store.values():
        if c.compose_project:
            projects.setdefault((c.engine_id, c.compose_project), []).append(c)
        else:
            top.append(("c", container_sort_key(c, col, label), c.id))
    for (engine, name), members in projects.items():
        children = sorted(container_sort_key(c, col, label) for c in members)
        top.append(("p", project_sort_key(name, engine, members, col, label), (engine, name),
                    children[::-1] if descending else children))
    return sorted((t[1] for t in top), reverse=descending), {t[2]: t[3] for t in top if t[0] == "p"}


class Mirror:
    """What a Qt model's view knows: rows learnt only from begin/end announcements."""

    def __init__(self, tree: ContainerTree) -> None:
        self.tree = tree
        self.top: list = []
        self.children: dict[int, list] = {}
        self._pending = None

    def _level(self, parent: Project | None) -> list:
        return self.top if parent is None else self.children.setdefault(parent.pid, [])

    def begin_insert(self, parent, row) -> None:
        assert self._pending is None
        assert 0 <= row <= len(self._level(parent))
        self._pending = (parent, row)

    def end_insert(self) -> None:
        parent, row = self._pending
        self._pending = None
        level = self.tree.top if parent is None else parent.children
        item = level[row]
        self._level(parent).insert(row, item.pid if isinstance(item, Project) else item)
        if isinstance(item, Project):
            self.children[item.pid] = list(item.children)

    def begin_remove(self, parent, row) -> None:
        assert self._pending is None
        level = self.tree.top if parent is None else parent.children
        item = level[row]
        assert self._level(parent)[row] == (item.pid if isinstance(item, Project) else item)
        self._pending = (parent, row)

    def end_remove(self) -> None:
        parent, row = self._pending
        self._pending = None
        removed = self._level(parent).pop(row)
        if parent is None:
            self.children.pop(removed, None)

    def check(self) -> None:
        assert self.top == [i.pid if isinstance(i, Project) else i for i in self.tree.top]
        for item in self.tree.top:
            if isinstance(item, Project):
                assert self.children[item.pid] == item.children


@settings(max_examples=150, deadline=None)
@given(ops, st.sampled_from(SORTABLE), st.booleans())
def test_tree_follows_any_sequence_like_a_fresh_build(sequence, col, descending):
    store: dict[str, Container] = {}
    tree = ContainerTree(store.get, label)
    tree.sort(col, descending)
    mirror = Mirror(tree)
    for op in sequence:
        if op[0] == "upsert":
            _, n, project, engine, created, state, name = op
            c = container(n, project, engine, created, state, name)
            if c.id in store:
                continue  # an update changes cells, not the shape (the model only repaints it)
            store[c.id] = c
            tree.insert(c, mirror.begin_insert, mirror.end_insert)
        else:
            ids = [f"{n:064x}" for n in op[1] if f"{n:064x}" in store]
            tree.remove(ids, mirror.begin_remove, mirror.end_remove)
            for cid in ids:
                store.pop(cid, None)
        mirror.check()
        want_top, want_children = reference(store, col, descending)
        got_top = [tree.sort_key(i) for i in tree.top]
        if col in MEMBER_KEYED:
            # A project row stays where it was put when members come and go (the row repaints);
            # the rows are the right ones, and a re-sort puts them in order.
            assert sorted(got_top) == sorted(want_top)
        else:
            assert got_top == want_top
        got_children = {p.key: [tree.sort_key(cid) for cid in p.children] for p in tree.projects.values()}
        assert got_children == want_children
        positions = tree.positions()
        for i, item in enumerate(tree.top):
            if isinstance(item, Project):
                assert positions[item.pid] == i and tree.by_pid[item.pid] is item
                assert all(positions[cid] == j for j, cid in enumerate(item.children))
            else:
                assert positions[item] == i
    tree.sort(col, descending)
    assert [tree.sort_key(i) for i in tree.top] == reference(store, col, descending)[0]
    fresh = ContainerTree(store.get, label)
    fresh.rebuild(list(store.values()))
    fresh.sort(col, descending)
    assert [fresh.sort_key(i) for i in fresh.top] == [tree.sort_key(i) for i in tree.top]


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 25), st.sampled_from([None, "shop"]), st.integers(0, 5),
       st.sampled_from(["running", "exited", "paused", "created"]), st.sampled_from(["web", "db"]))
def test_every_column_has_text_and_a_sort_key_that_agree(n, project, created, state, name):
    c = container(n, project, "b", created, state, name)
    for col in range(len(COLUMNS)):
        text = container_text(c, col, label, now=1000.0)
        key = container_sort_key(c, col, label)
        if col in (COL_NAME, COL_IMAGE, COL_ENGINE, COL_STATE):
            assert key == text.lower()  # a text column sorts by what it says
    assert container_text(c, COL_STATE, label, pending="Stopping…") == "Stopping…"
    assert project_text("shop", "b", [c], COL_ENGINE, label) == "B"
    assert project_text("shop", "b", [c], COL_IMAGE, label) == "1 container (Compose)"


class RangeMirror(Mirror):
    """Also learns runs of rows announced at once (`take_pending`)."""

    def begin_insert_range(self, parent, first, last) -> None:
        assert parent is None and self._pending is None
        assert 0 <= first <= len(self.top) and last >= first
        self._pending = (first, last)

    def end_insert_range(self) -> None:
        first, last = self._pending
        self._pending = None
        for row in range(first, last + 1):
            item = self.tree.top[row]
            self.top.insert(row, item.pid if isinstance(item, Project) else item)
            if isinstance(item, Project):
                self.children[item.pid] = list(item.children)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.sampled_from([None, None, "shop", "blog", "wiki"]),
                          st.integers(0, 5), st.sampled_from(["web", "db", "api"])), max_size=40),
       st.integers(0, 6), ops, st.integers(1, 4), st.sampled_from(SORTABLE), st.booleans(), st.booleans())
def test_rows_shown_a_screenful_first_end_up_as_a_fresh_build(initial, shown, sequence, chunk, col, descending,
                                                                resort):
    """A big reset places `shown` rows, the rest come in chunks while the engine goes on changing:
    once all are placed, the tree is the one a fresh build of the final store gives."""
    store: dict[str, Container] = {}
    for n, project, created, name in initial:
        c = container(n, project, "", created, "exited", name)
        store[c.id] = c
    tree = ContainerTree(store.get, label)
    tree.sort(col, descending)
    tree.rebuild(list(store.values()), shown=shown)
    assert len(tree.top) <= shown
    mirror = RangeMirror(tree)
    mirror.top = [i.pid if isinstance(i, Project) else i for i in tree.top]
    mirror.children = {i.pid: list(i.children) for i in tree.top if isinstance(i, Project)}
    steps = list(sequence)
    while steps or tree.has_pending:
        if steps:
            op = steps.pop(0)
            if op[0] == "upsert":
                _, n, project, engine, created, state, name = op
                c = container(n, project, "", created, state, name)
                if c.id not in store:
                    store[c.id] = c
                    tree.insert(c, mirror.begin_insert, mirror.end_insert)
                    assert c.id in tree
            else:
                ids = [f"{n:064x}" for n in op[1] if f"{n:064x}" in store]
                for cid in ids:
                    store.pop(cid, None)
                tree.remove(ids, mirror.begin_remove, mirror.end_remove)
                assert not any(cid in tree for cid in ids)
            if resort and len(steps) == 3:
                tree.sort(col, descending)
                mirror.top = [i.pid if isinstance(i, Project) else i for i in tree.top]
                mirror.children = {i.pid: list(i.children) for i in tree.top if isinstance(i, Project)}
        tree.take_pending(chunk, mirror.begin_insert_range, mirror.end_insert_range)
        mirror.check()
        for i, item in enumerate(tree.top):  # every shown row is found where it is
            if isinstance(item, Project):
                assert tree.project_row(item) == i
                assert all(tree.row_of(cid) == j for j, cid in enumerate(item.children))
            else:
                assert tree.row_of(item) == i
    shown_ids = {cid for i in tree.top for cid in (i.children if isinstance(i, Project) else [i])}
    assert shown_ids == set(store)
    assert all(p.shown for p in tree.projects.values())
    tree.sort(col, descending)
    fresh = ContainerTree(store.get, label)
    fresh.sort(col, descending)
    fresh.rebuild(list(store.values()))
    assert [fresh.sort_key(i) for i in fresh.top] == [tree.sort_key(i) for i in tree.top]
    want_top, want_children = reference(store, col, descending)
    assert [tree.sort_key(i) for i in tree.top] == want_top
    assert {p.key: [tree.sort_key(c) for c in p.children] for p in tree.projects.values()} == want_children
