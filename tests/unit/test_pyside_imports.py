"""PySide's per-import check of whether a module uses PySide6, made cheaper: same answers."""

from __future__ import annotations

import importlib
import inspect
import sys

from desktop.ui.qt_app import quicken_pyside_imports  # loads PySide6: its import hook and its check


def pysides_answer(module) -> bool:
    """What PySide's own check (shibokensupport.feature._mod_uses_pyside) answers."""
    try:
        return "PySide6" in inspect.getsource(module)
    except (TypeError, OSError, SyntaxError):
        return False


def test_the_quick_check_answers_as_pyside_does_for_every_loaded_module():
    for name in ("desktop.app", "desktop.ui.features.containers", "desktop.state.history.store", "json", "email"):
        importlib.import_module(name)
    quicken_pyside_imports()
    quick = sys.modules["shibokensupport.feature"]._mod_uses_pyside
    assert quick.quickened
    checked = 0
    for name, module in list(sys.modules.items()):
        if module is None:
            continue
        assert quick(module) is pysides_answer(module), name
        checked += 1
    assert checked > 200
    # said both ways: a module that uses PySide and one that does not
    assert quick(sys.modules["desktop.ui.qt_app"]) and not quick(sys.modules["json"])


def test_quickening_twice_wraps_once():
    quicken_pyside_imports()
    first = sys.modules["shibokensupport.feature"]._mod_uses_pyside
    quicken_pyside_imports()
    assert sys.modules["shibokensupport.feature"]._mod_uses_pyside is first
