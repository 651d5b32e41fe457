"""The container table's columns in one place: what each cell says and how each column sorts, for
a container row and for a Compose project row (pure functions, no Qt)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from desktop.engine.records import Container
from desktop.engine.stats_formulas import StatsSample
from desktop.presentation import containers as pres
from desktop.presentation import stats as stats_text
from desktop.presentation.sizes import binary_size

COLUMNS = ("Name", "Engine", "Image", "State", "Ports", "Created", "CPU %", "Memory", "Actions")
(COL_NAME, COL_ENGINE, COL_IMAGE, COL_STATE, COL_PORTS, COL_CREATED, COL_CPU, COL_MEM,
 COL_ACTIONS) = range(len(COLUMNS))
STATS_COLUMNS = (COL_CPU, COL_MEM)  # filled from live stats, only for rows on screen

EngineLabel = Callable[[str], str]  # engine id → what the Engine column says


def row_name(c: Container) -> str:
    """A Compose replica (a row under its service's row) reads as its service with its replica
    number, so no two replicas read the same; a standalone container by its name."""
    if not (c.compose_project and c.compose_service):
        return c.name
    n = c.compose_number
    return f"{c.compose_service} #{n}" if n is not None else c.compose_service


def service_name(c: Container) -> str:
    """The service row a project member sits under (a member without a service label: its own)."""
    return c.compose_service or c.name


def _name_sort_key(c: Container) -> str:
    """Replicas in number order (#2 before #10)."""
    if not (c.compose_project and c.compose_service):
        return c.name.lower()
    n = c.compose_number
    return c.compose_service.lower() + (f" #{n:09d}" if n is not None else "")


def ports_text(c: Container) -> str:
    return ", ".join(label for label, _ in pres.port_links(c))


def stats_cell(s: StatsSample | None, col: int) -> str:
    if s is None:
        return ""
    return stats_text.percent(s.cpu_percent) if col == COL_CPU else binary_size(s.mem_used)


def container_text(c: Container, col: int, engine_label: EngineLabel, pending: str | None = None,
                   stats: StatsSample | None = None, now: float | None = None) -> str | None:
    """The text of a container's cell. `pending`: an action in progress ("Stopping…"); `stats`:
    its latest sample (shown only while it runs)."""
    if col == COL_NAME:
        return row_name(c)
    if col == COL_IMAGE:
        return c.image
    if col == COL_ENGINE:
        return engine_label(c.engine_id)
    if col == COL_STATE:
        return pending or pres.state_text(c)
    if col == COL_PORTS:
        return ports_text(c)
    if col == COL_CREATED:
        return pres.age(c.created, now)
    if col in STATS_COLUMNS:
        return stats_cell(stats if c.state == "running" else None, col)
    return None


def container_sort_key(c: Container | None, col: int, engine_label: EngineLabel):
    """How a container row sorts among its siblings in column `col` (the tree's order)."""
    if c is None:
        return 0.0 if col == COL_CREATED else ""
    if col == COL_CREATED:
        return c.created
    if col == COL_IMAGE:
        return c.image.lower()
    if col == COL_ENGINE:
        return engine_label(c.engine_id).lower()
    if col == COL_STATE:
        return pres.state_text(c).lower()
    if col == COL_PORTS:
        return ports_text(c)
    return _name_sort_key(c)


def stats_sort_value(s: StatsSample | None, col: int) -> float:
    return -1.0 if s is None else (s.cpu_percent if col == COL_CPU else float(s.mem_used))


def project_created(members: Sequence[Container]) -> float:
    return min((c.created for c in members), default=0.0)


def project_text(name: str, engine_id: str, members: Sequence[Container], col: int,
                 engine_label: EngineLabel, now: float | None = None) -> str | None:
    """The text of a Compose project's cell (its containers are `members`)."""
    if col == COL_NAME:
        return name
    if col == COL_IMAGE:
        return f"{len(members)} container{'s' if len(members) != 1 else ''} (Compose)"
    if col == COL_ENGINE:
        return engine_label(engine_id)
    if col == COL_STATE:
        return pres.project_state(members)[0]
    if col == COL_CREATED:
        return pres.age(project_created(members), now)
    return None


def project_sort_key(name: str, engine_id: str, members: Sequence[Container], col: int,
                     engine_label: EngineLabel):
    """How a project row sorts among the top-level rows in column `col`."""
    if col == COL_CREATED:
        return project_created(members)
    if col == COL_STATE:
        return pres.project_state(members)[0].lower()
    if col == COL_IMAGE:
        return ""
    if col == COL_ENGINE:
        return engine_label(engine_id).lower()
    return name.lower()


def service_text(name: str, members: Sequence[Container], col: int, now: float | None = None) -> str | None:
    """The text of a Compose service's cell (a row between its project and its replicas)."""
    if col == COL_NAME:
        return name
    if col == COL_IMAGE:
        images = {c.image for c in members}
        return images.pop() if len(images) == 1 else f"{len(images)} images"
    if col == COL_STATE:
        return pres.project_state(members)[0]
    if col == COL_CREATED:
        return pres.age(project_created(members), now)
    return None


def service_sort_key(name: str, members: Sequence[Container], col: int):
    """How a service row sorts among its project's services in column `col`."""
    if col == COL_CREATED:
        return project_created(members)
    if col in (COL_STATE, COL_IMAGE):
        return (service_text(name, members, col) or "").lower()
    return name.lower()
