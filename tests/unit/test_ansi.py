from desktop.state.ansi import BASIC, Style, color256, parse_ansi, show_raw, strip_ansi


def test_sgr_16_256_truecolor_and_styles():
    text, spans = parse_ansi("\x1b[1;31mred\x1b[0m \x1b[38;5;208morange\x1b[39m \x1b[3;4;38;2;1;2;3mrgb\x1b[m end")
    assert text == "red orange rgb end"
    assert spans[0] == (0, 3, Style(fg=BASIC[1], bold=True))
    assert spans[1] == (4, 10, Style(fg=color256(208)))
    assert spans[2] == (11, 14, Style(fg=(1, 2, 3), italic=True, underline=True))
    assert len(spans) == 3


def test_bright_background_inverse_and_reset_codes():
    _, spans = parse_ansi("\x1b[94;102;7mX\x1b[27;22mY")
    assert spans[0][2] == Style(fg=BASIC[12], bg=BASIC[10], inverse=True)
    assert spans[1][2] == Style(fg=BASIC[12], bg=BASIC[10])


def test_strip_and_raw():
    assert strip_ansi("\x1b[2K\x1b[32mok\x1b[0m") == "ok"
    assert show_raw("\x1b[1mb") == "␛[1mb"
    assert parse_ansi("plain") == ("plain", [])
    assert color256(232) == (8, 8, 8) and color256(16) == (0, 0, 0)
