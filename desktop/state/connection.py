"""Qt-free connection state of one engine, for the status bar, banner and no-engine page."""

from __future__ import annotations

from dataclasses import dataclass, replace

from desktop.engine.records import EngineInfo
from desktop.state.observable import Listeners

CONNECTING = "connecting"
CONNECTED = "connected"
RECONNECTING = "reconnecting"  # was connected, lost it, retrying
UNREACHABLE = "unreachable"  # never connected this session, retrying


@dataclass(frozen=True)
class ConnectionState:
    state: str = CONNECTING
    info: EngineInfo | None = None
    message: str = ""
    tried: tuple[str, ...] = ()
    endpoint: str = ""
    loaded: bool = False  # the first full list after (re)connecting has been applied
    lost: tuple[str, ...] = ()  # several engines: the names of those currently away


class ConnectionStatus:
    """Holds the current ConnectionState and announces `changed(state)`."""

    def __init__(self) -> None:
        self.current = ConnectionState()
        self.changed = Listeners()
        self._ever_connected = False

    def _set(self, new: ConnectionState) -> None:
        if new != self.current:
            self.current = new
            self.changed.emit(new)

    def connected(self, info: EngineInfo) -> None:
        self._ever_connected = True
        self._set(ConnectionState(CONNECTED, info, "", (), info.endpoint, loaded=False))

    def update_info(self, info: EngineInfo) -> None:
        """Fresher details of the engine already connected (after a quick reconnect)."""
        if self.current.state == CONNECTED:
            self._set(replace(self.current, info=info))

    def loaded(self) -> None:
        self._set(replace(self.current, loaded=True))

    def lost(self, message: str, tried: tuple[str, ...] = ()) -> None:
        state = RECONNECTING if self._ever_connected else UNREACHABLE
        self._set(ConnectionState(state, self.current.info, message, tried or self.current.tried,
                                  self.current.endpoint))

    @property
    def is_connected(self) -> bool:
        return self.current.state == CONNECTED
