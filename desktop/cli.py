"""`pilothouse` entry point: the GUI by default, `pilothouse vm ...` for the bundled VM,
`pilothouse events` for the recorded timeline."""

from __future__ import annotations

import argparse
import sys


def _gui_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pilothouse", description="Pilothouse: a desktop manager for container engines.")
    p.add_argument("--host", help="engine endpoint (unix:///path, tcp://host:port, ssh://user@host, npipe://...)")
    p.add_argument("--screenshot", metavar="FILE", help="open the window, wait for the first full load, save a PNG and exit")
    p.add_argument("--page", default="containers", help="page to show (with --screenshot)")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    # desktop integration
    p.add_argument("--install-desktop-entry", action="store_true",
                   help="install the .desktop entry and icons under $XDG_DATA_HOME (~/.local/share) and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    # The terminal emulator runs in a spawned child process; in a frozen build the child is this
    # executable again, and freeze_support() turns it into the child before any argument parsing.
    # (Elsewhere the child is a plain interpreter: importing multiprocessing would only delay the
    # engine's list by ~7 ms.)
    if getattr(sys, "frozen", False):
        import multiprocessing

        multiprocessing.freeze_support()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "vm":
        from desktop.vm.cli import main as vm_main

        return vm_main(argv[1:])
    if argv and argv[0] == "events":
        from desktop.events_cli import main as events_main

        return events_main(argv[1:])
    args = _gui_parser().parse_args(argv)
    if args.version:
        from desktop import __version__

        print(f"pilothouse {__version__}")
        return 0
    # ---- desktop entry; engines from the settings ----------------------------------------
    if args.install_desktop_entry:
        from desktop.desktop_entry import install

        for path in install():
            print(path)
        return 0
    # Ask the engine for its list before importing Qt and the SDK: the two overlap.
    from desktop.engine.endpoints import discover, engine_name
    from desktop.engine.prefetch import Prefetch

    endpoints = discover(args.host)  # engines saved in Settings are followed beside it (app.py)
    # ---- end desktop entry--------------------------------------------------------------------------
    prefetch = Prefetch.start_for(endpoints[0].host, engine_name(endpoints))

    from desktop.gui import run_gui

    return run_gui(host=args.host, screenshot=args.screenshot, page=args.page, endpoints=endpoints,
                   prefetch=prefetch)
