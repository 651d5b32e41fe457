"""Ask the VM's helper process to sleep, wake or reload its idle time (blocking: call it from
a worker thread). Where there is no control socket (Windows), waking goes through the engine
port itself: any connection there wakes the VM."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from desktop.vm.sleep import read_sleep_state


class SleepControlError(RuntimeError):
    """The helper could not be asked; the message is meant for the user."""


def has_control_socket() -> bool:
    return hasattr(socket, "AF_UNIX")


# Going to sleep waits for the guest to hand its free memory back (up to a minute on a loaded
# host) and for QEMU's size to settle (up to 30 s) before it answers.
SLEEP_TIMEOUT_S = 180.0


def request(helper_socket: Path, cmd: str, timeout: float = 60.0) -> dict:
    """One request to the helper: {"ok": bool, "error": str?, "state": {...}}."""
    if not hasattr(socket, "AF_UNIX"):
        raise SleepControlError("the VM's helper has no control socket on this system")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(helper_socket))
            s.sendall(json.dumps({"cmd": cmd}).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError as e:
        raise SleepControlError(f"the VM's helper did not answer ({e}); is the VM running?") from e
    try:
        return json.loads(data)
    except ValueError as e:
        raise SleepControlError("the VM's helper sent an answer that is not JSON") from e


def wake_by_connecting(port: int, timeout: float = 30.0) -> None:
    """Wake the VM the way any client does: connect to the engine port and send a byte of a
    TLS record header; closing right after is harmless (dockerd drops the half handshake)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"\x16")


def sleeping(sleep_file: Path) -> bool:
    return bool(read_sleep_state(sleep_file).get("asleep"))
