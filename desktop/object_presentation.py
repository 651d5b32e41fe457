"""Pure presentation of images, volumes, networks and sizes (no Qt)."""

from __future__ import annotations


def human_size(n: int | None) -> str:
    """Decimal units like the docker CLI: 1.98 MB, 512 B; unknown → empty."""
    if n is None or n < 0:
        return ""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.3g} {unit}"
        size /= 1000
    return f"{n} B"


def used_by_text(users: list[str]) -> str:
    if not users:
        return ""
    if len(users) <= 2:
        return ", ".join(users)
    return f"{users[0]}, {users[1]} and {len(users) - 2} more"


def image_usage_state(users: list[str], dangling: bool) -> str:
    """`in use`, `unused` or `dangling` (a dangling image in use counts as in use)."""
    if users:
        return "in use"
    return "dangling" if dangling else "unused"
