"""Decides whether a list answer may overwrite what engine events already said (Qt-free).

Two ways a list answer can be older than the events the app has applied:

- It was asked for before an event arrived (a burst, a resync racing the events stream): the
  event's own list follows, so the older answer is simply not applied to that container.
- The engine announces a change before its list shows it. dockerd 20.10 sends `die` 50-400 ms
  before `containers/json` stops saying "running" (or "paused": the pause-then-kill case), and
  `pause` a few ms early. A list made right after such an event returns the old state, and no
  later event ever corrects it: the row would say "Running" for good. So each state-changing
  event states what the list must say afterwards; an answer that contradicts it is asked again
  a little later, and after a few seconds the engine's answer is taken as it is (the engine is
  the truth; the wait only covers its announcement running ahead of its list).
"""

from __future__ import annotations

from collections.abc import Mapping

STOPPED = frozenset({"exited", "dead", "restarting", "removing"})
ABSENT = None
# What the engine's list may say about a container after its last state-changing event.
IMPLIED: Mapping[str, frozenset] = {
    "create": frozenset({"created"}),
    "start": frozenset({"running"}),
    "restart": frozenset({"running"}),
    "unpause": frozenset({"running"}),
    "pause": frozenset({"paused"}),
    "die": STOPPED,
    "stop": STOPPED,
    "destroy": frozenset({ABSENT}),
}
# Seconds before asking again while the list contradicts the last event (~3 s in all).
RECHECK = (0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6)

APPLY, SKIP, RECHECK_LATER = "apply", "skip", "recheck"


class EventLedger:
    """Per container: the sequence number of its last event and the state that event implies."""

    def __init__(self, recheck: tuple[float, ...] = RECHECK) -> None:
        self._seq = 0
        self._last: dict[str, int] = {}
        self._expect: dict[str, frozenset] = {}
        self._attempts: dict[str, int] = {}
        self._recheck = recheck

    def note(self, cid: str, action: str) -> None:
        """An event about `cid` has been received (in stream order)."""
        self._seq += 1
        self._last[cid] = self._seq
        implied = IMPLIED.get(action)
        if implied is not None:
            self._expect[cid] = implied
            self._attempts.pop(cid, None)

    def mark(self) -> int:
        """Taken just before a list call: events after it are newer than the answer."""
        return self._seq

    def newer_than(self, mark: int) -> set[str]:
        """Containers with an event after `mark`."""
        return {cid for cid, s in self._last.items() if s > mark}

    def judge(self, cid: str, state: "str | None", mark: int) -> str:
        """What to do with a list answer made at `mark` that says `state` (None: not listed).

        Returns APPLY, SKIP (a newer event is pending; its own list follows) or RECHECK_LATER
        (the engine announced a change its list does not show yet: ask again after `delay()`).
        """
        if self._last.get(cid, 0) > mark:
            return SKIP
        want = self._expect.get(cid)
        if want is not None and state not in want:
            n = self._attempts.get(cid, 0)
            if n < len(self._recheck):
                self._attempts[cid] = n + 1
                return RECHECK_LATER
        self._expect.pop(cid, None)
        self._attempts.pop(cid, None)
        return APPLY

    def delay(self, cids) -> float:
        """How long to wait before the next recheck of `cids` (the soonest among them)."""
        n = min((self._attempts.get(c, 1) for c in cids), default=1)
        return self._recheck[min(max(n - 1, 0), len(self._recheck) - 1)]

    def settled(self, mark: int) -> None:
        """Every answer made at or after `mark` has been applied: forget what they covered."""
        for cid in [c for c, s in self._last.items() if s <= mark and c not in self._expect]:
            del self._last[cid]

    def forget(self) -> None:
        """A reconnect: events from before it say nothing about the engine as it is now."""
        self._last.clear()
        self._expect.clear()
        self._attempts.clear()
