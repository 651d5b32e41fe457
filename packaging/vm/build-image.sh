#!/usr/bin/env bash
# Builds the Pilothouse VM image (kernel + initramfs) from Debian packages.
# Usage: packaging/vm/build-image.sh [--arch x86_64|aarch64] [--out DIR] [--force] [--update-lock]
# Python only (any OS): Debian's signed indices and .debs, pinned by packaging/vm/image-lock.json.
# Output: vmlinuz, initramfs.img, probe.img, manifest.json (versions, sha256, sizes).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
py=${PYTHON:-$here/.venv/bin/python}
[ -x "$py" ] || py=python3
cd "$here"
exec "$py" -m desktop.vm.image_build "$@"
