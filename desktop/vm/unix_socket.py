"""Reach QEMU's monitor over a unix socket on every OS, Windows included.

QEMU listens on AF_UNIX on Windows 10 and later too, so the monitor stays a file in the VM's
private state folder instead of a loopback TCP port any local user could drive. CPython has no
AF_UNIX on Windows (python/cpython#77589), so there the socket is opened through Winsock with
ctypes and handed to Python as an ordinary socket object, which qemu.qmp accepts.

The Windows branch has not been run: nothing here was tried on Windows.
"""

from __future__ import annotations

import ctypes
import socket
import sys
from pathlib import Path

AF_UNIX = 1
UNIX_PATH_MAX = 108


def sockaddr_un(path: str) -> bytes:
    """struct sockaddr_un for `path` (family, then the NUL-terminated UTF-8 path)."""
    raw = path.encode("utf-8")
    if len(raw) >= UNIX_PATH_MAX:
        raise OSError(f"socket path too long for AF_UNIX ({len(raw)} bytes, at most {UNIX_PATH_MAX - 1}): {path}")
    return AF_UNIX.to_bytes(2, sys.byteorder) + raw + b"\0" * (UNIX_PATH_MAX - len(raw))


def _winsock_connect(path: str) -> socket.socket:  # pragma: no cover - Windows only
    ws2 = ctypes.WinDLL("ws2_32", use_last_error=True)
    ws2.socket.restype = ctypes.c_size_t
    ws2.socket.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int)
    ws2.connect.argtypes = (ctypes.c_size_t, ctypes.c_char_p, ctypes.c_int)
    ws2.closesocket.argtypes = (ctypes.c_size_t,)
    socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()  # makes Python call WSAStartup
    handle = ws2.socket(AF_UNIX, socket.SOCK_STREAM, 0)
    if handle == ctypes.c_size_t(-1).value:
        raise OSError(ctypes.get_last_error(), f"cannot create an AF_UNIX socket for {path}")
    addr = sockaddr_un(path)
    if ws2.connect(handle, addr, len(addr)) != 0:
        err = ctypes.get_last_error()
        ws2.closesocket(handle)
        raise ConnectionRefusedError(err, f"cannot connect to {path}")
    return socket.socket(fileno=handle)


def monitor_address(path: "Path | str"):
    """What qemu.qmp's connect() takes for the monitor at `path`: the path where Python has
    AF_UNIX, else a socket already connected to it."""
    if hasattr(socket, "AF_UNIX"):
        return str(path)
    return _winsock_connect(str(path))  # pragma: no cover - Windows only
