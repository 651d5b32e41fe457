#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Pilothouse needs, only when they are missing and only
# when we may (root, or passwordless sudo). Usage: install-system-deps.sh run|test
set -euo pipefail
what=${1:-run}

# Qt's xcb/offscreen plugins need these shared libraries at run time.
run_pkgs=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4
          libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0
          libxcb-image0 libdbus-1-3 libfontconfig1 fonts-dejavu-core)
# The tests run a private dockerd (docker.io), build their base image from busybox-static,
# serve a real registry (docker-registry), boot the VM with QEMU (its image build is Python only; the tests
# compare its parts with kmod's depmod, binutils' readelf/objcopy, cpio and dpkg-deb, and
# bench/vm.py times it against an apt/dpkg build), grab screens with Xvfb, reach an engine over SSH (openssh-server
# on 127.0.0.1), drive Compose projects (Debian's docker-compose; the plugin is not in Debian) and
# check that `pipx install .` gives a working command (pipx). qemu-system-arm provides
# qemu-system-aarch64 for the arm64 VM image's boot test (~1 min, +~2 min to build that image).
# The swarm tests run three dockerds in network namespaces (iproute2, util-linux's unshare) whose
# overlay networking uses iptables inside each namespace. The VM tests compile a small static
# inotify watcher (gcc, libc6-dev) to run in a container, to see host edits in shared folders.
test_pkgs=("${run_pkgs[@]}" docker.io busybox-static docker-registry iproute2 xvfb openssh-server openssh-client
           qemu-system-x86 qemu-system-arm qemu-utils cpio xz-utils zstd kmod binutils docker-compose pipx
           iptables util-linux gcc libc6-dev)

case "$what" in
  run) pkgs=("${run_pkgs[@]}") ;;
  test) pkgs=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "Not a Debian/Ubuntu system: install the equivalents of: ${pkgs[*]}" >&2
  exit 0
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "Missing system packages (install them, then run again): ${missing[*]}" >&2
  [ "$what" = run ] && exit 0 || exit 1
fi

echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# Some names differ between releases; install what exists, one pass.
available=()
for p in "${missing[@]}"; do
  if apt-cache show "$p" >/dev/null 2>&1; then available+=("$p"); else echo "  (not available here: $p)"; fi
done
[ ${#available[@]} -eq 0 ] || "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${available[@]}" >/dev/null
