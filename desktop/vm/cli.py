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
    b = sub.add_parser("build", help="build the VM image from Debian packages (Debian/Ubuntu hosts)")
    b.add_argument("--arch", default=None, help="x86_64 or aarch64 (default: this host)")
    b.add_argument("--force", action="store_true", help="rebuild even when up to date")
    b.add_argument("--wsl-rootfs", metavar="FILE", type=Path, default=None,
                   help="also write the WSL 2 root filesystem tarball (same packages) to FILE (.tar or .tar.gz)")
    for name, text in (("start", "boot the VM and wait for the engine"), ("restart", "stop, then start")):
        s = sub.add_parser(name, help=text)
        s.add_argument("--cpus", type=int, help="CPUs (saved; applies from this start)")
        s.add_argument("--memory", type=int, metavar="MIB", help="memory in MiB (saved)")
        s.add_argument("--disk", type=int, metavar="GIB", help="data disk size in GiB (saved; can only grow)")
        s.add_argument("--share", action="append", metavar="DIR", help="host folder to share (repeatable; replaces the saved list)")
    sub.add_parser("stop", help="power the VM off cleanly")
    sub.add_parser("status", help="show the VM state")
    lg = sub.add_parser("logs", help="show the VM console log")
    lg.add_argument("-n", type=int, default=50, help="number of lines")
    d = sub.add_parser("delete", help="stop the VM and delete its disk, certificates and state")
    d.add_argument("-y", "--yes", action="store_true", help="do not ask")
    sub.add_parser("_portsync", help=argparse.SUPPRESS).add_argument("state_dir")
    return p


def _config(args, paths: VMPaths) -> VMConfig:
    cfg = VMConfig.load(paths.config_file)
    changes = {k: v for k, v in (("cpus", args.cpus), ("memory_mib", args.memory), ("disk_gib", args.disk)) if v}
    if args.share:
        changes["shares"] = tuple(args.share)
    return cfg.with_changes(**changes) if changes else cfg


def _print_status(st) -> None:
    print(f"state:        {st.state}")
    if st.accelerator:
        print(f"accelerator:  {st.accelerator} ({st.accelerator_reason})")
    if st.docker_host:
        print(f"docker host:  {st.docker_host}  (docker --context pilothouse ...)")
        print(f"TLS:          ca={st.tls_ca} cert={st.tls_cert} key={st.tls_key}")
    print(f"console log:  {st.console_log}")
    if st.detail:
        print(f"detail:       {st.detail}")


def _write_wsl_rootfs(args) -> int:
    from desktop.vm.paths import default_image_dir, host_arch
    from desktop.vm.wsl_rootfs import RootfsError, write_rootfs

    image = default_image_dir(args.arch or host_arch())
    try:
        count = write_rootfs(image / "initramfs.img", args.wsl_rootfs)
    except (OSError, RootfsError) as e:
        print(f"error: cannot write the WSL root filesystem {args.wsl_rootfs}: {e}", file=sys.stderr)
        return 1
    size = args.wsl_rootfs.stat().st_size / 1e6
    print(f"  WSL root filesystem: {args.wsl_rootfs} ({count} entries, {size:.1f} MB); "
          f"import it with: wsl --import pilothouse <folder> {args.wsl_rootfs} --version 2", flush=True)
    return 0


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.cmd == "build":
        from desktop.vm.image_build import main as build_main

        code = build_main((["--arch", args.arch] if args.arch else []) + (["--force"] if args.force else []))
        if code != 0 or args.wsl_rootfs is None:
            return code
        return _write_wsl_rootfs(args)
    if args.cmd == "_portsync":
        from desktop.vm.portsync import main as portsync_main

        return portsync_main([args.state_dir])

    from desktop.vm.machine import VMError, VMManager

    paths = VMPaths.default()
    try:
        if args.cmd in ("start", "restart"):
            vm = VMManager(_config(args, paths), paths)
            print(f"{args.cmd.capitalize()}ing the Pilothouse VM", flush=True)
            coro = vm.start(_say) if args.cmd == "start" else vm.restart(_say)
            _print_status(asyncio.run(coro))
            return 0
        vm = VMManager(None, paths)
        if args.cmd == "stop":
            asyncio.run(vm.stop(progress=_say))
        elif args.cmd == "status":
            st = vm.status()
            _print_status(st)
            return 3 if st.state == "crashed" else 0
        elif args.cmd == "logs":
            print("\n".join(vm.console_tail(args.n)))
        elif args.cmd == "delete":
            if not args.yes and input(f"Delete the VM and all its images, containers and volumes in {paths.state_dir}? [y/N] ").lower() != "y":
                return 1
            asyncio.run(vm.delete(progress=_say))
            print("deleted")
        return 0
    except VMError as e:
        print(f"error: {e}", file=sys.stderr)
        for line in VMManager(None, paths).console_tail(5) if args.cmd in ("start", "restart") else []:
            print(f"  console: {line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
