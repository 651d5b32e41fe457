"""A loopback TCP port that forwards to an engine's UNIX socket: a "remote" engine for tests.

The app treats tcp:// engines as someone else's machine (no fast local polling); this lets a
test stop and start the private dockerd behind such an address, and count how often the app
knocks while it is away.
"""

from __future__ import annotations

import socket
import threading


class TCPForward:
    """127.0.0.1:<port> → UNIX socket `path`; `connections` counts accepted connections."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.connections = 0
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.port = self._server.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, name="tcp-forward", daemon=True).start()

    @property
    def host(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(self.path)
        except OSError:
            upstream.close()
            client.close()  # the engine is away: the caller sees the connection drop
            return

        def pipe(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        t = threading.Thread(target=pipe, args=(upstream, client), daemon=True)
        t.start()
        pipe(client, upstream)
        t.join()
        client.close()
        upstream.close()

    def close(self) -> None:
        self._closed = True
        self._server.close()
