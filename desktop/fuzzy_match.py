"""Fuzzy matching for the command palette: characters in order, rewarded for word starts and runs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")
_SEPARATORS = " -_./:@"


def fuzzy_score(query: str, text: str) -> int | None:
    """A score (higher is better) when every query character appears in order in `text`, else None.

    Spaces in the query are ignored; case is ignored. Consecutive matches, matches at word starts
    and a match at the very start score more; gaps and long texts score less.
    """
    q = "".join(query.lower().split())
    if not q:
        return 0
    t = text.lower()
    score, ti, prev = 0, 0, -2
    for ch in q:
        found = t.find(ch, ti)
        if found < 0:
            return None
        if found == prev + 1:
            score += 8  # a run
        if found == 0:
            score += 12
        elif t[found - 1] in _SEPARATORS:
            score += 9  # a word start: "wb" → "web-backend"
        score -= min(found - ti, 6)  # a gap
        score += 2
        prev, ti = found, found + 1
    at = t.find(q)
    if at >= 0:
        # the query as one piece, worth most where a word starts ("back" in "web-backend")
        score += 20 if at == 0 or t[at - 1] in _SEPARATORS else 4
    return score - len(t) // 8


def rank(query: str, items: Iterable[T], key, limit: int | None = None) -> list[T]:
    """Items whose key matches, best first (ties keep their given order)."""
    scored = []
    for i, item in enumerate(items):
        s = fuzzy_score(query, key(item))
        if s is not None:
            scored.append((-s, i, item))
    scored.sort(key=lambda x: (x[0], x[1]))
    out: Sequence = [x[2] for x in scored]
    return list(out[:limit] if limit else out)
