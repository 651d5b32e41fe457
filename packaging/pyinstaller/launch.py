"""PyInstaller entry point: the same `pilothouse` command as the installed script."""

import sys

from desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
