"""Pure presentation of images, volumes and networks (no Qt); sizes are in presentation.sizes."""

from __future__ import annotations


USAGE_UNKNOWN = "…"  # the engine's containers are still being listed: used or not is not known yet
USAGE_UNKNOWN_TIP = "Listing the engine's containers to see which use it…"


def used_by_text(users: list[str], known: bool = True) -> str:
    if not known:
        return USAGE_UNKNOWN
    if not users:
        return ""
    if len(users) <= 2:
        return ", ".join(users)
    return f"{users[0]}, {users[1]} and {len(users) - 2} more"


def image_usage_state(users: list[str], dangling: bool, known: bool = True) -> str:
    """`in use`, `unused` or `dangling` (a dangling image in use counts as in use); `unknown` while
    the engine's containers are still being listed, when an image with no user yet may be in use."""
    if users:
        return "in use"
    if not known:
        return "unknown"
    return "dangling" if dangling else "unused"
