"""`pilothouse vm build|start|stop|restart|status|logs|delete`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from desktop.vm.config import VMConfig
from desktop.vm.paths import VMPaths


def _say(msg: str) -> None:
    print(f"  {msg}", flush=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pilothouse vm", description="The bundled Linux VM that runs the engine.")
    sub = p.add_subparsers(dest="cmd", required=True)
    # `build` has its own parser (desktop.vm.image_build.main); listed here for --help.
    sub.add_parser("build", help="build the VM image from Debian packages (Python only, any OS; see `vm build --help`); "
                                 "--wsl-rootfs FILE also writes the WSL 2 root filesystem tarball")
    for name, text in (("start", "boot the VM and wait for the engine"), ("restart", "stop, then start")):
        s = sub.add_parser(name, help=text)
        s.add_argument("--cpus", type=int, help="CPUs (saved; applies from this start)")
        s.add_argument("--memory", type=int, metavar="MIB", help="memory in MiB (saved)")
        s.add_argument("--disk", type=int, metavar="GIB", help="data disk size in GiB (saved; can only grow)")
        s.add_argument("--share", action="append", metavar="DIR", help="host folder to share (repeatable; replaces the saved list)")
        s.add_argument("--update-image", action="store_true", help="build the current image first when the one found is older")
        s.add_argument("--keep-old-image", action="store_true", help="boot an older image without asking")
        s.add_argument("--timeout", type=float, metavar="SECONDS",
                       help="how long to wait for the engine (default 300 under software emulation, 90 with an accelerator)")
        if name == "start":
            s.add_argument("--cold", action="store_true", help="boot from scratch even when a saved state exists")
    sub.add_parser("image", help="show which VM image is used and whether it is current")
    st = sub.add_parser("stop", help="save the VM's state for the next start (seconds to resume), or power it off")
    st.add_argument("--shutdown", action="store_true", help="power the VM off cleanly instead (the next start boots)")
    sub.add_parser("status", help="show the VM state")
    lg = sub.add_parser("logs", help="show the VM console log")
    lg.add_argument("-n", type=int, default=50, help="number of lines")
    d = sub.add_parser("delete", help="stop the VM and delete its disk, certificates and state")
    d.add_argument("-y", "--yes", action="store_true", help="do not ask")
    sub.add_parser("_file_events", help=argparse.SUPPRESS).add_argument("state_dir")
    sub.add_parser("sleep", help="put the VM to sleep now (it wakes on the next engine request)")
    sub.add_parser("wake", help="wake a sleeping VM")
    idle = sub.add_parser("idle", help="set how long the VM may idle before it sleeps")
    idle.add_argument("minutes", help="minutes with no engine traffic and no running container, or 'off'")
    sub.add_parser("_helper", help=argparse.SUPPRESS).add_argument("state_dir")
    return p


def _config(args, paths: VMPaths) -> VMConfig:
    cfg = VMConfig.load(paths.config_file)
    changes = {k: v for k, v in (("cpus", args.cpus), ("memory_mib", args.memory), ("disk_gib", args.disk)) if v}
    if args.share:
        changes["shares"] = tuple(args.share)
    return cfg.with_changes(**changes) if changes else cfg


def _print_status(st) -> None:
    print(f"state:        {st.state}" + (" (sleeping: the next engine request wakes it)" if st.sleeping else ""))
    if st.accelerator:
        print(f"accelerator:  {st.accelerator} ({st.accelerator_reason})")
    if st.docker_host:
        print(f"docker host:  {st.docker_host}  (docker --context pilothouse ...)")
        print(f"TLS:          ca={st.tls_ca} cert={st.tls_cert} key={st.tls_key}")
    print(f"console log:  {st.console_log}")
    if st.detail:
        print(f"detail:       {st.detail}")
    if st.start_note:
        print(f"last start:   {st.start_note}")
    if st.state == "stopped" and st.saved:
        print("saved state:  yes (the next start resumes it; `vm start --cold` boots from scratch)")


def _split_wsl_rootfs(argv: list[str]) -> tuple[list[str], Path | None, str | None]:
    """`vm build` arguments without --wsl-rootfs FILE; that FILE; and the --arch given."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--wsl-rootfs", type=Path, default=None)
    p.add_argument("--arch", default=None)
    known, _ = p.parse_known_args(argv)
    rest, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--wsl-rootfs":
            skip = True
        elif not a.startswith("--wsl-rootfs="):
            rest.append(a)
    return rest, known.wsl_rootfs, known.arch


