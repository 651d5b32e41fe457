"""ANSI SGR (colour and style) escapes: parse into styled spans, or strip for search/copy."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

# CSI sequences (SGR and others programs emit into logs) and lone OSC titles.
_CSI_RE = re.compile(r"\x1b\[([0-9;:?]*)([@-~])")
CSI_BYTES_RE = re.compile(rb"\x1b\[[0-9;:?]*[@-~]")
_STRIP_RE = re.compile(r"\x1b\[[0-9;:?]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")

# xterm's default 16 colours
BASIC = [
    (0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16), (36, 114, 200), (188, 63, 188), (17, 168, 205),
    (229, 229, 229), (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67), (59, 142, 234),
    (214, 112, 214), (41, 184, 219), (255, 255, 255),
]


def color256(n: int) -> tuple[int, int, int]:
    """The xterm 256-colour palette entry n as RGB."""
    if n < 16:
        return BASIC[n]
    if n < 232:
        n -= 16
        steps = (0, 95, 135, 175, 215, 255)
        return steps[n // 36], steps[(n // 6) % 6], steps[n % 6]
    v = 8 + (n - 232) * 10
    return v, v, v


@dataclass(frozen=True)
class Style:
    fg: tuple[int, int, int] | None = None
    bg: tuple[int, int, int] | None = None
    bold: bool = False
    dim: bool = False
    italic: bool = False
    underline: bool = False
    inverse: bool = False
    strike: bool = False


PLAIN = Style()


def _extended(params: list[int], i: int) -> tuple[tuple[int, int, int] | None, int]:
    """Parse `38;5;n` / `38;2;r;g;b` starting at params[i] (the 5 or 2); returns (rgb, next index)."""
    if i < len(params) and params[i] == 5 and i + 1 < len(params):
        return color256(params[i + 1] & 255), i + 2
    if i < len(params) and params[i] == 2 and i + 3 < len(params):
        return tuple(max(0, min(255, v)) for v in params[i + 1:i + 4]), i + 4  # type: ignore[return-value]
    return None, len(params)


def apply_sgr(style: Style, codes: str) -> Style:
    """The style after one SGR sequence's parameters (e.g. "1;38;5;208")."""
    params = [int(p) if p.isdigit() else 0 for p in re.split(r"[;:]", codes)] if codes else [0]
    i = 0
    while i < len(params):
        p = params[i]
        i += 1
        if p == 0:
            style = PLAIN
        elif p == 1:
            style = replace(style, bold=True)
        elif p == 2:
            style = replace(style, dim=True)
        elif p == 3:
            style = replace(style, italic=True)
        elif p in (4, 21):
            style = replace(style, underline=True)
        elif p == 7:
            style = replace(style, inverse=True)
        elif p == 9:
            style = replace(style, strike=True)
        elif p == 22:
            style = replace(style, bold=False, dim=False)
        elif p == 23:
            style = replace(style, italic=False)
        elif p == 24:
            style = replace(style, underline=False)
        elif p == 27:
            style = replace(style, inverse=False)
        elif p == 29:
            style = replace(style, strike=False)
        elif 30 <= p <= 37:
            style = replace(style, fg=BASIC[p - 30])
        elif 90 <= p <= 97:
            style = replace(style, fg=BASIC[p - 90 + 8])
        elif 40 <= p <= 47:
            style = replace(style, bg=BASIC[p - 40])
        elif 100 <= p <= 107:
            style = replace(style, bg=BASIC[p - 100 + 8])
        elif p == 39:
            style = replace(style, fg=None)
        elif p == 49:
            style = replace(style, bg=None)
        elif p in (38, 48):
            rgb, i = _extended(params, i)
            if rgb is not None:
                style = replace(style, **{"fg" if p == 38 else "bg": rgb})
    return style


def parse_ansi(text: str) -> tuple[str, list[tuple[int, int, Style]]]:
    """Visible text and its styled spans (start, end, style); non-SGR escapes are dropped."""
    if "\x1b" not in text:
        return text, []
    out: list[str] = []
    spans: list[tuple[int, int, Style]] = []
    style, pos, n = PLAIN, 0, 0
    for m in _STRIP_RE.finditer(text):
        piece = text[pos:m.start()]
        if piece:
            if style != PLAIN:
                spans.append((n, n + len(piece), style))
            out.append(piece)
            n += len(piece)
        seq = m.group(0)
        if seq.endswith("m") and seq.startswith("\x1b["):
            style = apply_sgr(style, seq[2:-1])
        pos = m.end()
    piece = text[pos:]
    if piece:
        if style != PLAIN:
            spans.append((n, n + len(piece), style))
        out.append(piece)
    return "".join(out), spans


def strip_ansi(text: str) -> str:
    return _STRIP_RE.sub("", text) if "\x1b" in text else text


def show_raw(text: str) -> str:
    """Raw mode: escapes made visible instead of interpreted."""
    return text.replace("\x1b", "␛")
