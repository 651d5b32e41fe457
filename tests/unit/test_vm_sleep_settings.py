"""The idle time before the VM sleeps: the VM config, the app setting, the CLI; and the TCG
kernel options that keep an idle guest quiet."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.state.settings import DEFAULTS, validate_field
from desktop.vm import qemu
from desktop.vm.config import VMConfig


def test_config_sleeps_after_five_minutes_by_default_and_keeps_a_change(tmp_path: Path):
    assert VMConfig.load(tmp_path / "missing.json").sleep_after_s == 300
    cfg = VMConfig(sleep_after_s=0)
    cfg.save(tmp_path / "c.json")
    assert VMConfig.load(tmp_path / "c.json").sleep_after_s == 0
    with pytest.raises(ValueError):
        VMConfig(sleep_after_s=-1)


@pytest.mark.parametrize("typed, value, error", [
    ("5", 5, None), ("0", 0, None), ("off", 0, None), (" Never ", 0, None),
    ("-1", None, "at least 0"), ("soon", None, "whole number"), ("2000", None, "at most 1440"),
])
def test_setting_takes_minutes_or_off(typed, value, error):
    got, err = validate_field("vm_sleep_minutes", typed)
    assert got == value
    assert (err is None) if error is None else (error in err)
    assert DEFAULTS.vm_sleep_minutes == 5


def test_cli_idle_saves_the_time_and_explains_bad_input(tmp_path: Path, monkeypatch, capsys):
    from desktop.vm.cli import main

    monkeypatch.setenv("PILOTHOUSE_VM_STATE_DIR", str(tmp_path / "state"))
    assert main(["idle", "off"]) == 0
    assert "never sleeps" in capsys.readouterr().out
    assert VMConfig.load(tmp_path / "state" / "config.json").sleep_after_s == 0
    assert main(["idle", "2.5"]) == 0
    assert VMConfig.load(tmp_path / "state" / "config.json").sleep_after_s == 150
    assert main(["idle", "later"]) == 1
    assert "minutes, or 'off'" in capsys.readouterr().err
    assert main(["sleep"]) == 1
    assert "not running" in capsys.readouterr().err


def test_tcg_guest_uses_the_tsc_and_no_soft_lockup_watchdog():
    assert "tsc=reliable nowatchdog" in qemu.kernel_cmdline("x86_64", "tcg")
    assert "tsc=reliable" not in qemu.kernel_cmdline("x86_64", "kvm")
