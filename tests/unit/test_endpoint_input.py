import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.engine.endpoint_input import FieldError, engine_from_input


def field_of(**kw):
    with pytest.raises(FieldError) as err:
        engine_from_input(**kw)
    return err.value.field, str(err.value)


def test_valid_addresses(tmp_path):
    assert engine_from_input("a", "/run/docker.sock").host == "unix:///run/docker.sock"
    ssh = engine_from_input("b", "ssh://me@build:2222")
    assert ssh.host == "ssh://me@build:2222" and ssh.ssh_identity is None
    assert engine_from_input("c", "tcp://127.0.0.1:2375").tls is None
    for f in ("ca", "cert", "key"):
        (tmp_path / f).write_text("x")
    tls = engine_from_input("d", "tcp://build:2376", tls_ca=str(tmp_path / "ca"), tls_cert=str(tmp_path / "cert"),
                            tls_key=str(tmp_path / "key"))
    assert tls.tls.cert.endswith("cert")


def test_each_mistake_names_its_field(tmp_path):
    assert field_of(name="", address="/x")[0] == "name"
    assert field_of(name="x y", address="/x")[0] == "name"
    assert field_of(name="dup", address="/x", taken_names={"dup"})[0] == "name"
    assert field_of(name="a", address="")[0] == "address"
    assert field_of(name="a", address="http://x")[0] == "address"
    assert field_of(name="a", address="unix://relative")[0] == "address"
    assert field_of(name="a", address="ssh://")[0] == "address"
    assert field_of(name="a", address="ssh://-oProxyCommand=x")[0] == "address"
    assert field_of(name="a", address="tcp://build")[0] == "address"
    f, msg = field_of(name="a", address="tcp://build:2375")
    assert f == "tls_cert" and "TLS" in msg
    assert field_of(name="a", address="ssh://me@h", ssh_identity=str(tmp_path / "nope"))[0] == "ssh_identity"


@given(st.text(max_size=40), st.text(max_size=80))
def test_never_crashes_and_never_returns_junk(name, address):
    try:
        ep = engine_from_input(name, address)
    except FieldError as err:
        assert err.field in {"name", "address", "tls_cert", "tls_key", "tls_ca", "ssh_identity", "ssh_known_hosts"}
        assert str(err)
        return
    assert ep.host.split("://", 1)[0] in {"unix", "ssh", "tcp", "npipe"}
    assert ep.name == name.strip()
