"""Windows paths as Pilothouse's WSL distribution sees them: `C:\\work\\site` -> `/mnt/c/work/site`.

WSL mounts each fixed drive at /mnt/<letter> (the distribution's wsl.conf keeps that root), so a
bind source typed in Windows form can be handed to the engine in the distribution. Pure string
work, no file system access; bad input gets a sentence that says what to type instead.
"""

from __future__ import annotations

import re

from desktop.engine.specs import SpecError

AUTOMOUNT_ROOT = "/mnt/"
DISTRO = "pilothouse"
_BAD_CHARS = set('<>:"|?*')
_DRIVE = re.compile(r"^([A-Za-z]):(.*)$", re.S)
_WSL_HOSTS = ("wsl$", "wsl.localhost")


class WindowsPathError(SpecError):
    """The text is not a Windows path the WSL engine can reach; the message says why."""


_SPACE = " \t\r\n"  # only what a paste adds around a path: other Unicode spaces are valid in names


def _unquote(text: str) -> str:
    s = text.strip(_SPACE)
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        s = s[1:-1].strip(_SPACE)
    return s


def _components(rest: str, original: str) -> list[str]:
    parts: list[str] = []
    for part in re.split(r"[\\/]+", rest):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()  # as Windows does, `..` stops at the drive's root
            continue
        bad = sorted({c for c in part if c in _BAD_CHARS or ord(c) < 32})
        if bad:
            shown = ", ".join(repr(c) for c in bad)
            raise WindowsPathError(f"{original!r} contains {shown}, which Windows does not allow in a file name.")
        parts.append(part)
    return parts


def looks_windows(text: str) -> bool:
    """True for text that is meant as a Windows path (a drive letter or a \\\\ prefix)."""
    s = _unquote(text)
    return bool(_DRIVE.match(s)) or s.startswith(("\\\\", "//"))


def to_wsl(text: str, distro: str = DISTRO, root: str = AUTOMOUNT_ROOT) -> str:
    """The path inside the WSL distribution for a Windows path typed by a user."""
    original = text
    s = _unquote(text)
    if not s:
        raise WindowsPathError("A folder path is needed, like C:\\work\\site.")
    if "\x00" in s:
        raise WindowsPathError("The path contains a NUL character.")
    if s.startswith(("\\\\?\\", "//?/")):  # extended-length prefix: the rest is an ordinary path
        s = s[4:]
        if s[:4].upper() == "UNC\\":
            s = "\\\\" + s[4:]
    if s.startswith(("\\\\.\\", "//./")):
        raise WindowsPathError(f"{original!r} is a device path, not a folder: give a folder like C:\\work\\site.")
    if s.startswith(("\\\\", "//")):
        parts = [p for p in re.split(r"[\\/]+", s[2:]) if p]
        if len(parts) < 2:
            raise WindowsPathError(f"{original!r} names no share: a network path looks like \\\\server\\share\\folder.")
        host, share = parts[0].lower(), parts[1]
        if host in _WSL_HOSTS:
            if share.lower() != distro.lower():
                raise WindowsPathError(f"{original!r} is inside another WSL distribution ({share}), which the "
                                       "Pilothouse engine cannot see: copy the folder to a Windows drive.")
            inner = _components("\\".join(parts[2:]), original)
            return "/" + "/".join(inner)
        raise WindowsPathError(f"{original!r} is on a network share, which the Pilothouse WSL engine cannot reach: "
                               "copy the folder to a local drive such as C:.")
    m = _DRIVE.match(s)
    if not m:
        if s.startswith(("\\", "/")):
            raise WindowsPathError(f"{original!r} names no drive: write it with its drive letter, like C:{s}.")
        raise WindowsPathError(f"{original!r} is a relative path: give the full path, like C:\\work\\{s}.")
    drive, rest = m.group(1).lower(), m.group(2)
    if rest and rest[0] not in "\\/":
        raise WindowsPathError(f"{original!r} is relative to the current folder of drive {drive.upper()}: "
                               f"give the full path, like {drive.upper()}:\\{rest}.")
    parts = _components(rest, original)
    base = root.rstrip("/") + "/" + drive
    return base + ("/" + "/".join(parts) if parts else "")


def to_windows(path: str, distro: str = DISTRO, root: str = AUTOMOUNT_ROOT) -> str:
    """The Windows form of a path inside the distribution (drives back to letters)."""
    prefix = root.rstrip("/") + "/"
    if path.startswith(prefix) and len(path) > len(prefix) and (len(path) == len(prefix) + 1 or path[len(prefix) + 1] == "/"):
        drive = path[len(prefix)].upper()
        rest = path[len(prefix) + 1:].lstrip("/")
        return f"{drive}:\\" + rest.replace("/", "\\")
    return f"\\\\wsl.localhost\\{distro}" + path.replace("/", "\\")


def split_mount(text: str) -> tuple[str, str]:
    """Split a Run form mount line whose source is a Windows path: (source, ':target[:mode]')."""
    s = text.strip(_SPACE)
    quoted = re.match(r"^(\"[^\"]*\"|'[^']*')(:.*)?$", s, re.S)
    if quoted:
        return quoted.group(1), quoted.group(2) or ""
    m = _DRIVE.match(s)
    if m:
        head, rest = s[:2], s[2:]
        i = rest.find(":")
        return (head + rest, "") if i < 0 else (head + rest[:i], rest[i:])
    i = s.find(":")
    return (s, "") if i < 0 else (s[:i], s[i:])


def mount_line_to_wsl(text: str, distro: str = DISTRO) -> str:
    """A Run form mount line with a Windows source, rewritten for the WSL engine
    (`C:\\work\\site:/site:ro` -> `/mnt/c/work/site:/site:ro`); other lines are returned as given."""
    source, tail = split_mount(text)
    if not looks_windows(source):
        return text
    return to_wsl(source, distro) + tail


def wsl_mount_line(engine_tag: "str | None", platform: str) -> "object | None":
    """The Run form's mount-line rewrite for an engine: Windows paths for Pilothouse's own engine
    on Windows (which runs in the WSL distribution), nothing for any other engine (Docker Desktop
    and the like take Windows paths as they are)."""
    if platform != "win32" or engine_tag != DISTRO:
        return None
    return mount_line_to_wsl
