"""Engines remembered in Settings: one record per engine, saved as a small JSON object a person
can read (and still read from the older one-line form, `[NAME] ADDRESS [option=path ...]`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from desktop.engine.endpoint_input import FieldError, engine_from_input, parse_engine_words
from desktop.engine.endpoints import Endpoint

FILE_OPTIONS = ("tls_ca", "tls_cert", "tls_key", "ssh_identity", "ssh_known_hosts")


@dataclass(frozen=True)
class SavedEngine:
    """What the user told Pilothouse about one engine; files are paths, checked when used."""

    name: str
    address: str
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    ssh_identity: str = ""
    ssh_known_hosts: str = ""

    # -- reading and writing ------------------------------------------------------------------------
    @classmethod
    def from_line(cls, line: str) -> "SavedEngine":
        """The older saved form, one line per engine (FieldError when it is not one)."""
        name, address, options = parse_engine_words(line)
        return cls(name, address, **options).checked()

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "SavedEngine":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise FieldError("address", f"“{unknown[0]}” is not something an engine entry can hold.")
        if not all(isinstance(v, str) for v in raw.values()):
            raise FieldError("address", "Each part of an engine entry must be text.")
        return cls(**{k: v.strip() for k, v in raw.items()}).checked()

    @classmethod
    def from_endpoint(cls, ep: Endpoint) -> "SavedEngine":
        tls = ep.tls
        return cls(ep.name, ep.host, tls_ca=(tls.ca or "") if tls else "", tls_cert=(tls.cert or "") if tls else "",
                   tls_key=(tls.key or "") if tls else "", ssh_identity=ep.ssh_identity or "",
                   ssh_known_hosts=ep.ssh_known_hosts or "")

    @classmethod
    def parse(cls, value: Any) -> "SavedEngine":
        """Any saved form: a record, a dict (the file), a line (the older file)."""
        if isinstance(value, SavedEngine):
            return value.checked()
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        if isinstance(value, str):
            return cls.from_line(value)
        raise FieldError("address", "Each engine must be an entry with a name and an address.")

    def to_dict(self) -> dict[str, str]:
        """Only what is set, so the file stays short."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) or f.name in ("name", "address")}

    # -- checking and using ---------------------------------------------------------------------------
    def options(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in FILE_OPTIONS}

    def endpoint(self, check_files: bool = True, taken_names: set[str] = frozenset()) -> Endpoint:
        """The Endpoint to dial; FieldError (naming the field) when something is wrong."""
        return engine_from_input(self.name, self.address, taken_names=taken_names, check_files=check_files,
                                 **self.options())

    def checked(self) -> "SavedEngine":
        """Itself when its name, address and options make sense (files are checked when used:
        a certificate on an unplugged disk must not make Settings forget the engine)."""
        from dataclasses import replace

        ep = self.endpoint(check_files=False)
        return self if ep.host == self.address else replace(self, address=ep.host)

    @property
    def kind(self) -> str:
        return engine_kind(self.address, bool(self.tls_cert or self.tls_ca))

    def details(self) -> str:
        """The TLS or SSH files in a few words (file names; the full paths are in `details_full`)."""
        import os

        parts = [f"{label} {os.path.basename(getattr(self, key))}" for key, label in _DETAIL_LABELS
                 if getattr(self, key)]
        return ", ".join(parts)

    def details_full(self) -> str:
        return "\n".join(f"{label}: {getattr(self, key)}" for key, label in _DETAIL_LABELS if getattr(self, key))


_DETAIL_LABELS = (("tls_ca", "CA"), ("tls_cert", "certificate"), ("tls_key", "key"),
                  ("ssh_identity", "identity"), ("ssh_known_hosts", "known_hosts"))


def engine_kind(address: str, tls: bool) -> str:
    """What kind of connection an address is, in a few words."""
    scheme = address.split("://", 1)[0] if "://" in address else ("unix" if address.startswith("/") else "")
    if scheme == "tcp":
        return "TCP with TLS" if tls else "TCP, unencrypted"
    return {"unix": "Local socket", "ssh": "SSH", "npipe": "Named pipe"}.get(scheme, "Unknown")


def endpoint_kind(ep: Endpoint) -> str:
    return engine_kind(ep.host, ep.tls is not None)


def endpoint_details(ep: Endpoint) -> str:
    return SavedEngine.from_endpoint(ep).details()
