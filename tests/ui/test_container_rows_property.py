"""The Containers model filters and sorts itself: random sequences of filter text, running-only,
sort column and order, new containers, removals and state changes give exactly the rows, in
exactly the order, that a brute-force filter and sort of the store's records gives; a row held by
a persistent index (a selection) follows its container through every relayout; Qt's model
checker stays content throughout."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QPersistentModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester

from desktop.engine.records import COMPOSE_PROJECT, COMPOSE_SERVICE, DEBUG_ROLE_LABEL, Container
from desktop.presentation.container_columns import (COL_NAME, COLUMNS, container_sort_key, project_created,
                                                    project_sort_key, service_name, service_sort_key)
from desktop.presentation.containers import is_debug_helper, matches_filter
from desktop.state.containers import ContainerStore
from desktop.ui.containers.container_model import ContainerRole, ContainerTreeModel, KindRole

STATES = ("running", "exited", "paused", "created")
# Texts that grow a letter at a time are filtered from the rows already shown (plus whole label
# keys and pairs): "tier" matches by its key, "tier=" matches nothing, "tier=front" by its pair.
TEXTS = ("", "", "w", "we", "web", "web-1", "b", "shop", "img1", "com.docker.compose.project", "tier", "tier=",
         "tier=front", "front", "0", "0000", " DB ")


def label(engine_id: str) -> str:
    return {"": "local", "b": "remote"}[engine_id]


def record(n: int, project: str | None, engine: str, created: int, state: str, name: str, debug: bool,
           number: int) -> Container:
    labels = {"tier": "front" if n % 2 else "back"}
    if project:
        labels |= {COMPOSE_PROJECT: project, COMPOSE_SERVICE: name, "com.docker.compose.container-number": str(number)}
    if debug:
        labels[DEBUG_ROLE_LABEL] = "helper"
    status = {"running": "Up 1 hour", "exited": f"Exited ({n % 2}) 1 hour ago", "paused": "Up (Paused)",
              "created": "Created"}[state]
    return Container(id=f"{n:064x}", name=f"{name}-{n}", image=f"img{n % 3}:1", image_id="sha256:x", command="sh",
                     created=float(created), state=state, status=status, labels=labels, engine_id=engine)


new = st.tuples(st.just("new"), st.integers(0, 30), st.sampled_from([None, None, "shop", "blog"]),
                st.sampled_from(["", "b"]), st.integers(0, 6), st.sampled_from(STATES),
                st.sampled_from(["web", "db", "api"]), st.booleans(), st.integers(1, 3))
ops = st.lists(st.one_of(
    new,
    st.tuples(st.just("state"), st.integers(0, 30), st.sampled_from(STATES)),
    st.tuples(st.just("remove"), st.lists(st.integers(0, 30), max_size=4)),
    st.tuples(st.just("text"), st.sampled_from(TEXTS)),
    st.tuples(st.just("running"), st.booleans()),
    st.tuples(st.just("sort"), st.sampled_from(range(len(COLUMNS))), st.booleans()),
    st.tuples(st.just("hold"), st.integers(0, 30)),
), max_size=30)


def _order(pairs: list, descending: bool) -> list:
    # Sort key descending, ties oldest first then by id: what the table promises.
    pairs = sorted(pairs, key=lambda e: e[0][1])
    return sorted(pairs, key=lambda e: e[0][0], reverse=descending)


def expected(records: list[Container], text: str, running_only: bool, col: int, descending: bool) -> list:
    """The rows by brute force: [("c", id)] or [("p", (engine, name), [(service, [child ids])])] in order."""
    def shown(c: Container) -> bool:
        return (not is_debug_helper(c) and (not running_only or c.state in ("running", "restarting", "paused"))
                and matches_filter(c, text))

    def ckey(c: Container):
        return (container_sort_key(c, col, label), (c.created, c.id))

    projects: dict[tuple[str, str], list[Container]] = {}
    for c in records:
        if c.compose_project:
            projects.setdefault((c.engine_id, c.compose_project), []).append(c)
    top = [(ckey(c), ("c", c.id)) for c in records if not c.compose_project and shown(c)]
    for (engine, name), members in projects.items():
        services: dict[str, list[Container]] = {}
        for c in members:
            services.setdefault(service_name(c), []).append(c)
        rows = []
        for sname, cs in services.items():
            kids = [(ckey(c), c.id) for c in cs if shown(c)]
            if kids:  # a service shows by its shown replicas, ordered by all of them
                skey = (service_sort_key(sname, cs, col), (project_created(cs), "s" + sname))
                rows.append((skey, (sname, [cid for _, cid in _order(kids, descending)])))
        if not rows:
            continue
        key = (project_sort_key(name, engine, members, col, label), (project_created(members), f"p{engine}/{name}"))
        top.append((key, ("p", (engine, name), [r for _, r in _order(rows, descending)])))
    return [item for _, item in _order(top, descending)]


def observed(model: ContainerTreeModel) -> list:
    out = []
    for r in range(model.rowCount()):
        idx = model.index(r, 0)
        if idx.data(KindRole) == "project":
            p = model.node_at(idx)
            services = []
            for k in range(model.rowCount(idx)):
                sidx = model.index(k, 0, idx)
                assert sidx.data(KindRole) == "service"
                kids = [model.index(j, 0, sidx).data(ContainerRole).id for j in range(model.rowCount(sidx))]
                services.append((model.node_at(sidx).name, kids))
            out.append(("p", (p.engine_id, p.name), services))
        else:
            out.append(("c", idx.data(ContainerRole).id))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(initial=st.lists(new, max_size=12), steps=ops)
# Sorted by State, a row whose state changes moves; so does a project whose member's does.
@example(initial=[("new", 1, None, "", 1, "running", "web", False, 1), ("new", 2, None, "", 2, "exited", "db", False, 1)],
         steps=[("sort", 3, False), ("hold", 1), ("state", 1, "created"), ("state", 2, "running")])
@example(initial=[("new", 1, "shop", "", 1, "running", "web", False, 1), ("new", 2, "shop", "", 2, "running", "db", False, 1),
                  ("new", 3, None, "", 3, "paused", "api", False, 1)],
         steps=[("sort", 3, True), ("hold", 2), ("state", 1, "exited"), ("state", 2, "exited"), ("text", "db"),
                ("state", 2, "running"), ("text", ""), ("new", 4, "shop", "", 0, "created", "api", False, 2),
                ("remove", [1, 2])])
# Filtered: a new matching row lands in its place, a hidden member still counts in its project.
@example(initial=[("new", 1, "shop", "b", 1, "exited", "web", False, 1), ("new", 2, None, "", 2, "exited", "web", True, 1)],
         steps=[("running", True), ("new", 3, "shop", "b", 0, "running", "web", False, 2), ("sort", 5, False),
                ("state", 1, "running"), ("running", False), ("text", "web"), ("sort", 0, True)])
@example(initial=[("new", 1, None, "", 1, "exited", "web", False, 1), ("new", 2, "shop", "", 2, "exited", "db", False, 1)],
         steps=[("text", "t"), ("text", "tier"), ("text", "tier="), ("text", "tier=front"), ("text", "w"),
                ("text", "we"), ("new", 3, None, "", 0, "running", "web", False, 1), ("text", "web")])
def test_rows_and_order_match_a_brute_force_filter_and_sort(qapp, initial, steps):
    store = ContainerStore()
    model = ContainerTreeModel(store, engine_label=label)
    model.first_rows = 4  # a reset with more rows than this adds the rest from later turns
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    records = {}
    for op in initial:
        c = record(*op[1:])
        records[c.id] = c
    store.replace_all(list(records.values()))
    while model.loading:  # the chunks, as the event loop would run them
        model._add_more_rows()
    text, running_only, col, descending = "", False, COL_NAME, False
    held: tuple[str, QPersistentModelIndex] | None = None
    for op in steps:
        kind = op[0]
        if kind == "new":
            c = record(*op[1:])
            old = records.get(c.id)
            if old is not None and (old.compose_project, old.engine_id) != (c.compose_project, c.engine_id):
                continue  # a container never changes project or engine
            records[c.id] = c
            store.upsert([c])
        elif kind == "state":
            cid = f"{op[1]:064x}"
            if cid in records:
                old = records[cid]
                c = record(op[1], old.compose_project, old.engine_id, int(old.created), op[2],
                           old.name.rsplit("-", 1)[0], DEBUG_ROLE_LABEL in old.labels,
                           int(old.labels.get("com.docker.compose.container-number", 1)))
                records[cid] = c
                store.upsert([c])
        elif kind == "remove":
            ids = [f"{n:064x}" for n in op[1]]
            for cid in ids:
                records.pop(cid, None)
            store.remove(ids)
        elif kind == "text":
            text = op[1]
            model.set_filter(text=text)
        elif kind == "running":
            running_only = op[1]
            model.set_filter(running_only=running_only)
        elif kind == "sort":
            col, descending = op[1], op[2]
            model.sort(col, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)
        elif kind == "hold":
            cid = f"{op[1]:064x}"
            idx = model.index_of(cid)
            if idx.isValid():
                held = (cid, QPersistentModelIndex(idx))
        assert observed(model) == expected(list(store.all()), text, running_only, col, descending), op
        if held is not None:
            cid, pidx = held
            if cid in records and model.index_of(cid).isValid():
                assert pidx.isValid() and pidx.data(ContainerRole).id == cid, op
            else:
                assert not pidx.isValid(), op  # filtered out or gone: the selection lets go of it
                held = None
    del tester

