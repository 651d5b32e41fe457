"""Windows bind sources as the WSL distribution sees them (pure string work; not run on Windows)."""

from __future__ import annotations

import ntpath

import pytest
from hypothesis import given, strategies as st

from desktop.engine.specs import parse_mount
from desktop.engine.wsl_paths import WindowsPathError, looks_windows, mount_line_to_wsl, split_mount, to_windows, to_wsl

# A file name Windows allows: no separators, no reserved characters, not "." or "..".
name_chars = st.characters(blacklist_characters='<>:"|?*\\/', blacklist_categories=("Cs",), min_codepoint=32)
names = st.text(name_chars, min_size=1, max_size=12).filter(lambda s: s.strip(" ") == s and s not in (".", ".."))
drives = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


@pytest.mark.parametrize("windows,wsl", [
    (r"C:\work\site", "/mnt/c/work/site"),
    (r"c:\work\site\\", "/mnt/c/work/site"),
    ("C:/work/site", "/mnt/c/work/site"),
    (r"D:\\", "/mnt/d"),
    ("E:", "/mnt/e"),
    (r'"C:\my work\site"', "/mnt/c/my work/site"),
    (r"  'C:\Program Files (x86)\app'  ", "/mnt/c/Program Files (x86)/app"),
    (r"C:\work\.\a\..\site", "/mnt/c/work/site"),
    (r"C:\..\..\site", "/mnt/c/site"),
    (r"\\?\C:\very\long\path", "/mnt/c/very/long/path"),
    (r"\\wsl$\pilothouse\var\lib", "/var/lib"),
    (r"\\wsl.localhost\Pilothouse\srv\data", "/srv/data"),
    ("C:\\donn\u00e9es\\\u65e5\u672c", "/mnt/c/donn\u00e9es/\u65e5\u672c"),
])
def test_windows_paths_translate(windows: str, wsl: str):
    assert to_wsl(windows) == wsl


@pytest.mark.parametrize("bad,says", [
    ("", "A folder path is needed"),
    ('""', "A folder path is needed"),
    (r"work\site", "relative path"),
    (r"\work\site", "names no drive"),
    (r"C:work", "relative to the current folder of drive C"),
    (r"\\server\share\dir", "network share"),
    (r"\\?\UNC\server\share\dir", "network share"),
    (r"\\server", "names no share"),
    (r"\\.\PhysicalDrive0", "device path"),
    (r"\\wsl$\Ubuntu\home\me", "another WSL distribution (Ubuntu)"),
    (r"C:\work\a|b", "'|'"),
    (r"C:\work\what?", "'?'"),
    ("C:\\work\\a\x01b", "'\\x01'"),
    ("C:\\a\x00b", "NUL"),
])
def test_bad_input_says_what_to_type(bad: str, says: str):
    with pytest.raises(WindowsPathError, match=None) as err:
        to_wsl(bad)
    assert says in str(err.value)


@given(drives, st.lists(names, max_size=6))
def test_any_drive_path_lands_under_mnt_and_round_trips(drive: str, parts: list[str]):
    windows = f"{drive}:\\" + "\\".join(parts)
    wsl = to_wsl(windows)
    assert wsl == "/mnt/" + drive.lower() + "".join("/" + p for p in parts)
    assert "\\" not in wsl
    assert to_windows(wsl) == ntpath.normpath(f"{drive.upper()}:\\" + "\\".join(parts))
    assert to_wsl(to_windows(wsl)) == wsl


@given(drives, st.lists(st.one_of(names, st.sampled_from([".", "..", ""])), max_size=8),
       st.sampled_from(["\\", "/"]))
def test_dots_and_separators_never_escape_the_drive(drive: str, parts: list[str], sep: str):
    wsl = to_wsl(f"{drive}:{sep}" + sep.join(parts))
    assert wsl == f"/mnt/{drive.lower()}" or wsl.startswith(f"/mnt/{drive.lower()}/")
    assert "/../" not in wsl + "/" and "/./" not in wsl + "/" and "//" not in wsl


@given(st.text(max_size=40))
def test_any_text_gives_a_path_or_a_sentence(text: str):
    try:
        out = to_wsl(text)
    except WindowsPathError as e:
        assert str(e).endswith(".") and len(str(e)) > 20
    else:
        assert out.startswith("/") and "\\" not in out and "\x00" not in out


def test_mount_lines_keep_target_and_mode():
    assert split_mount(r"C:\work\site:/site:ro") == (r"C:\work\site", ":/site:ro")
    assert split_mount(r'"C:\my work":/w') == (r'"C:\my work"', ":/w")
    assert mount_line_to_wsl(r"C:\work\site:/site:ro") == "/mnt/c/work/site:/site:ro"
    assert mount_line_to_wsl(r'"C:\my work\site":/site') == "/mnt/c/my work/site:/site"
    assert mount_line_to_wsl("data:/var/lib/data") == "data:/var/lib/data"  # a volume: unchanged
    assert mount_line_to_wsl("/srv/x:/x") == "/srv/x:/x"
    spec = parse_mount(mount_line_to_wsl(r"C:\work\site:/site:ro"))
    assert (spec.source, spec.target, spec.read_only, spec.is_bind) == ("/mnt/c/work/site", "/site", True, True)
    with pytest.raises(WindowsPathError, match="network share"):
        mount_line_to_wsl(r"\\nas\share:/data")


def test_looks_windows():
    assert looks_windows(r"C:\x") and looks_windows(r"\\server\s") and looks_windows('"D:/x"')
    assert not looks_windows("/home/me") and not looks_windows("volume-name")


def test_run_form_translates_windows_sources_only_for_pilothouses_engine_on_windows():
    from desktop.engine.run_request import FormErrors, parse_run_form
    from desktop.engine.wsl_paths import wsl_mount_line

    assert wsl_mount_line("pilothouse", "linux") is None
    assert wsl_mount_line("desktop-linux", "win32") is None  # Docker Desktop takes C:\ paths itself
    rewrite = wsl_mount_line("pilothouse", "win32")
    values = {"image": "busybox", "mounts": "C:\\work\\site:/site:ro\ndata:/data"}
    req = parse_run_form(values, rewrite)
    assert [m.bind_string() for m in req.mounts] == ["/mnt/c/work/site:/site:ro", "data:/data:rw"]
    with pytest.raises(FormErrors) as err:
        parse_run_form({"image": "busybox", "mounts": "\\\\nas\\share:/data"}, rewrite)
    assert "Mount line 1" in err.value.errors["mounts"] and "network share" in err.value.errors["mounts"]
