"""The user's settings: one typed, frozen object with defaults, validated field by field,
persisted as JSON under the platform's config dir, saved atomically, changes announced."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from desktop.engine.saved_engines import SavedEngine
from desktop.state.observable import Listeners

log = logging.getLogger(__name__)

THEMES = ("system", "light", "dark")
ENGINE_SCHEMES = ("unix://", "tcp://", "ssh://", "npipe://")


@dataclass(frozen=True)
class HostLimits:
    """What the host can give a VM; validation checks the VM resources against it."""

    cpus: int
    memory_mib: int
    disk_free_gib: int

    @classmethod
    def probe(cls, path: str | os.PathLike | None = None) -> "HostLimits":
        import psutil

        where = str(path) if path is not None and Path(path).exists() else str(Path.home())
        return cls(cpus=psutil.cpu_count(logical=True) or 1,
                   memory_mib=psutil.virtual_memory().total // (1024 * 1024),
                   disk_free_gib=psutil.disk_usage(where).free // (1024 ** 3))


@dataclass(frozen=True)
class Settings:
    """Every user preference. Defaults are what a new user gets."""

    # Engines followed beside the one discovery finds (DOCKER_HOST, contexts, sockets).
    engines: tuple[SavedEngine, ...] = ()
    # The engine the window opens on (a saved engine's name, or the discovered one's); empty: discovery's
    primary_engine: str = ""
    # Appearance
    theme: str = "system"
    # Notifications (desktop notifications for finished actions and exits)
    notifications: bool = True
    # Window and tray
    start_minimised: bool = False
    close_to_tray: bool = True
    # VM resources
    vm_cpus: int = 2
    vm_memory_mib: int = 2048
    vm_disk_gib: int = 32
    # Minutes with no engine traffic and no running container before the VM sleeps; 0: never
    vm_sleep_minutes: int = 5
    # Confirmations before destructive actions
    confirm_destructive: bool = True
    # (No log settings: the viewer keeps every line in compact storage and the Logs tab has its
    # own range and follow controls; settings that did nothing were removed, not left to lie.)
    # History: disk space the timeline, stats history and crash reports may use (oldest dropped first)
    history_cap_mb: int = 500
    # Debugging: the image a debug shell runs from; empty: the engine's busybox image, else asked
    debug_toolbox: str = ""


DEFAULTS = Settings()
FIELD_NAMES = tuple(f.name for f in fields(Settings))


class SettingsError(ValueError):
    """Some fields are invalid; `errors` maps field name to a sentence for the user."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def _check_int(value: Any, label: str, lo: int, hi: int, unit: str = "") -> tuple[int | None, str | None]:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None, f"{label} must be a whole number."
    try:
        n = int(str(value).strip())
    except ValueError:
        return None, f"{label} must be a whole number, not “{value}”."
    suffix = f" {unit}" if unit else ""
    if n < lo:
        return None, f"{label} must be at least {lo}{suffix}."
    if n > hi:
        return None, f"{label} can be at most {hi}{suffix}."
    return n, None


def _check_bool(value: Any, label: str) -> tuple[bool | None, str | None]:
    if isinstance(value, bool):
        return value, None
    return None, f"{label} must be on or off (true/false)."


