"""The time cursor: one moment the Activity timeline, the stats graphs and the logs all show.

Whoever points at a moment (a row of the timeline, a point of a graph) moves the cursor; every view
that observes it shows the same moment: the events around it, the figures at it, the log lines
around it. Qt-free: the pages subscribe to `moved`.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.state.observable import Listeners


@dataclass(frozen=True)
class Moment:
    """A pointed-at time, and what it is about when that is known."""

    t: float  # seconds since the epoch
    engine: str | None = None  # engine key
    container: str | None = None  # container id (the full one where known)
    name: str = ""  # the container's name, for captions (it may be gone from the engine)
    source: object = None  # who pointed: a view skips the moment it made itself

    def about(self, engine: str | None, container: str | None) -> bool:
        """Whether the moment concerns that engine's container (or says nothing of containers)."""
        if self.container is None:
            return self.engine is None or engine is None or self.engine == engine
        return container is not None and (self.container.startswith(container) or container.startswith(self.container)) \
            and (self.engine is None or engine is None or self.engine == engine)


class TimeCursor:
    """`moved(Moment)` after every move; `moment` is the current one (None before any)."""

    def __init__(self) -> None:
        self.moment: Moment | None = None
        self.moved = Listeners()

    def point(self, t: float, *, engine: str | None = None, container: str | None = None, name: str = "",
              source: object = None) -> Moment:
        m = Moment(float(t), engine, container, name, source)
        self.moment = m
        self.moved.emit(m)
        return m
