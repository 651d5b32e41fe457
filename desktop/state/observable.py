"""A tiny Qt-free observer list: stores announce changes, the UI layer adapts them to signals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Listeners:
    """Callbacks called in order with the emitted arguments."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[..., Any]) -> None:
        self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        for cb in list(self._callbacks):
            cb(*args)
