"""What every feature wing implements, and the shared parts the composition root hands it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from desktop.state.engines import EngineRegistry, EngineSession, MergedContainerStore, MergedStatus
from desktop.state.settings import SettingsStore


class Wing(Protocol):
    """The composition root walks its wings with these three calls, and nothing else."""

    def show_engine(self, key: str | None) -> None:
        """The engine switcher chose one engine (its session key), or all of them (None)."""

    def set_engine_count(self, n: int) -> None:
        """The app follows `n` engines now (an engine was added or removed, or changed state)."""

    async def aclose(self) -> None:
        """Stop this feature's streams and tasks; the engines are closed after every wing."""


@dataclass(frozen=True)
class Shared:
    """What every wing may use: the window, the engines and their merged views, the settings."""

    window: object  # MainWindow
    engines: EngineRegistry
    primary: EngineSession
    containers: MergedContainerStore  # every engine's containers, each row tagged with its engine
    status: MergedStatus
    settings: SettingsStore

    @property
    def several(self) -> bool:
        return len(self.engines.sessions) > 1
