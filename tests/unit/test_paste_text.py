from hypothesis import given
from hypothesis import strategies as st

from desktop.state.paste_text import END, START, paste_bytes


def test_pasted_end_marker_cannot_end_the_paste_early():
    sent = paste_bytes("echo safe\x1b[201~rm -rf ~\n", bracketed=True).decode()
    assert sent.startswith(START) and sent.endswith(END)
    assert sent.count("\x1b") == 2  # only the two markers Pilothouse adds
    assert "rm -rf ~\r" in sent


def test_plain_paste_turns_newlines_into_enter():
    assert paste_bytes("a\r\nb\nc", bracketed=False) == b"a\rb\rc"


@given(st.text(alphabet=st.sampled_from(["\x1b", "[", "2", "0", "1", "~", "a", "\n", "\x9b"]), max_size=40))
def test_no_text_can_form_an_end_marker(text):
    body = paste_bytes(text, bracketed=True).decode()[len(START):-len(END)]
    assert "\x1b" not in body and "\x9b" not in body
