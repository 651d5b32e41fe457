"""Byte counts as people read them: decimal units for what is stored (images, volumes, transfers,
like `docker images`), binary units for memory and files (like `docker stats` and `ls -h`)."""

from __future__ import annotations

_DECIMAL = ("B", "kB", "MB", "GB", "TB")
_BINARY = ("B", "KiB", "MiB", "GiB", "TiB")


def human_size(n: float | None, *, binary: bool = False) -> str:
    """`1.98 MB`, `512 B` (decimal, the default; unknown or negative → empty), or with `binary`
    `45.2 MiB`, `1.5 GiB` (memory and rates, where a negative delta still reads)."""
    if not binary:
        if n is None or n < 0:
            return ""
        size = float(n)
        for unit in _DECIMAL:
            if size < 1000 or unit == _DECIMAL[-1]:
                return f"{int(size)} {unit}" if unit == "B" else f"{size:.3g} {unit}"
            size /= 1000
    size = float(n or 0)
    for unit in _BINARY:
        if abs(size) < 1024 or unit == _BINARY[-1]:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def binary_size(n: float) -> str:
    """Binary units like the docker CLI's memory column: 512 B, 45.2 MiB, 1.5 GiB."""
    return human_size(n, binary=True)
