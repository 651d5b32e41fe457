"""The environment for a program of the host's own (QEMU, qemu-img, ssh, the docker CLI) started
from Pilothouse. Qt-free.

A PyInstaller bundle's bootloader puts the bundle's library folder first on the library search
path (LD_LIBRARY_PATH on Linux and the BSDs, LIBPATH on AIX) so that the app loads the libraries
it was built with, and keeps the user's own value in <NAME>_ORIG. Children inherit that: a
system QEMU would load the bundle's copies of glib, zlib or OpenSSL instead of the ones it was
built against, which works only as long as the two happen to match. A program of the host gets
the user's library path back; the bundle's own executable (the VM helper) keeps the bundle's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

# The variables PyInstaller's bootloader sets for the frozen process (see its "Launching external
# programs from the frozen application" notes).
LIBRARY_PATH_VARS = ("LD_LIBRARY_PATH", "LIBPATH", "DYLD_LIBRARY_PATH")


def system_program_env(env: Mapping[str, str] | None = None, bundle_dir: str | None = None) -> dict[str, str]:
    """`env` (default: this process's) as a program of the host should see it.

    Outside a frozen bundle this is a plain copy. In one, each library path variable is restored
    from its saved original, or, when there was none, loses the bundle's folders.
    Args:
        bundle_dir: the bundle's folder (default: sys._MEIPASS; None outside a bundle).
    """
    out = dict(os.environ if env is None else env)
    bundle = bundle_dir if bundle_dir is not None else getattr(sys, "_MEIPASS", None)
    if not bundle:
        return out
    bundle = os.path.normpath(bundle)
    for name in LIBRARY_PATH_VARS:
        orig = out.pop(f"{name}_ORIG", None)
        if orig is not None:
            out[name] = orig
            continue
        value = out.get(name)
        if value is None:
            continue
        kept = [p for p in value.split(os.pathsep) if p and not _inside(p, bundle)]
        if kept:
            out[name] = os.pathsep.join(kept)
        else:
            del out[name]
    return out


def _inside(path: str, bundle: str) -> bool:
    p = os.path.normpath(path)
    return p == bundle or p.startswith(bundle.rstrip(os.sep) + os.sep)
