"""What the image build needs from ELF files, read with pyelftools (no readelf, no modinfo):
a binary's DT_NEEDED libraries and interpreter, and a kernel module's .modinfo fields."""

from __future__ import annotations

import io
from dataclasses import dataclass

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

ELF_MAGIC = b"\x7fELF"


class NotELF(ValueError):
    """The bytes are not an ELF file pyelftools can read."""


@dataclass(frozen=True)
class ElfLinks:
    needed: tuple[str, ...]  # DT_NEEDED sonames, in file order
    interpreter: str  # PT_INTERP ('' for a static binary)


def is_elf(data: bytes) -> bool:
    return data[:4] == ELF_MAGIC


def links(data: bytes) -> ElfLinks:
    """The shared libraries and loader an executable or library asks for."""
    try:
        elf = ELFFile(io.BytesIO(data))
        needed: list[str] = []
        interp = ""
        # Program headers only: what the loader itself reads (and far cheaper than sections).
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_INTERP":
                interp = seg.get_interp_name()
            elif seg["p_type"] == "PT_DYNAMIC":
                needed += [t.needed for t in seg.iter_tags() if t.entry.d_tag == "DT_NEEDED"]
        return ElfLinks(tuple(needed), interp)
    except (ELFError, ValueError, KeyError) as e:
        raise NotELF(str(e)) from None


def modinfo(data: bytes) -> dict[str, list[str]]:
    """A kernel module's .modinfo section: key -> values (alias, depends, vermagic, name...)."""
    try:
        elf = ELFFile(io.BytesIO(data))
        section = elf.get_section_by_name(".modinfo")
    except (ELFError, ValueError) as e:
        raise NotELF(str(e)) from None
    if section is None:
        raise NotELF("no .modinfo section")
    info: dict[str, list[str]] = {}
    for item in section.data().split(b"\0"):
        if b"=" in item:
            key, _, value = item.decode("utf-8", "replace").partition("=")
            info.setdefault(key, []).append(value)
    return info


def module_depends(data: bytes) -> list[str]:
    """Names of the modules this one needs loaded first (modinfo's depends=, '' = none)."""
    values = modinfo(data).get("depends", [""])
    return [d for d in ",".join(values).split(",") if d]
