"""VM resources from settings: CPUs, memory, disk size, shared folders (applied on (re)start),
and how long the VM may idle before it sleeps (applied at once by the running VM's helper)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path


def _default_shares() -> tuple[str, ...]:
    return (str(Path.home()),)


@dataclass(frozen=True)
class VMConfig:
    cpus: int = 2
    memory_mib: int = 2048
    disk_gib: int = 32
    # Host folders mounted in the VM at the same path, so `-v $HOME/x:/x` works.
    shares: tuple[str, ...] = field(default_factory=_default_shares)
    # Seconds with no engine traffic and no running container before the VM sleeps; 0: never.
    sleep_after_s: float = 300.0

    def __post_init__(self) -> None:
        if self.cpus < 1 or self.memory_mib < 512 or self.disk_gib < 2:
            raise ValueError("VM needs at least 1 CPU, 512 MiB of memory and a 2 GiB disk")
        if self.sleep_after_s < 0:
            raise ValueError("the idle time before the VM sleeps cannot be negative")
        object.__setattr__(self, "shares", tuple(str(Path(s).resolve()) for s in self.shares))

    def with_changes(self, **changes) -> "VMConfig":
        return replace(self, **changes)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> "VMConfig":
        """The saved config, or defaults when there is none; unknown keys are ignored."""
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError):
            return cls()
        known = {k: raw[k] for k in ("cpus", "memory_mib", "disk_gib", "shares", "sleep_after_s") if k in raw}
        if "shares" in known:
            known["shares"] = tuple(known["shares"])
        return cls(**known)
