"""The Run form model: hypothesis-generated port, env and mount specs never crash the parser, and
whatever it accepts becomes well-formed create arguments."""

from __future__ import annotations

import docker
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.engine.run_request import FormErrors, create_args, parse_run_form

API = docker.APIClient(base_url="unix:///nonexistent.sock", version="1.41")  # no connection is made

line = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
port_like = st.one_of(line, st.builds(lambda a, b, p: f"{a}:{b}{p}", st.integers(-5, 70000), st.integers(-5, 70000),
                                      st.sampled_from(["", "/tcp", "/udp", "/xyz"])))
env_like = st.one_of(line, st.builds(lambda k, v: f"{k}={v}", line, line))
mount_like = st.one_of(line, st.builds(lambda s, t, m: f"{s}:{t}{m}", st.sampled_from(["/h", "vol", "v o", "", "/"]),
                                       st.sampled_from(["/c", "c", "/", "/a/b"]), st.sampled_from(["", ":ro", ":rw", ":x"])))


@settings(max_examples=300, deadline=None)
@given(st.lists(port_like, max_size=4), st.lists(env_like, max_size=4), st.lists(mount_like, max_size=3))
def test_any_form_parses_or_names_fields(ports, env, mounts):
    values = {"image": "busybox", "ports": "\n".join(ports), "env": "\n".join(env), "mounts": "\n".join(mounts)}
    try:
        req = parse_run_form(values)
    except FormErrors as err:
        assert err.errors and set(err.errors) <= {"ports", "env", "mounts"}
        return
    args = create_args(API, req)
    hc = args["host_config"]
    for key, binding in (hc.get("PortBindings") or {}).items():
        port, proto = key.split("/")
        assert 1 <= int(port) <= 65535 and proto in ("tcp", "udp", "sctp")
        for b in binding:
            assert b["HostPort"] == "" or 1 <= int(b["HostPort"]) <= 65535
    for e in args["environment"] or []:
        assert "=" in e and e.split("=", 1)[0].strip() == e.split("=", 1)[0]
    for bind in hc.get("Binds") or []:
        src, dst, mode = bind.split(":")
        assert dst.startswith("/") and mode in ("ro", "rw")


def test_form_examples():
    req = parse_run_form({"image": "busybox", "name": "web", "ports": "8080:80\n127.0.0.1::53/udp",
                          "env": "A=1", "mounts": "/srv:/srv:ro\ndata:/data", "restart": "on-failure:2",
                          "command": "sh -c 'sleep 1'", "auto_remove": False})
    args = create_args(API, req)
    assert args["host_config"]["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                                                   "53/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}
    assert args["command"] == ["sh", "-c", "sleep 1"]
    with pytest.raises(FormErrors) as err:
        parse_run_form({"image": "busybox", "ports": "80:80\n80:81", "mounts": "a:/x\nb:/x",
                        "restart": "always", "auto_remove": True})
    assert set(err.value.errors) == {"ports", "mounts", "restart"}
