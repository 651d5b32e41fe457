from desktop.state.terminal_process import TerminalEmulatorProcess
from desktop.state.terminal_screen import TerminalScreen, runs_text


def test_alternate_screen_restores_the_shell_screen():
    t = TerminalScreen(20, 5)
    t.feed(b"$ ls\r\nfile\r\n$ ")
    t.feed(b"\x1b[?1049h\x1b[H\x1b[2Jtop - 10:00")
    assert t.text().split("\n")[0] == "top - 10:00"
    assert "file" not in t.text()
    t.feed(b"\x1b[?1049l")
    assert t.text().split("\n")[:3] == ["$ ls", "file", "$"]
    assert (t.screen.cursor.x, t.screen.cursor.y) == (2, 2)


def test_colours_cursor_and_published_frame():
    t = TerminalScreen(20, 5)
    t.feed(b"\x1b[1;31mred\x1b[0m \x1b[38;5;208mo\x1b[0m")
    frames = []
    t.on_frame = frames.append
    t.flush()
    t._publish(force=True)
    runs = t.frame.rows[0]
    assert runs[0] == (0, "red", "red", "default", True, False, False, False, False)
    assert runs[-1][:3] == (4, "o", "ff8700")
    assert runs_text(runs, 20).rstrip() == "red o"
    assert (t.frame.cursor_x, t.frame.cursor_y) == (5, 0) and frames


def test_scrollback_and_answers_to_queries():
    answers = []
    t = TerminalScreen(10, 3)
    t.set_responder(answers.append)
    for i in range(10):
        t.feed(f"line{i}\r\n".encode())
    assert t.history_size() >= 7
    assert runs_text(t.history_rows(1)[0], 10).startswith("line")
    t.feed(b"\x1b[6n")  # where is the cursor?
    assert answers and answers[-1].startswith("\x1b[")


def test_utf8_split_across_reads():
    t = TerminalScreen(10, 2)
    data = "héllo".encode()
    t.feed(data[:2])
    t.feed(data[2:])
    assert t.text().split("\n")[0] == "héllo"


def test_emulator_process_round_trip():
    answers = []
    t = TerminalEmulatorProcess(20, 4)
    try:
        t.set_responder(answers.append)
        t.feed(b"hello\r\nworld\x1b[6n")
        assert t.text().split("\n")[:2] == ["hello", "world"]
        t.resize(30, 5)
        assert len(t.text().split("\n")) == 5
        import time
        deadline = time.monotonic() + 5
        while (t.frame.columns != 30 or not answers) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert t.frame.columns == 30 and answers[0].startswith("\x1b[")
    finally:
        t.close()
    assert not t._proc.is_alive()