def validate_field(name: str, value: Any, limits: HostLimits | None = None) -> tuple[Any, str | None]:
    """Check and normalise one field. Returns (value, None) or (None, error sentence)."""
    if name == "engines":
        # Saved as a list of small objects; the older form (one line per engine) is still read.
        if isinstance(value, str):
            value = [line for line in value.splitlines()]
        if not isinstance(value, (list, tuple)):
            return None, "Engines must be a list of endpoints."
        from desktop.engine.endpoint_input import FieldError

        out, names = [], set()
        for raw in value:
            if isinstance(raw, str):
                raw = " ".join(raw.split())
                if not raw:
                    continue
            try:
                entry = SavedEngine.parse(raw)
            except FieldError as err:
                shown = raw if isinstance(raw, str) else getattr(raw, "address", None) or str(dict(raw))
                return None, f"“{shown}” is not an engine endpoint: {err}"
            if entry.name in names:
                return None, f"Two engines are named {entry.name}: give each its own name."
            names.add(entry.name)
            out.append(entry)
        return tuple(out), None
    if name == "primary_engine":
        if not isinstance(value, str):
            return None, "The primary engine must be an engine's name."
        return value.strip(), None
    if name == "theme":
        if value not in THEMES:
            return None, f"Theme must be one of: {', '.join(THEMES)}."
        return value, None
    if name in ("notifications", "start_minimised", "close_to_tray", "confirm_destructive"):
        return _check_bool(value, name.replace("_", " ").capitalize())
    if name == "vm_cpus":
        return _check_int(value, "CPUs", 1, limits.cpus if limits else 256, "CPUs on this host" if limits else "")
    if name == "vm_memory_mib":
        hi = limits.memory_mib if limits else 1 << 20
        return _check_int(value, "Memory", 512, hi, "MiB" + (" (this host's memory)" if limits else ""))
    if name == "vm_disk_gib":
        hi = max(limits.disk_free_gib, 4) if limits else 1 << 14
        return _check_int(value, "Disk", 4, hi, "GiB" + (" (free space on this host)" if limits else ""))
    if name == "vm_sleep_minutes":
        if isinstance(value, str) and value.strip().lower() in ("off", "never"):
            return 0, None
        return _check_int(value, "Sleep after", 0, 24 * 60, "minutes (0 or “off”: never)")
    if name == "history_cap_mb":
        return _check_int(value, "History disk space", 10, 1_000_000, "MB")
    if name == "debug_toolbox":
        if not isinstance(value, str):
            return None, "The toolbox must be an image reference such as busybox:latest."
        if not value.strip():
            return "", None
        from desktop.engine.specs import SpecError, parse_image_ref

        try:
            return str(parse_image_ref(value)), None
        except SpecError as err:
            return None, str(err)
    return None, f"Unknown setting “{name}”."


def validate(changes: Mapping[str, Any], limits: HostLimits | None = None) -> dict[str, Any]:
    """Validate several fields at once; raises SettingsError listing every bad one."""
    good, errors = {}, {}
    for name, value in changes.items():
        v, err = validate_field(name, value, limits)
        if err:
            errors[name] = err
        else:
            good[name] = v
    if errors:
        raise SettingsError(errors)
    return good


def default_config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("pilothouse", appauthor=False))


class SettingsStore:
    """Loads once, validates, saves atomically; `changed(settings, names)` after each update."""

    FILE_NAME = "settings.json"

    def __init__(self, config_dir: str | os.PathLike | None = None,
                 limits: Callable[[], HostLimits] | None = None) -> None:
        self.path = Path(config_dir if config_dir is not None else default_config_dir()) / self.FILE_NAME
        self._limits = limits or HostLimits.probe
        self.changed = Listeners()
        self.load_problems: dict[str, str] = {}
        self.current = self._load()

    def limits(self) -> HostLimits:
        return self._limits()

    def _load(self) -> Settings:
        """Read the file; a missing file gives defaults, a bad field falls back to its default."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return DEFAULTS
        except (OSError, ValueError) as exc:
            self.load_problems["file"] = f"{self.path} could not be read ({exc}); using defaults."
            log.warning("settings: %s", self.load_problems["file"])
            return DEFAULTS
        if not isinstance(raw, dict):
            self.load_problems["file"] = f"{self.path} does not hold a settings object; using defaults."
            return DEFAULTS
        values = {}
        for name in FIELD_NAMES:
            if name not in raw:
                continue
            # Host limits are not applied at load: a setting saved on a bigger machine still loads.
            v, err = validate_field(name, raw[name], None)
            if err:
                self.load_problems[name] = err
                log.warning("settings: %s (using the default)", err)
            else:
                values[name] = v
        return replace(DEFAULTS, **values)

    def update(self, **changes: Any) -> Settings:
        """Validate, apply and save; raises SettingsError (nothing changed) on bad input."""
        needs_limits = any(n.startswith("vm_") for n in changes)
        good = validate(changes, self.limits() if needs_limits else None)
        new = replace(self.current, **good)
        names = [n for n in good if getattr(new, n) != getattr(self.current, n)]
        if not names:
            return self.current
        self._save(new)
        self.current = new
        self.changed.emit(new, names)
        return new

    def _save(self, settings: Settings) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = dataclasses.asdict(settings)
        data["engines"] = [e.to_dict() for e in settings.engines]
        fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=2, sort_keys=True)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)  # atomic: a crash leaves the old file or the new one
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
