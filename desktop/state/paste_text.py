"""What a paste sends to a terminal.

With bracketed paste on, the shell treats everything between ESC[200~ and ESC[201~ as text,
never as commands. Pasted text that itself holds ESC[201~ would end that early, and what
follows would run as typed, so ESC (and the one-byte CSI, U+009B) never pass through here:
no escape sequence can be formed, even by pieces that join up once another is taken out.
"""

from __future__ import annotations

START, END = "\x1b[200~", "\x1b[201~"


def paste_bytes(text: str, bracketed: bool) -> bytes:
    """The bytes to send for pasted `text`; newlines become carriage returns, as typed Enter."""
    text = text.replace("\r\n", "\r").replace("\n", "\r")
    if bracketed:
        text = START + text.replace("\x1b", "").replace("\x9b", "") + END
    return text.encode("utf-8", "replace")
