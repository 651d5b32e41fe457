"""The container table's shape and text without Qt or dockerd: random upsert/remove sequences
against a straightforward reference, and the row announcements a Qt model relies on (three
levels: projects, their services, the services' containers)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.engine.records import COMPOSE_PROJECT, COMPOSE_SERVICE, Container
from desktop.presentation.container_columns import (COL_CREATED, COL_ENGINE, COL_IMAGE, COL_NAME, COL_STATE,
                                                    COLUMNS, container_sort_key, container_text,
                                                    project_sort_key, project_text, service_name, service_sort_key)
from desktop.presentation.container_tree import ContainerTree, Project, Service

SORTABLE = (COL_NAME, COL_ENGINE, COL_IMAGE, COL_STATE, COL_CREATED)
MEMBER_KEYED = (COL_STATE, COL_CREATED)  # a project's key in these columns depends on its members
SERVICE_MEMBER_KEYED = (COL_STATE, COL_CREATED, COL_IMAGE)  # ... a service's in these


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


def reference(store: dict[str, Container], col: int, descending: bool) -> tuple:
    """The table a user should see: top-level rows' sort keys, and per project its services' sort
    keys and each service's rows' sort keys."""
    projects: dict[tuple[str, str], list[Container]] = {}
    top: list = []
    for c in store.values():
        if c.compose_project:
            projects.setdefault((c.engine_id, c.compose_project), []).append(c)
        else:
            top.append(container_sort_key(c, col, label))
    services_of: dict = {}
    for (engine, name), members in projects.items():
        top.append(project_sort_key(name, engine, members, col, label))
        by_service: dict[str, list[Container]] = {}
        for c in members:
            by_service.setdefault(service_name(c), []).append(c)
        services_of[(engine, name)] = {
            s: (service_sort_key(s, cs, col), sorted((container_sort_key(c, col, label) for c in cs), reverse=descending))
            for s, cs in by_service.items()}
    return sorted(top, reverse=descending), services_of


def shown_services(tree: ContainerTree) -> dict:
    return {p.key: {s.name: (tree.sort_key(s), [tree.sort_key(cid) for cid in s.children]) for s in p.children}
            for p in tree.projects.values()}


def check_service_order(tree: ContainerTree, col: int, descending: bool, resorted: bool = False) -> None:
    """Within each project its services in order (until a re-sort, they stay where put when
    members change the key in member-keyed columns, like projects)."""
    if col in SERVICE_MEMBER_KEYED and not resorted:
        return
    for p in tree.projects.values():
        keys = [tree.sort_key(s) for s in p.children]
        assert keys == sorted(keys, reverse=descending)


def ident(item) -> object:
    return item.pid if isinstance(item, (Project, Service)) else item


class Mirror:
    """What a Qt model's view knows: rows learnt only from begin/end announcements."""

    def __init__(self, tree: ContainerTree) -> None:
        self.tree = tree
        self.top: list = []
        self.children: dict[int, list] = {}  # project or service pid -> its rows' idents
        self._pending = None

    def _level(self, parent) -> list:
        return self.top if parent is None else self.children.setdefault(parent.pid, [])

    def learn(self, item) -> None:
        """A row placed with its subtree: the view asks for its children."""
        if isinstance(item, (Project, Service)):
            self.children[item.pid] = [ident(i) for i in item.children]
            for child in item.children:
                self.learn(child)

    def begin_insert(self, parent, row) -> None:
        assert self._pending is None
        assert 0 <= row <= len(self._level(parent))
        self._pending = (parent, row)

    def end_insert(self) -> None:
        parent, row = self._pending
        self._pending = None
        level = self.tree.top if parent is None else parent.children
        item = level[row]
        self._level(parent).insert(row, ident(item))
        self.learn(item)

    def begin_remove(self, parent, row) -> None:
        assert self._pending is None
        level = self.tree.top if parent is None else parent.children
        item = level[row]
        assert self._level(parent)[row] == ident(item)
        self._pending = (parent, row)

    def end_remove(self) -> None:
        parent, row = self._pending
        self._pending = None
        self._level(parent).pop(row)

    def check(self) -> None:
        assert self.top == [ident(i) for i in self.tree.top]
        for item in self.tree.top:
            if isinstance(item, Project):
                assert self.children[item.pid] == [s.pid for s in item.children]
                for s in item.children:
                    assert self.children[s.pid] == s.children


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
        if col not in SERVICE_MEMBER_KEYED:
            assert shown_services(tree) == want_children
        else:
            assert {k: {n: v[1] for n, v in ss.items()} for k, ss in shown_services(tree).items()} == \
                {k: {n: v[1] for n, v in ss.items()} for k, ss in want_children.items()}
        check_service_order(tree, col, descending)
        positions = tree.positions()
        for i, item in enumerate(tree.top):
            if isinstance(item, Project):
                assert positions[item.pid] == i and tree.by_pid[item.pid] is item
                for j, svc in enumerate(item.children):
                    assert positions[svc.pid] == j and tree.by_pid[svc.pid] is svc and svc.project is item
                    assert tree.service_row(svc) == j
                    assert all(positions[cid] == k and tree.row_of(cid) == k for k, cid in enumerate(svc.children))
            else:
                assert positions[item] == i
    tree.sort(col, descending)
    assert [tree.sort_key(i) for i in tree.top] == reference(store, col, descending)[0]
    assert shown_services(tree) == reference(store, col, descending)[1]
    check_service_order(tree, col, descending, resorted=True)
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
            self.top.insert(row, ident(item))
            self.learn(item)


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
    mirror.top = [ident(i) for i in tree.top]
    for i in tree.top:
        mirror.learn(i)
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
                mirror.top, mirror.children = [ident(i) for i in tree.top], {}
                for i in tree.top:
                    mirror.learn(i)
        tree.take_pending(chunk, mirror.begin_insert_range, mirror.end_insert_range)
        mirror.check()
        for i, item in enumerate(tree.top):  # every shown row is found where it is
            if isinstance(item, Project):
                assert tree.project_row(item) == i
                for j, svc in enumerate(item.children):
                    assert tree.service_row(svc) == j
                    assert all(tree.row_of(cid) == k for k, cid in enumerate(svc.children))
            else:
                assert tree.row_of(item) == i
    shown_ids = {cid for i in tree.top for cid in (i.member_ids() if isinstance(i, Project) else [i])}
    assert shown_ids == set(store)
    assert all(p.shown for p in tree.projects.values())
    tree.sort(col, descending)
    fresh = ContainerTree(store.get, label)
    fresh.sort(col, descending)
    fresh.rebuild(list(store.values()))
    assert [fresh.sort_key(i) for i in fresh.top] == [tree.sort_key(i) for i in tree.top]
    want_top, want_children = reference(store, col, descending)
    assert [tree.sort_key(i) for i in tree.top] == want_top
    assert shown_services(tree) == want_children
    check_service_order(tree, col, descending, resorted=True)
