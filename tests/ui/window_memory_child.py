"""One start of the app in its own process, on a desktop-sized offscreen screen (the session's
default offscreen screen is 800×800, smaller than the window): `set` moves and resizes the
window, then quits; `report` prints the window's size and place as JSON, then quits.

    python -m tests.ui.window_memory_child HOST set|report
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path


def main(host: str, mode: str) -> int:
    import qasync
    from PySide6.QtWidgets import QApplication

    from desktop.app import Pilothouse
    from desktop.engine.endpoints import Endpoint

    screen = Path(tempfile.mkdtemp()) / "screen.json"
    screen.write_text(json.dumps({"screens": [{"name": "desk", "x": 0, "y": 0, "width": 1920, "height": 1200,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    app = QApplication([sys.argv[0], "-platform", f"offscreen:configfile={screen}"])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    ph = Pilothouse([Endpoint(host, "--host")])

    async def run() -> None:
        ph.window.show()
        ph.start()
        await ph.first_load(timeout=30)
        if mode == "set":
            ph.window.resize(1300, 800)
            ph.window.move(140, 90)
        g = ph.window.geometry()
        print(json.dumps({"x": g.x(), "y": g.y(), "width": g.width(), "height": g.height()}), flush=True)
        await ph.aclose()
        ph.window.close()

    with loop:
        loop.run_until_complete(run())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
