"""Compose projects as the user sees them: found from container labels (running or not) plus
projects opened from a compose file; derived from the ContainerStore, announced on change.

Over several engines (the merged container store) a project is one name on one engine: the same
name on two engines is two projects, each run against its own engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from desktop.engine.compose import ComposeTarget
from desktop.state.compose_files import ComposeFileCache, read_compose_file
from desktop.engine.records import COMPOSE_PROJECT, COMPOSE_SERVICE, Container
from desktop.state.containers import ContainerStore
from desktop.state.observable import Listeners

CONFIG_FILES = "com.docker.compose.project.config_files"
WORKING_DIR = "com.docker.compose.project.working_dir"
RUNNING_STATES = ("running", "restarting", "paused")


def project_name_for(path: str | Path) -> str:
    """Compose's default project name for a file: its directory's name, normalised the same way."""
    name = Path(path).resolve().parent.name.lower()
    name = re.sub(r"[^a-z0-9_-]", "", name)
    return name.lstrip("_-") or "default"


@dataclass(frozen=True)
class ComposeProject:
    name: str
    config_files: tuple[str, ...] = ()
    working_dir: str | None = None
    containers: tuple[Container, ...] = ()
    opened: bool = False  # the user opened it from a file (kept even with no containers)
    declared_services: tuple[str, ...] = field(default=())
    engine: str = ""  # the engine its containers are on (its session name)
    files_present: bool = False  # every compose file is a regular file on this machine (as last read)

    @property
    def key(self) -> str:
        """Unique over engines: "engine|name" (just the name for an untagged engine)."""
        return f"{self.engine}|{self.name}" if self.engine else self.name

    @property
    def target(self) -> ComposeTarget:
        return ComposeTarget(self.name, self.config_files, self.working_dir)

    @property
    def running_count(self) -> int:
        return sum(1 for c in self.containers if c.state in RUNNING_STATES)

    @property
    def services(self) -> dict[str, list[Container]]:
        """Service name → its containers, declared services first (even without containers)."""
        out: dict[str, list[Container]] = {s: [] for s in self.declared_services}
        for c in sorted(self.containers, key=lambda c: c.name):
            out.setdefault(c.compose_service or "(no service)", []).append(c)
        return out

    @property
    def summary(self) -> str:
        if not self.containers:
            return "not started"
        return f"{self.running_count} of {len(self.containers)} running"


def declared_services(config_file: str | Path) -> tuple[str, ...]:
    """Service names of a compose file (blocking: for tools and tests, not the UI thread)."""
    return read_compose_file(str(config_file)).services


class ComposeProjects:
    """All projects on the engine(s) plus opened ones. `changed()` when the list or a project changes.

    `engine` (None: all) limits the list to one engine's projects; a file opened meanwhile belongs
    to `default_engine()` (the selected engine, or the primary one).
    """

    def __init__(self, store: ContainerStore, default_engine=lambda: "", is_local=lambda engine: True) -> None:
        self.store = store
        # Label paths name files on the engine's machine: read only for engines on this one.
        self._is_local = is_local
        self.files = ComposeFileCache(lambda: self.changed.emit())
        self._opened: dict[tuple[str, str], ComposeTarget] = {}  # (engine, name) → target
        self.engine: str | None = None
        self._default_engine = default_engine
        self.changed = Listeners()
        store.reset.connect(self._on_store_changed)
        store.upserted.connect(self._on_store_changed)
        store.removed.connect(self._on_store_changed)

    def _on_store_changed(self, *args) -> None:
        self.changed.emit()

    def set_engine(self, engine: str | None) -> None:
        """Show one engine's projects (None: every engine's)."""
        self.engine = engine
        self.changed.emit()

    def open_file(self, path: str | Path, name: str | None = None) -> ComposeProject:
        """Add a project from its compose file (its directory is the project directory)."""
        p = Path(path).resolve()
        if not p.is_file():
            raise FileNotFoundError(f"{p} does not exist or is not a file.")
        target = ComposeTarget(name or project_name_for(p), (str(p),), str(p.parent))
        self.files.prime(str(p))
        engine = self.engine if self.engine is not None else self._default_engine()
        self._opened[(engine, target.name)] = target
        self.changed.emit()
        return self.get(f"{engine}|{target.name}" if engine else target.name)

    def forget(self, key: str) -> None:
        p = self.get(key)
        if p is not None and self._opened.pop((p.engine, p.name), None) is not None:
            self.changed.emit()

    def _groups(self) -> dict[tuple[str, str], list[Container]]:
        out: dict[tuple[str, str], list[Container]] = {}
        for c in self.store.all():
            name = c.labels.get(COMPOSE_PROJECT)
            if name and (self.engine is None or c.engine_id == self.engine):
                out.setdefault((c.engine_id, name), []).append(c)
        return out

    def all(self) -> list[ComposeProject]:
        groups = self._groups()
        opened = {k for k in self._opened if self.engine is None or k[0] == self.engine}
        keys = sorted(set(groups) | opened, key=lambda k: (k[1], k[0]))
        return [self._make(n, groups.get((e, n), []), e) for e, n in keys]

    def get(self, key: str) -> ComposeProject | None:
        """A project by key ("engine|name"), or by bare name (the first engine's with that name).
        Only that project's containers are gathered and only its files read (the page asks at
        every selection and state change; making every project took 25 ms at 20,000 containers)."""
        wanted = {key}
        if "|" in key:
            wanted.add(key.rsplit("|", 1)[1])  # (an engine's key may hold a "|": the name cannot)
        members: dict[tuple[str, str], list[Container]] = {}
        for c in self.store.all():
            name = c.labels.get(COMPOSE_PROJECT)
            if name in wanted and (self.engine is None or c.engine_id == self.engine):
                members.setdefault((c.engine_id, name), []).append(c)
        opened = {k for k in self._opened if k[1] in wanted and (self.engine is None or k[0] == self.engine)}
        for e, n in sorted(set(members) | opened, key=lambda k: (k[1], k[0])):
            if key in ((f"{e}|{n}" if e else n), n):
                return self._make(n, members.get((e, n), []), e)
        return None

    def _make(self, name: str, members: list[Container], engine: str = "") -> ComposeProject:
        opened = self._opened.get((engine, name))
        files: tuple[str, ...] = ()
        wd = None
        if opened is not None:
            files, wd = opened.config_files, opened.working_dir
        elif members:
            # the labels written by Compose at `up` say where the project came from
            newest = max(members, key=lambda c: c.created)
            raw = newest.labels.get(CONFIG_FILES, "")
            files = tuple(f for f in raw.split(",") if f)
            wd = newest.labels.get(WORKING_DIR) or None
        declared: tuple[str, ...] = ()
        present = bool(files)
        if opened is not None or self._is_local(engine):
            for f in files:
                info = self.files.get(f)
                present = present and info is not None and info.present
                if info is not None:
                    declared += tuple(s for s in info.services if s not in declared)
        else:
            present = False
        return ComposeProject(name, files, wd, tuple(members), opened is not None, declared, engine, present)

    def service_of(self, c: Container) -> str | None:
        return c.labels.get(COMPOSE_SERVICE)
