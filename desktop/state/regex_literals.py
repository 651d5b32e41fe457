"""The literal text a regular expression cannot match without: found with fast substring search
first, so the regex engine runs only on the few lines that hold it (what grep and ripgrep do).

Python's `re` has no such prefilter beyond a literal prefix, and walks every byte of a log in
its matching loop; `bytes.find` skips through it many times faster.
"""

from __future__ import annotations

import re

try:  # Python 3.11+
    from re import _constants as _c
    from re import _parser as _p
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _p  # type: ignore[no-redef]

_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT} | ({_c.POSSESSIVE_REPEAT} if hasattr(_c, "POSSESSIVE_REPEAT") else set())
_ATOMIC = getattr(_c, "ATOMIC_GROUP", None)


def _runs(items) -> tuple[list[bytes], bool]:
    """(runs of literal bytes every match holds, whether `items` is nothing but literals)."""
    runs: list[bytes] = []
    cur = bytearray()
    only_literals = True

    def flush() -> None:
        if cur:
            runs.append(bytes(cur))
            cur.clear()

    for op, av in items:
        if op is _c.LITERAL:
            cur.append(av)
            continue
        only_literals = False
        if op is _c.SUBPATTERN:
            _group, add, drop, sub = av
            if add or drop:  # scoped flags ((?i:...)) change what its literals match
                flush()
                continue
            inner, plain = _runs(sub)
            if plain and inner:  # (abc) is as contiguous as abc
                cur.extend(inner[0])
                continue
            flush()
            runs.extend(inner)
        elif op in _REPEATS:
            lo, _hi, sub = av
            flush()
            if lo >= 1:
                runs.extend(_runs(sub)[0])
        elif op is _ATOMIC:
            flush()
            runs.extend(_runs(av)[0])
        elif op is _c.AT:
            continue  # an anchor takes no text: the literals around it stay contiguous
        else:  # classes, any, alternation, lookaround, back references: no fixed text
            flush()
    flush()
    return runs, only_literals


def required_literal(pattern: re.Pattern[bytes]) -> tuple[bytes | None, bool]:
    """(the longest literal every match of a bytes pattern contains, or None; whether the pattern is
    exactly that literal). With IGNORECASE the literal is lower-cased: search lower-cased text.

    Only what is certain is returned: alternation, classes and optional parts give no literal.
    """
    try:
        parsed = _p.parse(pattern.pattern, pattern.flags & ~re.IGNORECASE)
    except Exception:  # noqa: BLE001 - compiled already; an unexpected parser shape means no prefilter
        return None, False
    runs, only = _runs(list(parsed))
    if not runs:
        return None, False
    best = max(runs, key=len)
    exact = only and len(runs) == 1
    if pattern.flags & re.IGNORECASE:
        best = best.lower()
    return best, exact
