"""Forward host-side file changes in shared folders to the VM's inotify watchers.

9p (and virtiofs) do not tell the guest when a file changes on the host, so a dev server with
hot reload in a container never hears of an edit made in the host's editor. This small
detached process (`python -m desktop.vm.file_events STATE_DIR`, started next to portsync)
watches, with the host's own notifications, the folders that running containers bind-mount
from a shared folder (not whole shares: the home folder would mean hundreds of thousands of
watches), and sends each changed path to the guest agent, which raises IN_ATTRIB on it inside
the VM (packaging/vm/agent). It blocks in the kernel on both its inputs (inotify and the
engine's event stream): nothing is polled, an idle host costs nothing.

Loop-free by construction: the guest's touch sets a file's times to the values they already
have, which the host sees as IN_ATTRIB only, and IN_ATTRIB is not forwarded.

Linux hosts only (inotify through ctypes). On macOS the same would come from FSEvents; that is
not written (see packaging/vm/README.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import struct
import sys
import threading
from pathlib import Path

IN_MODIFY = 0x002
IN_CLOSE_WRITE = 0x008
IN_MOVED_FROM = 0x040
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_ISDIR = 0x40000000
IN_ONLYDIR = 0x01000000
IN_CLOEXEC = 0o2000000
MASK = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ONLYDIR
MAX_WATCHES = 20000  # per VM; beyond it the rest of a big tree is not watched (said in the log)
_EVENT = struct.Struct("iIII")


def supported() -> bool:
    return sys.platform.startswith("linux")


def watched_roots(containers: list[dict], shares: list[str]) -> set[str]:
    """Bind-mount sources of running containers that lie in a shared folder (the share itself
    when a container mounts a parent of it)."""
    roots: set[str] = set()
    for c in containers:
        for m in c.get("Mounts") or []:
            if m.get("Type") != "bind" or not m.get("Source"):
                continue
            src = os.path.normpath(m["Source"])
            for share in shares:
                if src == share or src.startswith(share.rstrip("/") + "/"):
                    roots.add(src)
                elif share.startswith(src.rstrip("/") + "/"):
                    roots.add(share)
    return roots


class Inotify:
    """A recursive inotify watcher over a set of root folders."""

    def __init__(self) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self._add = libc.inotify_add_watch
        self._add.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self._rm = libc.inotify_rm_watch
        self._rm.argtypes = [ctypes.c_int, ctypes.c_int]
        self.fd = libc.inotify_init1(IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.paths: dict[int, str] = {}  # watch descriptor -> folder
        self.lock = threading.Lock()
        self.full = False

    def watch_tree(self, root: str) -> None:
        for folder, dirs, _files in os.walk(root):
            if not self._watch(folder):
                dirs[:] = []

    def _watch(self, folder: str) -> bool:
        with self.lock:
            if len(self.paths) >= MAX_WATCHES:
                if not self.full:
                    self.full = True
                    print(f"file_events: more than {MAX_WATCHES} folders; the rest are not watched", flush=True)
                return False
            wd = self._add(self.fd, os.fsencode(folder), MASK)
            if wd < 0:
                return ctypes.get_errno() not in (errno.ENOSPC,)
            self.paths[wd] = folder
            return True

    def set_roots(self, roots: set[str]) -> None:
        """Watch exactly the trees under `roots` (re-walked: cheap next to a container start)."""
        with self.lock:
            old = dict(self.paths)
            self.paths.clear()
            self.full = False
        for wd in old:
            self._rm(self.fd, wd)
        for root in sorted(roots):
            if os.path.isdir(root):
                self.watch_tree(root)

    def read(self) -> list[tuple[str, bool]]:
        """Block until something changed; (path, is_folder_event) pairs, duplicates removed."""
        data = os.read(self.fd, 64 * 1024)
        out: dict[str, bool] = {}
        pos = 0
        while pos + _EVENT.size <= len(data):
            wd, mask, _cookie, length = _EVENT.unpack_from(data, pos)
            name = data[pos + _EVENT.size:pos + _EVENT.size + length].rstrip(b"\0").decode(errors="surrogateescape")
            pos += _EVENT.size + length
            with self.lock:
                folder = self.paths.get(wd)
                if mask & IN_IGNORED:
                    self.paths.pop(wd, None)
            if folder is None or mask & IN_Q_OVERFLOW:
                continue
            path = os.path.join(folder, name) if name else folder
            if mask & (IN_DELETE | IN_MOVED_FROM):
                out[folder] = True  # gone: the folder's watchers hear of it
            elif mask & IN_ISDIR and mask & (IN_CREATE | IN_MOVED_TO):
                self.watch_tree(path)
                out[path] = True
            else:
                out[path] = False
        return list(out.items())


def _shares(state_dir: Path) -> list[str]:
    try:
        lines = (state_dir / "shares").read_text().splitlines()
    except OSError:
        return []
    return [os.path.normpath(line.split(" ", 1)[1]) for line in lines if " " in line]


def run(state_dir: Path) -> int:
    from desktop.vm import engine_access
    from desktop.vm.guest_agent import GuestAgent
    from desktop.vm.tls import TLSFiles

    shares = _shares(state_dir)
    if not shares:
        return 0
    state = json.loads((state_dir / "state.json").read_text())
    client = engine_access.api_client(state.get("guest_port") or state["docker_port"], TLSFiles(state_dir / "tls"), timeout=30)
    agent = GuestAgent(state_dir / "agent")
    watcher = Inotify()

    def resync() -> None:
        running = client.containers(filters={"status": "running"})
        roots = watched_roots(running, shares)
        watcher.set_roots(roots)
        # What is watched, for `pilothouse vm status` readers and tests (like forwards.json).
        tmp = state_dir / "file_events.tmp"
        tmp.write_text(json.dumps({"roots": sorted(roots), "watches": len(watcher.paths)}))
        os.replace(tmp, state_dir / "file_events.json")

    def follow_engine() -> None:
        try:
            events = client.events(decode=True, filters={"type": "container", "event": ["start", "die"]})
            resync()
            for _ in events:
                resync()
        except Exception as e:  # noqa: BLE001 - the engine went away with the VM
            print(f"file_events: engine events ended ({e})", flush=True)
        os._exit(0)  # the VM is gone (stopped, saved or crashed): so is this helper

    threading.Thread(target=follow_engine, name="engine-events", daemon=True).start()
    while True:
        for path, _folder in watcher.read():
            if "\n" in path or "\r" in path:
                continue
            if not agent.send("touch", path):
                if not agent.inp.exists():
                    return 0


def main(argv: list[str]) -> int:
    if not argv or not supported():
        return 0
    return run(Path(argv[0]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
