"""What goes into the VM image: Debian packages, the binaries taken from them, kernel modules,
and the guest's own files (init, shutdown, crun-tcg). Shared by the builder and its benchmark
baseline, so both assemble the same image."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Bump when the image's layout or contents change in a way a running app should offer to update.
RECIPE_VERSION = 5


@dataclass(frozen=True)
class ArchSpec:
    deb_arch: str
    triplet: str
    kernel_meta: str  # metapackage naming the current kernel; the real one is its Depends


ARCHES = {
    "x86_64": ArchSpec("amd64", "x86_64-linux-gnu", "linux-image-amd64"),
    "aarch64": ArchSpec("arm64", "aarch64-linux-gnu", "linux-image-arm64"),
}

# Userland, as Debian package names. Libraries are those the binaries below link (their closure
# is checked from the ELF headers after assembly, so a missing one fails the build, not the boot).
PACKAGES = [
    "busybox-static", "docker.io", "containerd", "runc", "crun", "tini", "iptables", "e2fsprogs", "util-linux",
    "libc6", "libseccomp2", "libsystemd0", "libdevmapper1.02.1", "libcap2", "libgcrypt20",
    "liblzma5", "libzstd1", "liblz4-1", "libselinux1", "libudev1", "libgpg-error0",
    "libpcre2-8-0", "libxtables12", "libip4tc2", "libip6tc2", "libext2fs2", "libcom-err2",
    "libblkid1", "libuuid1", "libyajl2",
]

# (path inside the package, path inside the image); no docker CLI, no unused daemons.
BINARIES = [
    ("bin/busybox", "usr/bin/busybox"),
    ("usr/sbin/dockerd", "usr/bin/dockerd"),
    ("usr/sbin/docker-proxy", "usr/bin/docker-proxy"),
    ("usr/bin/containerd", "usr/bin/containerd"),
    ("usr/bin/containerd-shim-runc-v2", "usr/bin/containerd-shim-runc-v2"),
    ("usr/sbin/runc", "usr/bin/runc"),
    # crun is dockerd's default runtime here (see packaging/vm/init for why).
    ("usr/bin/crun", "usr/bin/crun"),
    ("usr/bin/setarch", "usr/bin/setarch"),
    ("usr/bin/tini-static", "usr/bin/docker-init"),
    ("usr/sbin/xtables-legacy-multi", "usr/sbin/xtables-legacy-multi"),
    ("sbin/mke2fs", "usr/sbin/mke2fs"),
    ("sbin/e2fsck", "usr/sbin/e2fsck"),
    ("sbin/resize2fs", "usr/sbin/resize2fs"),
]
XTABLES_LINKS = ["iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"]
BUSYBOX_LINKS = ["sh", "modprobe", "mount", "umount", "ip", "ps", "cat", "ls", "ln", "mkdir", "rm"]

# Everything else the engine needs is a module in Debian's kernel; their dependencies come
# from each module's own modinfo.
MODULES = [
    "crc32c_generic", "virtio_pci", "virtio_net", "virtio_blk", "virtio_rng", "virtio_console", "virtio_balloon", "qemu_fw_cfg",
    "ext4", "overlay", "9p", "9pnet_virtio", "bridge", "br_netfilter", "veth",
    "nf_nat", "nf_conntrack", "nf_conntrack_netlink", "xfrm_user", "ip_tables", "iptable_filter", "iptable_nat", "xt_MASQUERADE",
    "xt_addrtype", "xt_conntrack", "xt_nat", "xt_tcpudp", "button", "evdev",
]
# Per-arch extras: arm64 `virt` has no ACPI without firmware; its power button is a GPIO key.
ARCH_MODULES = {"aarch64": ["gpio_keys"]}

# xtables extensions are loaded only for rules that name them; these need libraries the engine
# never uses (connlabel matches need libnetfilter_conntrack), so their absence is expected.
UNUSED_PLUGIN_LIBS = {"libxt_connlabel.so": {"libnetfilter_conntrack.so.3"}}

SKELETON_DIRS = ("usr/bin", "usr/sbin", "usr/lib", "etc", "proc", "sys", "dev", "run", "tmp", "var/lib/docker", "root", "mnt")
SKELETON_LINKS = ("bin", "sbin", "lib", "lib64")  # -> usr/<name>: merged /usr
SKELETON_FILES = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
    "etc/group": "root:x:0:\ndocker:x:999:\nnobody:x:65534:\n",
    "etc/hosts": "127.0.0.1 localhost pilothouse-vm\n::1 localhost\n",
    "etc/resolv.conf": "nameserver 10.0.2.3\n",
    "etc/hostname": "pilothouse-vm\n",
    "usr/lib/os-release": 'NAME="Pilothouse VM"\nID=pilothouse\nPRETTY_NAME="Pilothouse VM (Debian packages)"\n',
}
PROBE_INIT = ("#!/bin/busybox sh\n/bin/busybox mount -t proc proc /proc 2>/dev/null\n"
              "echo PILOTHOUSE-PROBE-OK > /dev/console\n/bin/busybox poweroff -f\n")
# (file in the recipe folder, path in the image), all executable.
GUEST_FILES = [("init", "init"), ("shutdown", "etc/pilothouse-shutdown"), ("crun-tcg", "usr/bin/crun-tcg"),
               ("agent", "usr/bin/pilothouse-agent"), ("shares", "usr/bin/pilothouse-shares")]
LOCK_NAME = "image-lock.json"


def modules_for(arch: str) -> list[str]:
    return MODULES + ARCH_MODULES.get(arch, [])


def merged(rel: str) -> str:
    """Map a Debian path to the image's merged-/usr layout."""
    for top in ("lib/", "lib64/", "bin/", "sbin/"):
        if rel.startswith(top):
            return "usr/" + rel
    return rel


@lru_cache(maxsize=1)
def recipe_dir() -> Path:
    """packaging/vm: the guest files and the lock, in a checkout, a wheel or a frozen bundle."""
    here = Path(__file__).resolve()
    candidates = [
        here.parents[2] / "packaging" / "vm",  # source checkout / editable install
        Path(getattr(sys, "_MEIPASS", "/nonexistent")) / "vm-recipe",  # PyInstaller bundle
        Path(sys.prefix) / "share" / "pilothouse" / "vm",  # wheel data files (venv, pipx)
        Path(sys.base_prefix) / "share" / "pilothouse" / "vm",
        Path.home() / ".local" / "share" / "pilothouse" / "vm",  # pip install --user
    ]
    for c in candidates:
        if (c / "init").is_file():
            return c
    return candidates[0]
