"""Debian's signed package indices, read without apt.

The chain of trust is apt's: InRelease is verified against Debian's archive signing keys shipped
with Pilothouse (desktop/vm/keys/, copied from the debian-archive-keyring package); its SHA256
list names the Packages index of each architecture (fetched by hash), and each Packages entry
carries the sha256 of its .deb. Only the verified text of InRelease is ever parsed.
"""

from __future__ import annotations

import email.utils
import json
import lzma
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pysequoia

from desktop.vm import debian_version
from desktop.vm.deb_file import parse_stanza
from desktop.vm.download import DownloadError, atomic_write, download, fetch_bytes

KEYRING = Path(__file__).resolve().parent / "keys" / "debian-archive-keyring.pgp"
DEFAULT_ARCHIVE = "http://deb.debian.org/debian"
DEFAULT_SECURITY_ARCHIVE = "http://deb.debian.org/debian-security"
DEFAULT_RELEASE = "bookworm"
KEEP_FIELDS = ("Package", "Version", "Architecture", "Filename", "Size", "SHA256", "Depends")


class ArchiveError(RuntimeError):
    """A signed index could not be fetched or trusted; the message says what to do."""


@dataclass(frozen=True)
class Sources:
    """Where packages come from: the setting behind `--archive` / `--security-archive`.

    The defaults are the archives a Debian system's own apt uses."""

    archive: str = DEFAULT_ARCHIVE
    security_archive: str = DEFAULT_SECURITY_ARCHIVE
    release: str = DEFAULT_RELEASE

    @classmethod
    def from_env(cls) -> "Sources":
        return cls(os.environ.get("PILOTHOUSE_DEBIAN_ARCHIVE", DEFAULT_ARCHIVE).rstrip("/"),
                   os.environ.get("PILOTHOUSE_DEBIAN_SECURITY_ARCHIVE", DEFAULT_SECURITY_ARCHIVE).rstrip("/"),
                   os.environ.get("PILOTHOUSE_DEBIAN_RELEASE", DEFAULT_RELEASE))

    def suites(self) -> list[tuple[str, str]]:
        """(suite, archive URL), as apt's default sources.list for the release lists them."""
        return [(self.release, self.archive), (f"{self.release}-updates", self.archive),
                (f"{self.release}-security", self.security_archive)]

    def url_for(self, suite: str) -> str:
        return dict(self.suites())[suite]


@dataclass(frozen=True)
class PackageEntry:
    name: str
    version: str
    arch: str
    filename: str  # pool path relative to the archive root
    size: int
    sha256: str
    depends: str
    suite: str


@dataclass
class Index:
    """Packages of one architecture across the release's suites (apt's candidate = highest)."""

    arch: str
    by_name: dict[str, list[PackageEntry]] = field(default_factory=dict)

    def candidate(self, name: str) -> PackageEntry | None:
        versions = self.by_name.get(name)
        if not versions:
            return None
        return max(versions, key=lambda e: debian_version.version_key(e.version))

    def exact(self, name: str, version: str) -> PackageEntry | None:
        return next((e for e in self.by_name.get(name, []) if e.version == version), None)


@lru_cache(maxsize=1)
def _archive_certs() -> tuple:
    try:
        return tuple(pysequoia.Cert.split_bytes(KEYRING.read_bytes()))
    except OSError as e:
        raise ArchiveError(f"Debian's archive keys are missing from this Pilothouse install ({KEYRING}): reinstall Pilothouse") from e


def verify_inrelease(data: bytes, url: str) -> str:
    """The signed text of an InRelease file, or ArchiveError when no shipped key signed it."""
    certs = list(_archive_certs())
    try:
        result = pysequoia.verify(bytes=data, store=lambda _ids: certs)
    except Exception as e:  # noqa: BLE001 - pysequoia raises plain RuntimeError/ValueError
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ArchiveError(f"{url} is not signed by a Debian archive key ({reason}); nothing was trusted or cached. "
                          "A proxy or mirror may be tampering with it: try again, or choose another Debian mirror "
                          "with `pilothouse vm build --archive URL`") from None
    if not result.valid_sigs:
        raise ArchiveError(f"{url} carries no valid Debian archive signature: choose another Debian mirror with `--archive URL`")
    return result.bytes.decode("utf-8", "replace")


