"""The Containers table's filter judges a whole list in one pass from each label set's text,
lower-cased once; it must accept exactly the containers `matches_search` accepts, whatever the
names, images, labels (upper case, "=", newlines, shared or not) and typed text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.engine.records import COMPOSE_PROJECT, DEBUG_ROLE_LABEL, Container
from desktop.presentation.container_rows import ContainerFilter
from desktop.presentation.containers import is_debug_helper, matches_filter

WORDS = ["web", "Web", "db", "a=b", "tier", "front", "x\ny", "=", "Shop", "", "1"]
word = st.one_of(st.sampled_from(WORDS), st.text(alphabet="abAB=\n .-1", max_size=6))
label_set = st.dictionaries(st.one_of(st.sampled_from(["tier", "Tier", COMPOSE_PROJECT, DEBUG_ROLE_LABEL, "a=b"]), word),
                            word, max_size=4)


@st.composite
def containers(draw):
    shared = draw(st.lists(label_set, min_size=1, max_size=3))  # records share equal label mappings
    out = []
    for n in range(draw(st.integers(0, 8))):
        labels = draw(st.one_of(st.sampled_from(shared), label_set))
        out.append(Container(id=f"{draw(st.sampled_from(['ab', 'AB', '00', 'f1']))}{n:062x}",
                             name=draw(word) or f"c{n}", image=draw(word), image_id="sha256:x", command="sh",
                             created=float(n), state=draw(st.sampled_from(["running", "exited", "paused"])),
                             status="", labels=labels))
    return out


@settings(max_examples=400, deadline=None)
@given(cs=containers(), texts=st.lists(st.one_of(word, st.sampled_from(["tier=front", "a=b=", " TIER ", "ab0", "\n"])),
                                       min_size=1, max_size=4),
       running=st.booleans(), cap=st.sampled_from([0, 1, 1024]))
def test_one_pass_accepts_what_matches_search_accepts(cs, texts, running, cap):
    f = ContainerFilter()
    f.LABEL_SETS = cap  # 0: every label set judged the long way; 1: most of them
    for text in texts:  # the texts of one table in a row: what is kept serves each of them
        f.set(text=text, running_only=running)
        want = [c for c in cs if not is_debug_helper(c) and (not running or c.state in ("running", "paused"))
                and matches_filter(c, text)]
        assert f.select(cs) == want
        assert [c for c in cs if f.accepts(c)] == want


def test_a_label_with_a_line_break_is_not_two_labels():
    """The label texts are kept as lines: a key or value holding a line break must not make its
    pieces whole keys."""
    c = Container(id="f" * 64, name="c", image="i", image_id="", command="", created=0.0, state="exited", status="",
                  labels={"note\nowner": "x", "k": "v\nteam=ops"})
    f = ContainerFilter()
    for text, want in (("owner", False), ("team=ops", False), ("k=v\nteam=ops", True), ("note", False),
                       ("ops", True)):
        f.set(text=text)
        assert matches_filter(c, text) is want
        assert f.select([c]) == ([c] if want else []), text
