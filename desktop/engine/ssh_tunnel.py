"""Reach a remote engine over SSH: one `ssh -L` forward of its UNIX socket to a private local one.

One long-lived ssh process carries every connection (the SDK's own ssh mode starts one ssh per
HTTP connection), and we control its options: BatchMode (never a password prompt on a
desktop), the identity and known-hosts files chosen in Settings, and a local socket in a 0700
folder so only this user can use the forward.

ssh's stderr is read all the time by a thread of its own: a pipe nobody reads fills after
64 KiB (one line per refused channel) and ssh then blocks, forward and all, while looking
alive. The last lines say why a forward failed; EOF on stderr means ssh is gone.
"""

from __future__ import annotations

import os
import shutil
import collections
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from desktop.engine.errors import EngineUnreachableError
from desktop.system_programs import system_program_env

DEFAULT_REMOTE_SOCKET = "/var/run/docker.sock"


@dataclass(frozen=True)
class SSHTarget:
    user: str | None
    host: str
    port: int | None
    remote_socket: str

    @classmethod
    def parse(cls, url: str) -> "SSHTarget":
        """`ssh://[user@]host[:port][/path/to/docker.sock]`."""
        parts = urlsplit(url)
        if parts.scheme != "ssh" or not parts.hostname:
            raise ValueError(f"not an ssh:// engine address: {url!r}")
        host = parts.hostname
        if host.startswith("-"):
            raise ValueError("an ssh host name cannot start with '-'")
        return cls(parts.username, host, parts.port, parts.path or DEFAULT_REMOTE_SOCKET)


class SSHTunnel:
    """Blocking API: call `open()` and `close()` off the UI thread."""

    def __init__(self, url: str, identity: str | None = None, known_hosts: str | None = None) -> None:
        self.url = url
        self.target = SSHTarget.parse(url)
        self.identity = identity
        self.known_hosts = known_hosts
        self._dir: str | None = None
        self._proc: subprocess.Popen | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)
        self._stderr_lock = threading.Lock()
        self._stderr_closed = threading.Event()
        self.last_forward_error = ""  # the latest "channel N: open failed: ..." line
        self._forward_failed = threading.Event()

    @property
    def local_socket(self) -> str | None:
        return os.path.join(self._dir, "docker.sock") if self._dir else None

    @property
    def alive(self) -> bool:
        """ssh is running (its stderr still open: EOF comes when it exits, before it is reaped)."""
        return self._proc is not None and self._proc.poll() is None and not self._stderr_closed.is_set()

    def clear_forward_error(self) -> None:
        self.last_forward_error = ""
        self._forward_failed.clear()

    def wait_forward_error(self, timeout: float) -> bool:
        """After a failed connection: wait a moment for ssh's line saying why (it may lag the EOF)."""
        return self._forward_failed.wait(timeout)

    def stderr_text(self) -> str:
        with self._stderr_lock:
            return "\n".join(self._stderr)

    def _drain(self, proc: subprocess.Popen, closed: threading.Event) -> None:
        try:
            for raw in iter(proc.stderr.readline, b""):
                line = raw.decode(errors="replace").rstrip()
                if not line:
                    continue
                with self._stderr_lock:
                    self._stderr.append(line[:500])
                low = line.lower()
                if "open failed" in low or "connect failed" in low or "administratively prohibited" in low:
                    self.last_forward_error = line[:500]
                    self._forward_failed.set()
        except (OSError, ValueError):
            pass
        finally:
            closed.set()
            try:
                proc.stderr.close()
            except OSError:
                pass

    def argv(self, local: str) -> list[str]:
        t = self.target
        ssh = shutil.which("ssh")
        if ssh is None:
            raise EngineUnreachableError("SSH engines need the OpenSSH client (`ssh`), which is not installed.")
        argv = [ssh, "-N", "-T",
                "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes", "-o", "StreamLocalBindUnlink=yes",
                "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3", "-o", "ConnectTimeout=10",
                "-L", f"{local}:{t.remote_socket}"]
        if t.port:
            argv += ["-p", str(t.port)]
        if t.user:
            argv += ["-l", t.user]
        if self.identity:
            argv += ["-i", self.identity, "-o", "IdentitiesOnly=yes"]
        if self.known_hosts:
            argv += ["-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes"]
        return argv + ["--", t.host]

    def open(self, timeout: float = 20.0) -> str:
        """Start the forward; returns the local `unix://` address once it accepts connections."""
        if self.alive and self.local_socket and os.path.exists(self.local_socket):
            return f"unix://{self.local_socket}"
        self.close()
        self._dir = tempfile.mkdtemp(prefix="pilothouse-ssh-")  # 0700: only this user
        local = self.local_socket
        self._stderr.clear()
        self.clear_forward_error()
        self._stderr_closed = closed = threading.Event()
        self._proc = proc = subprocess.Popen(self.argv(local), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.PIPE, start_new_session=True,
                                             env=system_program_env())
        threading.Thread(target=self._drain, args=(proc, closed), name="ssh-stderr", daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                closed.wait(2)  # the reader has the last words
                err = self.stderr_text().strip()
                self.close()
                raise EngineUnreachableError(_explain(err, self.target), err)
            if os.path.exists(local):
                return f"unix://{local}"
            time.sleep(0.05)  # waiting on another process's socket file; no event to wait on
        self.close()
        raise EngineUnreachableError(f"The SSH connection to {self.target.host} did not come up within {timeout:.0f} s.")

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            # The reader thread sees EOF once ssh is gone and closes nothing itself.
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def _explain(stderr: str, t: SSHTarget) -> str:
    low = stderr.lower()
    who = f"{t.user + '@' if t.user else ''}{t.host}"
    if "permission denied" in low:
        return (f"SSH refused the login to {who}: no key it accepts. Choose an identity file in Settings "
                "or add your key to the server's authorized_keys.")
    if "host key verification failed" in low or "no matching host key" in low:
        return (f"{who}'s host key is not known (or changed). Connect once with `ssh {who}` to check and "
                "accept it, or choose a known_hosts file in Settings.")
    if "connection refused" in low:
        return f"Nothing accepts SSH connections at {who}{':' + str(t.port) if t.port else ''}."
    if "could not resolve" in low:
        return f"The host name {t.host} could not be resolved."
    if "forwarding" in low or "remote port forwarding" in low or "open failed" in low:
        return f"{who} did not allow forwarding its engine socket {t.remote_socket}."
    return f"The SSH connection to {who} failed: {stderr or 'ssh exited'}"


def explain_forward_failure(tunnel: SSHTunnel) -> str | None:
    """A sentence when ssh is up but cannot reach the engine socket on the far side."""
    line = tunnel.last_forward_error
    if not line:
        return None
    t = tunnel.target
    who = f"{t.user + '@' if t.user else ''}{t.host}"
    reason = line.split("open failed:", 1)[-1].strip() or line
    return f"The SSH connection to {who} is up, but its engine socket {t.remote_socket} could not be opened: {reason}."
