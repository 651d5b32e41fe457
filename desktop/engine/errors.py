"""Engine failures as typed exceptions that carry one plain sentence for the user."""

from __future__ import annotations

import re
from collections.abc import Sequence

# docker and requests are imported where an exception is translated, not here: this module is
# on the start-up path, and the SDK's import (~60 ms) must come after the first table is painted.


class EngineError(Exception):
    """Base: `str(err)` is a sentence a user can read; `detail` is the engine's own words."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class NotFoundError(EngineError):
    """The object does not exist (404)."""


class ConflictError(EngineError):
    """The engine refused because of the object's state or a name clash (409)."""


class PortAllocatedError(ConflictError):
    """A published host port is already taken."""

    def __init__(self, message: str, detail: str = "", port: int | None = None) -> None:
        super().__init__(message, detail)
        self.port = port


class EngineUnreachableError(EngineError):
    """No engine answered at any of the endpoints tried."""

    def __init__(self, message: str, detail: str = "", tried: Sequence[str] = ()) -> None:
        super().__init__(message, detail)
        self.tried = tuple(tried)


class PermissionDeniedError(EngineUnreachableError):
    """The engine's socket exists but this user may not open it."""


class InvalidInputError(EngineError):
    """Input that must not reach the engine (checked before sending)."""


_PORT_RE = re.compile(r"(?:Bind for [^\s]*:(\d+) failed|listen tcp[46]? [^\s]*:(\d+): bind|:(\d+): bind: address already in use)")


def _engine_words(exc: Exception) -> str:
    import docker.errors

    if isinstance(exc, docker.errors.APIError):
        expl = exc.explanation
        if isinstance(expl, bytes):
            expl = expl.decode(errors="replace")
        return str(expl or exc)
    return str(exc)


def translate(exc: Exception, action: str = "", target: str = "") -> EngineError:
    """Map an SDK/requests exception to an EngineError with a sentence.

    Args:
        action: what the user asked, as a verb phrase ("start", "remove").
        target: what it was done to ("container web").
    """
    if isinstance(exc, EngineError):
        return exc
    import docker.errors
    import requests

    words = _engine_words(exc)
    low = words.lower()
    what = target or "the object"
    if isinstance(exc, docker.errors.NotFound) or getattr(getattr(exc, "response", None), "status_code", None) == 404:
        return NotFoundError(f"{what[0].upper() + what[1:]} no longer exists.", words)
    if "port is already allocated" in low or "address already in use" in low:
        m = _PORT_RE.search(words)
        port = next((int(g) for g in m.groups() if g), None) if m else None
        where = f"Port {port}" if port else "A port it publishes"
        return PortAllocatedError(
            f"Could not {action or 'start'} {what}: {where} is already in use on this computer. "
            "Stop whatever is using it, or publish a different port.",
            words, port,
        )
    if "cannot remove a running container" in low or ("running container" in low and "remove" in low):
        return ConflictError(
            f"{what[0].upper() + what[1:]} is running. Stop it first, or remove it with force, "
            "which kills it and loses whatever it has not saved.",
            words,
        )
    if "is already in use by container" in low or "conflict" in low and "name" in low:
        return ConflictError("That name is already in use by another container. Choose another name.", words)
    if "is not running" in low:
        return ConflictError(f"{what[0].upper() + what[1:]} is not running.", words)
    if "is paused" in low:
        return ConflictError(f"{what[0].upper() + what[1:]} is paused; unpause it first.", words)
    if "is not paused" in low:
        return ConflictError(f"{what[0].upper() + what[1:]} is not paused.", words)
    if isinstance(exc, docker.errors.ImageNotFound) or "no such image" in low:
        return NotFoundError(f"The image for {what} is not on this engine. Pull or build it first.", words)
    if isinstance(exc, docker.errors.APIError) and exc.status_code == 409:
        return ConflictError(f"The engine refused to {action or 'do that to'} {what}: {words}", words)
    if isinstance(exc, PermissionError) or "permission denied" in low:
        return PermissionDeniedError(
            "Permission denied on the engine's socket. Add yourself to the 'docker' group "
            "(sudo usermod -aG docker $USER, then log in again) or use a rootless engine.",
            words,
        )
    if isinstance(exc, (requests.exceptions.ConnectionError, ConnectionError, FileNotFoundError,
                        requests.exceptions.Timeout, docker.errors.DockerException)) and not isinstance(
            exc, docker.errors.APIError):
        return EngineUnreachableError("The engine stopped answering.", words)
    if isinstance(exc, docker.errors.APIError):
        return EngineError(f"The engine could not {action or 'do that to'} {what}: {words}", words)
    return EngineError(f"Could not {action or 'do that to'} {what}: {words}", words)
