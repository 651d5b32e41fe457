"""Make the README's screenshots: a private engine holding the demo data the page-fit tests use
(tests/harness/demo_data.py: long names, a scaled Compose service, odd exits), then the app's
own screenshot mode, `pilothouse --screenshot FILE --page NAME`, once per page and theme.

    python -m tests.harness.screenshot resources/screenshot.png   # the Containers page, light
    python -m tests.harness.screenshot --all docs/screenshots      # every main page, light and dark

Each run gets its own config, data and VM folders, so nothing of the user's shows (or changes).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.harness.demo_data import populate
from tests.harness.private_engine import PrivateEngine, ensure_test_image

PAGES = ("containers", "images", "volumes", "compose", "dashboard", "activity", "vm", "settings")
THEMES = ("light", "dark")


def shoot(host: str, out: Path, page: str = "containers", theme: str = "light") -> int:
    root = Path(tempfile.mkdtemp(prefix="pilothouse-shot-"))
    try:
        cfg = root / "config" / "pilothouse"
        cfg.mkdir(parents=True)
        (cfg / "settings.json").write_text(json.dumps({"theme": theme}))
        env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                   XDG_CONFIG_HOME=str(root / "config"), XDG_DATA_HOME=str(root / "data"),
                   XDG_STATE_HOME=str(root / "state"), PILOTHOUSE_VM_STATE_DIR=str(root / "vm"),
                   DOCKER_CONFIG=str(root / "docker-config"))
        return subprocess.call([sys.executable, "-m", "desktop", "--host", host, "--screenshot", str(out),
                                "--page", page], env=env, timeout=180)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    every = argv[:1] == ["--all"]
    rest = argv[1:] if every else argv
    eng = PrivateEngine()
    try:
        eng.start()
        ensure_test_image(eng.host)
        populate(eng.host)
        if not every:
            out = Path(rest[0] if rest else "resources/screenshot.png").resolve()
            return shoot(eng.host, out)
        folder = Path(rest[0] if rest else "docs/screenshots").resolve()
        folder.mkdir(parents=True, exist_ok=True)
        failed = 0
        for page in PAGES:
            for theme in THEMES:
                failed += shoot(eng.host, folder / f"{page}-{theme}.png", page, theme) != 0
        return 1 if failed else 0
    finally:
        eng.destroy()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
