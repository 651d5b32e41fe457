"""A Compose project looked up by key gathers only its own containers; it must be the project
the full list gives for that key (engine-qualified or bare name, engines with and without a tag,
projects opened from a file with no containers yet, one engine shown or all)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.engine.compose import ComposeTarget
from desktop.engine.records import COMPOSE_PROJECT, COMPOSE_SERVICE, Container
from desktop.state.compose_projects import ComposeProjects
from desktop.state.containers import ContainerStore

ENGINES = ["", "local", "b|x"]
NAMES = ["web", "shop", "a"]


@settings(max_examples=200, deadline=None)
@given(members=st.lists(st.tuples(st.sampled_from(ENGINES), st.sampled_from(NAMES + [None])), max_size=10),
       opened=st.lists(st.tuples(st.sampled_from(ENGINES), st.sampled_from(NAMES)), max_size=3),
       shown=st.sampled_from([None] + ENGINES),
       key=st.one_of(st.sampled_from(NAMES + ["nope"]),
                     st.tuples(st.sampled_from(ENGINES), st.sampled_from(NAMES)).map(lambda t: f"{t[0]}|{t[1]}")))
def test_get_is_the_listed_project_of_that_key(members, opened, shown, key):
    store = ContainerStore()
    store.replace_all([Container(id=f"{n:064x}", name=f"c{n}", image="i", image_id="", command="", created=float(n),
                                 state="running", status="", engine_id=e,
                                 labels={COMPOSE_PROJECT: p, COMPOSE_SERVICE: "s"} if p else {})
                       for n, (e, p) in enumerate(members)])
    projects = ComposeProjects(store, is_local=lambda engine: False)
    for e, n in opened:
        projects._opened[(e, n)] = ComposeTarget(n, (f"/nowhere/{n}.yaml",), "/nowhere")
    projects.engine = shown
    want = next((p for p in projects.all() if key in (p.key, p.name)), None)
    assert projects.get(key) == want
