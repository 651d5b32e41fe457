"""Which engine a create, pull, build or load form sends to, when the window shows all engines.

A form builder takes either the target itself (a client for one engine) or an EngineChoice: then
the form gets an "Engine" list (the primary engine first and preselected) and the submit sends to
the engine picked there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from desktop.ui.widgets.form_dialog import Field


@dataclass(frozen=True)
class EngineChoice:
    """The engines a form may send to and how to reach each (`target_of(key)`: a client)."""

    keys: Sequence[str]
    target_of: Callable[[str], Any]

    def field(self) -> Field:
        return Field("engine", "Engine", kind="choice", choices=tuple(self.keys), default=self.keys[0],
                     help="Several engines are shown together: choose the one this goes to.")


def engine_fields(target: Any) -> list[Field]:
    """The Engine field, first in the form, when the user has to choose."""
    return [target.field()] if isinstance(target, EngineChoice) else []


def chosen(target: Any, values: dict) -> Any:
    """The client the form's submit uses: the one picked in the Engine field, or the one given."""
    return target.target_of(values["engine"]) if isinstance(target, EngineChoice) else target


def target(keys: Sequence[str], target_of: Callable[[str], Any]) -> Any:
    """One engine's client when there is one place to send to, else an EngineChoice over `keys`."""
    return target_of(keys[0]) if len(keys) == 1 else EngineChoice(tuple(keys), target_of)


def chosen_engine(dlg, keys: Sequence[str]) -> str:
    """The engine a finished form sent to."""
    return dlg.values().get("engine") or keys[0]
