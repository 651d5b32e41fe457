"""Engine failures become sentences (the failures themselves come from the real engine in
tests/engine; here: the socket-level ones a test engine cannot be made to produce as root)."""

import requests

from desktop.engine.errors import EngineUnreachableError, PermissionDeniedError, translate


def test_permission_denied_on_the_socket_says_how_to_fix_it():
    exc = requests.exceptions.ConnectionError(PermissionError(13, "Permission denied"))
    err = translate(exc, "connect to", "the engine")
    assert isinstance(err, PermissionDeniedError)
    assert "docker' group" in str(err) and "usermod" in str(err)


def test_connection_refused_is_unreachable():
    err = translate(requests.exceptions.ConnectionError("Connection refused"), "list", "containers")
    assert isinstance(err, EngineUnreachableError) and "stopped answering" in str(err)
