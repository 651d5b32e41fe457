"""The container list parsed one container at a time gives the records a whole-reply parse gives,
whatever the labels, ports and networks hold (a label may be called Id, Names or State)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.engine.object_records import ContainerRefs
from desktop.engine.records import Container, containers_from_json, parse_container_list

text = st.text(max_size=12)
# Keys a container object has, as label names too: the parser must not take a labels object for one.
tricky_key = st.sampled_from(["Id", "Names", "State", "Image", "Labels", "Ports"]) | text
labels = (st.dictionaries(tricky_key, text, max_size=5) | st.none()
          | st.just({"Id": "1", "Names": "2", "State": "3"}))
port = st.fixed_dictionaries({"PrivatePort": st.integers(0, 65535), "Type": st.sampled_from(["tcp", "udp"])},
                             optional={"PublicPort": st.integers(1, 65535), "IP": st.sampled_from(["0.0.0.0", "::"])})
networks = st.dictionaries(text, st.fixed_dictionaries({"NetworkID": text, "IPAddress": text}), max_size=2)


@st.composite
def container(draw) -> dict:
    raw = {"Id": draw(st.text("0123456789abcdef", min_size=12, max_size=64)),
           "Names": draw(st.lists(text.map(lambda n: "/" + n), max_size=2)),
           "State": draw(st.sampled_from(["created", "running", "paused", "exited", "dead"]))}
    raw.update(draw(st.fixed_dictionaries({}, optional={
        "Image": text, "ImageID": text, "Command": text, "Created": st.integers(0, 2**40), "Status": text,
        "Ports": st.lists(port, max_size=3), "Labels": labels,
        "NetworkSettings": st.fixed_dictionaries({"Networks": networks}),
        "Mounts": st.lists(st.fixed_dictionaries({"Type": st.just("volume"), "Name": text}), max_size=2)})))
    return raw


def same(a: Container, b: Container) -> bool:
    return a == b and dict(a.labels) == dict(b.labels)


@settings(max_examples=200, deadline=None)
@given(st.lists(container(), max_size=6), st.sampled_from(["", "eng"]))
def test_same_records_as_parsing_the_whole_reply(rows, engine_id):
    body = json.dumps(rows).encode()
    got = containers_from_json(body, engine_id)
    refs = parse_container_list(body, ContainerRefs.from_api, ContainerRefs)
    assert refs == [ContainerRefs.from_api(r) for r in json.loads(body)]
    want = [Container.from_api(r, engine_id) for r in json.loads(body)]
    assert len(got) == len(want) and all(same(g, w) for g, w in zip(got, want))


def test_labels_named_like_a_container_stay_labels():
    raw = {"Id": "b" * 64, "Names": ["/y"], "State": "running",
           "Labels": {"Id": "1", "Names": "2", "State": "3"}, "Ports": [{"PrivatePort": 80, "Type": "tcp"}]}
    (got,) = containers_from_json(json.dumps([raw]))
    assert dict(got.labels) == {"Id": "1", "Names": "2", "State": "3"} and got.name == "y"


def test_an_old_engine_without_state_still_parses():
    got = containers_from_json(json.dumps([{"Id": "a" * 64, "Names": ["/x"]}]))
    assert [c.name for c in got] == ["x"]


@pytest.mark.parametrize("body", [b'{"Id": "x"}', b'"a list?"', b"[1]", b"[{}]", b"not json"])
def test_a_malformed_reply_raises(body):
    with pytest.raises((ValueError, TypeError, KeyError, AttributeError)):
        containers_from_json(body)
