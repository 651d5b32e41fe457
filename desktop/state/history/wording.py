"""The timeline's "What happened" wording as search words: a user who reads "exited with code 1"
or "removed" searches for those words, while the history indexes the engine's actions ("die",
"destroy"). Each word of the wording maps to the actions it describes, so the search matches
either the indexed values or what the row says."""

from __future__ import annotations

import re
from functools import lru_cache

from desktop.engine.records import EngineEvent
from desktop.state.activity import describe

# (type, action, attributes): every action whose wording is not its own name. The attribute
# values are "?" so that only describe()'s own words remain after tokenising.
_SAMPLES = (
    ("container", "die", {"exitCode": "?"}),
    ("container", "die", {"exitCode": "0"}),
    ("container", "oom", {}),
    ("container", "kill", {"signal": "?"}),
    ("container", "destroy", {}),
    ("container", "create", {"image": "?"}),
    ("container", "health_status: ?", {}),
    ("container", "exec_create", {}),
    ("container", "exec_start", {}),
    ("container", "exec_die", {}),
    ("network", "connect", {"container": "?"}),
    ("network", "disconnect", {"container": "?"}),
    ("image", "delete", {}),
    ("image", "untag", {}),
    ("image", "pull", {}),
    ("image", "tag", {}),
)
_TOKEN = re.compile(r"[\w\-]+", re.UNICODE)  # as the history's full-text index splits words


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[tuple[str, str], ...]:
    """(wording word, action's first index token), from describe() itself so they cannot drift."""
    pairs = set()
    for kind, action, attrs in _SAMPLES:
        _name, text = describe(EngineEvent(kind, action, "x" * 12, attrs, 0, ""))
        token = _TOKEN.findall(action.casefold())[0]
        for w in _TOKEN.findall(text.casefold()):
            # A word the action's own name holds ("start" of exec_start, "health" of
            # health_status) is found by the index already: an extra OR only slows the search.
            if len(w) > 1 and not token.startswith(w) and w not in token.split("_"):
                pairs.add((w, token))
    return tuple(sorted(pairs))


def actions_for(word: str, prefix: bool = True) -> tuple[str, ...]:
    """The action tokens whose wording has `word` (as a word's prefix, by default).

    A word of one letter means nothing here (it would name every action)."""
    w = word.casefold()
    if len(w) < 2 or not _TOKEN.fullmatch(w):
        return ()
    return tuple(sorted({a for text, a in _vocabulary() if (text.startswith(w) if prefix else text == w)}))


def detail_of(kind: str, action: str, attributes) -> str:
    """The number a row says besides its words: a container's exit code ("exited with code 137")
    or the signal it was killed with; indexed so that "exit 137" or "code 137" finds the row."""
    if kind != "container":
        return ""
    verb = action.split(":")[0].strip()
    if verb == "die":  # (an exec's exit code is not in its row's words)
        return str(attributes.get("exitCode", "") or "")
    if verb == "kill":
        return str(attributes.get("signal", "") or "")
    return ""


def detail_of_json(kind: str, action: str, attrs_json: str) -> str:
    """`detail_of` over attributes stored as JSON (the schema's migration)."""
    import json

    try:
        attributes = json.loads(attrs_json or "{}")
    except ValueError:
        return ""
    return detail_of(kind, action, attributes if isinstance(attributes, dict) else {})
