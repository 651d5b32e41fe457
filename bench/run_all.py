"""`make bench`: run every bench/*.py (except helpers) one after another."""

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
status = 0
for script in sorted(here.glob("*.py")):
    if script.name.startswith("_") or script.name in ("common.py", "run_all.py"):
        continue
    print(f"## {script.name}", flush=True)
    status |= subprocess.call([sys.executable, str(script)], cwd=here.parent)
sys.exit(0)
