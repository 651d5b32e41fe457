"""Downloads into a cache that never holds a half-written file.

A download goes to `<cache>/partial/<name>.part`, resumes from there with an HTTP Range request
after an interruption (or restarts when the server ignores the range), is checked against its
expected size and sha256, fsynced, and only then renamed into place. Cancelling (a
threading.Event) stops at the next chunk and keeps the partial file for the next try.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

CHUNK = 1 << 20
TIMEOUT_S = 30
USER_AGENT = "pilothouse-vm-build (Python urllib)"


class DownloadError(RuntimeError):
    """A download failed; the message names the file and says what to do."""


class DownloadCancelled(DownloadError):
    """The user cancelled the download."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def fsync_dir(path: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(dest: Path, data: bytes) -> None:
    """Write bytes beside dest, fsync, rename over it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:  # Ctrl-C or a full disk: no stray temporary file stays behind
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(dest.parent)


def unreachable(url: str, reason: object) -> DownloadError:
    return DownloadError(f"cannot reach the Debian archive for {url} ({reason}): check the network connection, "
                         "or choose another Debian mirror with `pilothouse vm build --archive URL`")


def _open(url: str, start: int):
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if start:
        req.add_header("Range", f"bytes={start}-")
    try:
        return urllib.request.urlopen(req, timeout=TIMEOUT_S)  # noqa: S310 - http(s) URL from the settings
    except urllib.error.HTTPError as e:
        if e.code == 416 and start:  # the partial file is already complete (or longer: restart)
            return None
        if e.code == 404:
            raise DownloadError(f"{url} is not on the archive (HTTP 404): check that --archive names a Debian "
                                "mirror's root (like http://deb.debian.org/debian); for a .deb, the archive has moved "
                                "on: run `pilothouse vm build --update-lock` to pin its current packages") from None
        raise DownloadError(f"the archive answered HTTP {e.code} for {url}: try again later, "
                            "or choose another Debian mirror with `--archive URL`") from None
    except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as e:
        raise unreachable(url, getattr(e, "reason", e)) from None


MAX_SMALL_FILE = 32 << 20  # InRelease is ~150 kB; a server sending more is not the archive


def fetch_bytes(url: str, limit: int = MAX_SMALL_FILE) -> bytes:
    """A small file (InRelease), read whole; nothing is cached by this call."""
    resp = _open(url, 0)
    try:
        data = resp.read(limit + 1)
        if len(data) > limit:
            raise DownloadError(f"{url} is larger than {limit >> 20} MB, which no Debian release file is: "
                                "choose another Debian mirror with `--archive URL`")
        return data
    except (socket.timeout, ConnectionError, OSError) as e:
        raise unreachable(url, e) from None
    finally:
        resp.close()


def download(url: str, dest: Path, sha256: str, size: int | None = None,
             progress: Callable[[int], None] | None = None,
             cancel: threading.Event | None = None) -> Path:
    """Fetch url into dest (verified). Returns at once when dest already holds the right bytes.

    progress(n) is called with the number of new bytes after each chunk."""
    if dest.exists():
        if (size is None or dest.stat().st_size == size) and sha256_file(dest) == sha256:
            return dest
        dest.unlink()  # a cache entry that does not match is not ours to trust
    partial_dir = dest.parent / "partial"
    partial_dir.mkdir(parents=True, exist_ok=True)
    part = partial_dir / (dest.name + ".part")
    h = hashlib.sha256()
    have = 0
    if part.exists():
        if size is not None and part.stat().st_size > size:
            part.unlink()
        else:
            with open(part, "rb") as f:
                for chunk in iter(lambda: f.read(CHUNK), b""):
                    h.update(chunk)
                    have += len(chunk)
            if progress and have:
                progress(have)
    if size is None or have < size:
        resp = _open(url, have)
        if resp is not None:
            try:
                if have and resp.status != 206:  # the server ignored the range: start over
                    if progress:
                        progress(-have)
                    h, have = hashlib.sha256(), 0
                    mode = "wb"
                else:
                    mode = "ab" if have else "wb"
                with open(part, mode) as f:
                    while True:
                        if cancel is not None and cancel.is_set():
                            raise DownloadCancelled(f"download of {dest.name} cancelled (it resumes next time)")
                        try:
                            chunk = resp.read(CHUNK)
                        except (socket.timeout, ConnectionError, OSError, http.client.HTTPException) as e:
                            f.flush()
                            os.fsync(f.fileno())
                            raise DownloadError(f"the download of {url} broke off after {have} bytes ({e}): "
                                                "build again to resume it") from None
                        if not chunk:
                            break
                        f.write(chunk)
                        h.update(chunk)
                        have += len(chunk)
                        if progress:
                            progress(len(chunk))
                        if size is not None and have > size:
                            break
                    f.flush()
                    os.fsync(f.fileno())
            finally:
                resp.close()
    if size is not None and have < size:  # the connection ended early: keep the part to resume
        raise DownloadError(f"the download of {url} broke off after {have} of {size} bytes: build again to resume it")
    got = h.hexdigest()
    if (size is not None and have != size) or got != sha256:
        part.unlink(missing_ok=True)
        what = f"{have} bytes, expected {size}" if size is not None and have != size else f"sha256 {got}, expected {sha256}"
        raise DownloadError(f"{url} does not match the archive's signed checksum ({what}); the damaged copy was "
                            "removed. Try again; if it happens again, a mirror or proxy is serving bad files: "
                            "choose another Debian mirror with `--archive URL`")
    os.replace(part, dest)
    fsync_dir(dest.parent)
    return dest
