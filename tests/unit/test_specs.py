"""Input specs: known good and bad examples, and hypothesis: any text either parses into something
well-formed or raises SpecError (never another exception)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.engine.specs import (ImageRef, MountSpec, PortSpec, SpecError, parse_command, parse_image_ref,
                                  parse_key_value, parse_mount, parse_name, parse_port, parse_restart, parse_subnet)


@pytest.mark.parametrize("text,expected", [
    ("80", PortSpec(80)),
    ("8080:80", PortSpec(80, "tcp", 8080)),
    ("8080:80/tcp", PortSpec(80, "tcp", 8080)),
    ("127.0.0.1::53/udp", PortSpec(53, "udp", None, "127.0.0.1")),
    ("127.0.0.1:5353:53/UDP", PortSpec(53, "udp", 5353, "127.0.0.1")),
    ("[::1]:8080:80", PortSpec(80, "tcp", 8080, "::1")),
])
def test_port_examples(text, expected):
    assert parse_port(text) == expected


@pytest.mark.parametrize("text", ["", "0", "70000", "80/xyz", "a:80", "1.2.3:80:80", "1:2:3:4", "8080:", "[::1]80",
                                  "８０"])
def test_port_rejects(text):
    with pytest.raises(SpecError):
        parse_port(text)


@pytest.mark.parametrize("text,repo,tag,digest", [
    ("busybox", "busybox", None, None),
    ("busybox:1.36", "busybox", "1.36", None),
    ("localhost:5000/team/app:v1", "localhost:5000/team/app", "v1", None),
    ("127.0.0.1:5000/x", "127.0.0.1:5000/x", None, None),
    ("a/b@sha256:" + "a" * 64, "a/b", None, "sha256:" + "a" * 64),
])
def test_image_ref_examples(text, repo, tag, digest):
    r = parse_image_ref(text)
    assert (r.repository, r.tag, r.digest) == (repo, tag, digest)
    assert str(r) == text


@pytest.mark.parametrize("text", ["", "Busybox", "UPPER/case", "bus box", "a:b:c", "-x", "x/", "x:-tag", "a@sha256:12"])
def test_image_ref_rejects(text):
    with pytest.raises(SpecError):
        parse_image_ref(text)


def test_registry_of_reference():
    assert parse_image_ref("localhost:5000/a").registry == "localhost:5000"
    assert parse_image_ref("team/app").registry is None


def test_mounts():
    assert parse_mount("/host:/ctr:ro") == MountSpec("/host", "/ctr", True)
    assert parse_mount("volname:/data") == MountSpec("volname", "/data", False)
    assert not parse_mount("volname:/data").is_bind
    for bad in ("/host", "/host:ctr", "v:/", "x:/a:rx", "a b:/c", ":/x", "/a:/b:ro:rw"):
        with pytest.raises(SpecError):
            parse_mount(bad)


def test_env():
    assert parse_key_value("A=b=c") == ("A", "b=c")
    assert parse_key_value("EMPTY=") == ("EMPTY", "")
    for bad in ("NOVALUE", "=x", "A B=c"):
        with pytest.raises(SpecError):
            parse_key_value(bad)


def test_subnet_and_gateway():
    assert parse_subnet("172.28.0.0/16", "172.28.0.1") == ("172.28.0.0/16", "172.28.0.1")
    for sn, gw in (("172.28.0.1/16", ""), ("nope", ""), ("10.0.0.0/8", "11.0.0.1"), ("10.0.0.0/24", "10.0.0.0"),
                   ("10.0.0.0/24", "10.0.0.255"), ("10.0.0.0/31", "")):
        with pytest.raises(SpecError):
            parse_subnet(sn, gw)


def test_restart_and_command_and_names():
    assert parse_restart("no") is None
    assert parse_restart("on-failure:3") == {"Name": "on-failure", "MaximumRetryCount": 3}
    with pytest.raises(SpecError):
        parse_restart("always:3")
    assert parse_command("sh -c 'echo hi'") == ["sh", "-c", "echo hi"]
    with pytest.raises(SpecError):
        parse_command("echo 'unclosed")
    with pytest.raises(SpecError):
        parse_name("-bad")


# -- hypothesis: no crash, and anything accepted is well-formed ---------------------------------------
@settings(max_examples=400)
@given(st.text(max_size=40))
def test_port_any_text(text):
    try:
        p = parse_port(text)
    except SpecError:
        return
    assert 1 <= p.container_port <= 65535 and p.protocol in ("tcp", "udp", "sctp")
    assert p.host_port is None or 1 <= p.host_port <= 65535
    if p.host_ip:
        ipaddress.ip_address(p.host_ip)


ports = st.integers(1, 65535)


@given(st.one_of(st.none(), st.ip_addresses().map(str)), st.one_of(st.none(), ports), ports,
       st.sampled_from(["", "/tcp", "/udp", "/sctp"]))
def test_port_roundtrip(ip, host, ctr, proto):
    if ip is None:
        text = f"{host}:{ctr}{proto}" if host else f"{ctr}{proto}"
    else:
        ipt = f"[{ip}]" if ":" in ip else ip
        text = f"{ipt}:{host or ''}:{ctr}{proto}"
    p = parse_port(text)
    assert (p.host_ip, p.host_port, p.container_port, p.protocol) == (ip, host, ctr, proto.lstrip("/") or "tcp")


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_env_any_text(text):
    try:
        k, v = parse_key_value(text)
    except SpecError:
        return
    assert k and "=" not in k and not any(c.isspace() for c in k) and "\x00" not in v


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_mount_any_text(text):
    try:
        m = parse_mount(text)
    except SpecError:
        return
    assert m.target.startswith("/") and m.target.strip("/") and ":" not in m.source and ":" not in m.target


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_image_ref_any_text(text):
    try:
        r = parse_image_ref(text)
    except SpecError:
        return
    assert isinstance(r, ImageRef) and parse_image_ref(str(r)) == r and not any(c.isspace() for c in str(r))