def _write_wsl_rootfs(out: Path, arch: str | None) -> int:
    """The WSL 2 root filesystem made from the image just built (same packages, same versions)."""
    from desktop.vm.paths import default_image_dir, host_arch
    from desktop.vm.wsl_rootfs import RootfsError, write_rootfs

    image = default_image_dir(arch or host_arch())
    try:
        count = write_rootfs(image / "initramfs.img", out)
    except (OSError, RootfsError) as e:
        print(f"error: cannot write the WSL root filesystem {out}: {e}", file=sys.stderr)
        return 1
    size = out.stat().st_size / 1e6
    print(f"  WSL root filesystem: {out} ({count} entries, {size:.1f} MB); "
          f"import it with: wsl --import pilothouse <folder> {out} --version 2", flush=True)
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["build"]:
        from desktop.vm.image_build import main as build_main

        rest, rootfs, arch = _split_wsl_rootfs(argv[1:])
        code = build_main(rest)
        if code != 0 or rootfs is None:
            return code
        return _write_wsl_rootfs(rootfs, arch)
    args = _parser().parse_args(argv)
    if args.cmd == "_helper":
        from desktop.vm.vm_helper import main as helper_main

        return helper_main([args.state_dir])
    if args.cmd == "_file_events":
        from desktop.vm.file_events import main as file_events_main

        return file_events_main([args.state_dir])

    from desktop.vm.machine import VMError, VMManager
    from desktop.vm.sleep_control import SleepControlError

    from desktop.vm.image_files import bundled_image_dir, image_state, user_vm_paths

    paths = user_vm_paths()
    if args.cmd == "image":
        st = image_state(paths.image_dir)
        where = " (bundled with this app)" if paths.image_dir == bundled_image_dir() else ""
        print(f"image:        {paths.image_dir}{where}")
        print(f"state:        {st.status}" + (f" (version {st.found_version}; this Pilothouse expects {st.expected_version})"
                                              if st.status != "missing" else ""))
        return 0 if st.status == "current" else 3
    try:
        if args.cmd in ("start", "restart"):
            vm = VMManager(_config(args, paths), paths)
            allow_old = args.keep_old_image
            st = vm.image_state()
            if st.status == "outdated" and not allow_old:
                update = args.update_image or (sys.stdin.isatty() and input(
                    f"The VM image is version {st.found_version}; this Pilothouse brings {st.expected_version}. "
                    "Update it now (the VM's containers, images and volumes are kept)? [Y/n] ").strip().lower() in ("", "y", "yes"))
                if update:
                    from desktop.vm.image_build import main as build_main

                    # An outdated image is never the bundled one (that is used only while current): it
                    # is the cache, which the build rewrites.
                    if build_main([]) != 0:
                        return 1
                    paths = user_vm_paths()
                    vm = VMManager(_config(args, paths), paths)
                elif sys.stdin.isatty():
                    allow_old = True
            print(f"{args.cmd.capitalize()}ing the Pilothouse VM", flush=True)
            _say(f"image: {vm.paths.image_dir}" + (" (bundled with this app)"
                                                   if vm.paths.image_dir == bundled_image_dir() else ""))
            if args.timeout is not None and args.timeout <= 0:
                raise VMError("the timeout is a number of seconds greater than 0")
            coro = (vm.start(_say, timeout=args.timeout, allow_outdated=allow_old, cold=args.cold) if args.cmd == "start"
                    else vm.restart(_say, allow_outdated=allow_old, timeout=args.timeout))
            _print_status(asyncio.run(coro))
            return 0
        vm = VMManager(None, paths)
        if args.cmd == "stop":
            asyncio.run(vm.stop(progress=_say, shutdown=args.shutdown))
        elif args.cmd == "status":
            st = vm.status()
            _print_status(st)
            return 3 if st.state == "crashed" else 0
        elif args.cmd == "sleep":
            asyncio.run(vm.sleep_now())
            print("sleeping")
        elif args.cmd == "wake":
            asyncio.run(vm.wake())
            print("awake")
        elif args.cmd == "idle":
            try:
                minutes = 0.0 if args.minutes.lower() in ("off", "never") else float(args.minutes)
            except ValueError:
                raise VMError(f"give the idle time in minutes, or 'off' (not {args.minutes!r})") from None
            if minutes < 0:
                raise VMError("the idle time cannot be negative")
            vm.set_sleep_after(minutes * 60)
            print("the VM never sleeps" if not minutes else f"the VM sleeps after {minutes:g} idle minutes")
        elif args.cmd == "logs":
            print("\n".join(vm.console_tail(args.n)))
        elif args.cmd == "delete":
            if not args.yes and input(f"Delete the VM and all its images, containers and volumes in {paths.state_dir}? [y/N] ").lower() != "y":
                return 1
            asyncio.run(vm.delete(progress=_say))
            print("deleted")
        return 0
    except (VMError, SleepControlError) as e:
        print(f"error: {e}", file=sys.stderr)
        for line in VMManager(None, paths).console_tail(5) if args.cmd in ("start", "restart") else []:
            print(f"  console: {line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
