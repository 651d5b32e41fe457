"""The host end of the guest agent (packaging/vm/agent): one line per command over a
virtio-serial port whose QEMU backend is a pair of FIFOs in the 0700 state folder.

FIFOs rather than a socket: QEMU keeps both open for as long as it runs, so the guest sees the
port connected even when no host process is attached, and its blocking read costs nothing while
idle (with a socket nobody is connected to, the guest's read returns at once, again and again).
Several host processes may write (each line is one write, shorter than PIPE_BUF, so lines never
interleave); only commands with a token are answered, and only the caller that waits for its
token reads replies.
"""

from __future__ import annotations

import asyncio
import errno
import os
import sys
import uuid
from pathlib import Path

PORT_NAME = "org.pilothouse.agent"


class AgentError(RuntimeError):
    """The guest agent did not answer, or reported a failure; the message is for the user."""


class AgentBusy(AgentError):
    """The command could not run because something in the guest is in use (nothing was done)."""


def supported() -> bool:
    # QEMU's pipe backend is a named pipe on Windows, with other semantics; the VM there is WSL.
    return sys.platform != "win32"


def prepare(base: Path) -> None:
    """Create BASE.in and BASE.out (0600) before QEMU starts; stale content is drained."""
    for path in (base.with_suffix(".in"), base.with_suffix(".out")):
        if path.exists() and not path.is_fifo():
            path.unlink()
        if not path.exists():
            os.mkfifo(path, 0o600)
        _drain(path)


def _drain(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return
    try:
        while os.read(fd, 65536):
            pass
    except BlockingIOError:
        pass
    finally:
        os.close(fd)


def qemu_args(base: Path) -> list[str]:
    """QEMU options for the agent port."""
    path = str(base).replace(",", ",,")
    return ["-device", "virtio-serial-pci,id=agentbus", "-chardev", f"pipe,id=agent,path={path}",
            "-device", f"virtserialport,bus=agentbus.0,chardev=agent,name={PORT_NAME}"]


def _line(command: str, token: str, argument: str) -> bytes:
    if "\n" in argument or "\r" in argument:
        raise ValueError("an agent argument cannot hold a line break")
    data = f"{command} {token} {argument}".rstrip() + "\n"
    raw = data.encode()
    if len(raw) > 4000:  # one atomic pipe write (PIPE_BUF is 4096 on Linux, 512 on macOS)
        raise ValueError("an agent command is too long")
    return raw


class GuestAgent:
    def __init__(self, base: Path) -> None:
        self.inp = base.with_suffix(".in")
        self.out = base.with_suffix(".out")

    def send(self, command: str, argument: str = "") -> bool:
        """Fire and forget (no answer); False when QEMU is not running (nobody reads the pipe)."""
        return self._write(_line(command, "-", argument))

    def _write(self, raw: bytes) -> bool:
        try:
            fd = os.open(self.inp, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno in (errno.ENXIO, errno.ENOENT):  # no reader: QEMU is not running
                return False
            raise
        try:
            os.write(fd, raw)
            return True
        except BlockingIOError:
            return False  # the guest is not reading (paused or stuck): the command is dropped
        finally:
            os.close(fd)

    async def call(self, command: str, argument: str = "", timeout: float = 30.0) -> None:
        """Run a command in the guest and wait for its answer; AgentError when it fails or is late."""
        token = uuid.uuid4().hex[:12]
        loop = asyncio.get_running_loop()
        try:
            fd = os.open(self.out, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as e:
            raise AgentError(f"the VM's agent cannot be reached ({e.strerror})") from None
        answer: asyncio.Future[str] = loop.create_future()
        buf = bytearray()

        def readable() -> None:
            try:
                chunk = os.read(fd, 4096)
            except BlockingIOError:
                return
            if not chunk:  # no writer left: QEMU has exited
                loop.remove_reader(fd)
                if not answer.done():
                    answer.set_exception(AgentError("the VM stopped before its agent answered"))
                return
            buf.extend(chunk)
            while b"\n" in buf:
                line, _, rest = bytes(buf).partition(b"\n")
                buf[:] = rest
                words = line.decode(errors="replace").split()
                if len(words) >= 2 and words[1] == token and not answer.done():
                    answer.set_result(words[0])

        loop.add_reader(fd, readable)
        try:
            if not self._write(_line(command, token, argument)):
                raise AgentError("the VM's agent is not reading its commands")
            try:
                result = await asyncio.wait_for(answer, timeout)
            except asyncio.TimeoutError:
                raise AgentError(f"the VM's agent did not answer `{command}` within {timeout:.0f} s") from None
        finally:
            loop.remove_reader(fd)
            os.close(fd)
        if result == "busy":
            raise AgentBusy(f"`{command}`: in use in the VM")
        if result != "done":
            raise AgentError(f"`{command}` failed in the VM (see its console log)")
