"""Where the VM keeps its files (platformdirs), with overrides for tests and packaged apps."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP = "pilothouse"


def host_arch() -> str:
    """The host CPU as QEMU names it: x86_64 or aarch64 (aarch64 for a Rosetta process too)."""
    from desktop.vm.host_platform import HostPlatform

    return HostPlatform.current().arch


def default_image_dir(arch: str | None = None) -> Path:
    """The image cache: $PILOTHOUSE_VM_IMAGE_DIR, else user_cache_dir/vm-image/<arch>."""
    env = os.environ.get("PILOTHOUSE_VM_IMAGE_DIR")
    if env:
        return Path(env)
    return Path(platformdirs.user_cache_dir(APP)) / "vm-image" / (arch or host_arch())


def default_docker_config_dir() -> Path:
    env = os.environ.get("DOCKER_CONFIG")
    return Path(env) if env else Path.home() / ".docker"


@dataclass(frozen=True)
class VMPaths:
    """All locations one VM uses. state_dir is private (0700): certificates, disk, sockets."""

    state_dir: Path
    image_dir: Path
    docker_config_dir: Path

    @classmethod
    def default(cls, name: str = "default", image_dir: Path | None = None) -> "VMPaths":
        """The user's VM's folders; its image in `image_dir`, else the image cache (which image
        a bundled app uses is desktop.vm.image_files.user_vm_paths's choice)."""
        base = os.environ.get("PILOTHOUSE_VM_STATE_DIR")
        state = Path(base) if base else Path(platformdirs.user_data_dir(APP)) / "vm" / name
        return cls(state, image_dir or default_image_dir(), default_docker_config_dir())

    @property
    def config_file(self) -> Path:
        return self.state_dir / "config.json"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def data_disk(self) -> Path:
        return self.state_dir / "data.qcow2"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / "data.lock"

    @property
    def tls_dir(self) -> Path:
        return self.state_dir / "tls"

    @property
    def console_log(self) -> Path:
        return self.state_dir / "console.log"

    @property
    def qemu_log(self) -> Path:
        return self.state_dir / "qemu.log"

    @property
    def portsync_log(self) -> Path:
        return self.state_dir / "portsync.log"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "qemu.pid"

    @property
    def qmp_socket(self) -> Path:
        return self.state_dir / "qmp.sock"

    @property
    def qmp_portsync_socket(self) -> Path:
        return self.state_dir / "qmp-ports.sock"

    @property
    def qmp_sleep_socket(self) -> Path:
        return self.state_dir / "qmp-sleep.sock"

    @property
    def agent_base(self) -> Path:
        """The guest agent's FIFOs are agent.in and agent.out (desktop/vm/guest_agent.py)."""
        return self.state_dir / "agent"

    @property
    def helper_socket(self) -> Path:
        return self.state_dir / "helper.sock"

    @property
    def helper_log(self) -> Path:
        return self.state_dir / "helper.log"

    @property
    def sleep_file(self) -> Path:
        return self.state_dir / "sleep.json"

    @property
    def shares_file(self) -> Path:
        return self.state_dir / "shares"

    @property
    def accel_cache(self) -> Path:
        return self.state_dir / "accel.json"

    def ensure(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state_dir, 0o700)