def parse_release(text: str) -> tuple[dict[str, str], dict[str, tuple[str, int]]]:
    """(fields, {path: (sha256, size)}) of a verified Release text."""
    head, _, _ = text.partition("\nMD5Sum:")
    fields = parse_stanza(head)
    sums: dict[str, tuple[str, int]] = {}
    in_sha = False
    for line in text.splitlines():
        if not line.startswith(" "):
            in_sha = line.startswith("SHA256:")
            continue
        if in_sha:
            parts = line.split()
            if len(parts) == 3:
                sums[parts[2]] = (parts[0], int(parts[1]))
    return fields, sums


def _check_release_fields(fields: dict[str, str], suite: str, url: str, now: float) -> None:
    if suite not in (fields.get("Codename"), fields.get("Suite")):
        raise ArchiveError(f"{url} describes {fields.get('Codename') or fields.get('Suite')!r}, not {suite!r}: "
                          "the mirror is misconfigured; choose another with `--archive URL`")
    valid_until = fields.get("Valid-Until")
    if valid_until:
        parsed = email.utils.parsedate_to_datetime(valid_until)
        if parsed.timestamp() < now:
            raise ArchiveError(f"{url} expired on {valid_until} (an old copy is being replayed or the mirror is stale): "
                              "choose another Debian mirror with `--archive URL`")


def parse_packages(text: str, suite: str, names: Callable[[str], bool]) -> Iterable[PackageEntry]:
    for stanza in text.split("\n\n"):
        if not stanza.startswith("Package: "):
            stanza = stanza.lstrip("\n")
            if not stanza.startswith("Package: "):
                continue
        name = stanza[9:stanza.find("\n")].strip() if "\n" in stanza else stanza[9:].strip()
        if not names(name):
            continue
        f = parse_stanza(stanza)
        yield PackageEntry(f["Package"], f["Version"], f.get("Architecture", ""), f["Filename"], int(f["Size"]),
                           f["SHA256"], f.get("Depends", ""), suite)


def load_index(sources: Sources, arch: str, cache_dir: Path, names: Callable[[str], bool], names_key: str,
               progress: Callable[[int, int], None] | None = None, now: float | None = None) -> Index:
    """Fetch and verify each suite's InRelease, then its Packages index for arch (cached by hash).

    names selects the packages kept (the index holds ~60000); names_key names that selection in
    the cache."""
    index = Index(arch)
    suites = sources.suites()
    idx_dir = cache_dir / "indices"
    for i, (suite, base) in enumerate(suites):
        url = f"{base}/dists/{suite}/InRelease"
        text = verify_inrelease(fetch_bytes(url), url)
        fields, sums = parse_release(text)
        _check_release_fields(fields, suite, url, time.time() if now is None else now)
        rel = f"main/binary-{arch}/Packages.xz"
        if rel not in sums:
            raise ArchiveError(f"{url} lists no {rel}: the archive does not carry {arch} for {suite}")
        sha, size = sums[rel]
        subset = idx_dir / f"{sha}-{names_key}.json"
        try:
            entries = [PackageEntry(**e) for e in json.loads(subset.read_text())]
        except (OSError, ValueError, TypeError):
            by_hash = fields.get("Acquire-By-Hash", "").lower() == "yes"
            path = f"main/binary-{arch}/by-hash/SHA256/{sha}" if by_hash else rel
            xz = download(f"{base}/dists/{suite}/{path}", idx_dir / f"{sha}.xz", sha, size)
            try:
                text_pk = lzma.decompress(xz.read_bytes()).decode("utf-8", "replace")
            except lzma.LZMAError:
                xz.unlink(missing_ok=True)
                raise ArchiveError(f"{base}/dists/{suite}/{rel} is damaged: try again") from None
            entries = list(parse_packages(text_pk, suite, names))
            atomic_write(subset, json.dumps([e.__dict__ for e in entries]).encode())
            xz.unlink(missing_ok=True)  # the subset is all a build needs; it is derived from verified bytes
        for e in entries:
            index.by_name.setdefault(e.name, []).append(e)
        if progress:
            progress(i + 1, len(suites))
    return index


__all__ = ["DownloadError", "Index", "ArchiveError", "PackageEntry", "Sources", "load_index", "verify_inrelease"]
