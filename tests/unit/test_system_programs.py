"""A host program started from a frozen bundle gets the user's library path back, not the bundle's.
(The frozen app's real QEMU is checked in tests/packaging/test_bundle_vm.py.)"""

from __future__ import annotations

import os

from desktop.system_programs import system_program_env

BUNDLE = "/opt/pilothouse/_internal"


def test_outside_a_bundle_the_environment_is_a_plain_copy():
    env = {"LD_LIBRARY_PATH": f"{BUNDLE}:/usr/local/lib", "PATH": "/usr/bin"}
    out = system_program_env(env, bundle_dir="")
    assert out == env and out is not env


def test_the_saved_original_comes_back():
    env = {"LD_LIBRARY_PATH": f"{BUNDLE}:/usr/local/lib", "LD_LIBRARY_PATH_ORIG": "/usr/local/lib", "HOME": "/h"}
    assert system_program_env(env, bundle_dir=BUNDLE) == {"LD_LIBRARY_PATH": "/usr/local/lib", "HOME": "/h"}


def test_without_an_original_only_the_bundles_folders_go():
    env = {"LD_LIBRARY_PATH": os.pathsep.join([BUNDLE, f"{BUNDLE}/PySide6", "/usr/local/lib"])}
    assert system_program_env(env, bundle_dir=BUNDLE + "/") == {"LD_LIBRARY_PATH": "/usr/local/lib"}
    assert system_program_env({"LD_LIBRARY_PATH": BUNDLE}, bundle_dir=BUNDLE) == {}


def test_a_folder_that_merely_starts_like_the_bundle_stays():
    env = {"DYLD_LIBRARY_PATH": f"{BUNDLE}-extra"}
    assert system_program_env(env, bundle_dir=BUNDLE) == env


def test_the_callers_environment_is_not_changed():
    env = {"LD_LIBRARY_PATH": BUNDLE, "LD_LIBRARY_PATH_ORIG": "/x"}
    system_program_env(env, bundle_dir=BUNDLE)
    assert env == {"LD_LIBRARY_PATH": BUNDLE, "LD_LIBRARY_PATH_ORIG": "/x"}
