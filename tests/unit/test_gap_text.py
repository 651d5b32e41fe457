"""How the Activity page words a time Pilothouse was not watching."""

from __future__ import annotations

from desktop.state.history.timeline_rows import Gap
from desktop.ui.history.timeline_model import gap_text

S = 10**9


def test_a_gap_is_said_in_seconds_minutes_or_hours():
    said = {secs: gap_text(Gap("local", 0, secs * S)).split(" (")[0] for secs in (3, 59, 60, 90, 7199, 7200, 9000)}
    assert said == {3: "Not watching for 3 s", 59: "Not watching for 59 s", 60: "Not watching for 1 min",
                    90: "Not watching for 2 min", 7199: "Not watching for 120 min", 7200: "Not watching for 2.0 h",
                    9000: "Not watching for 2.5 h"}
    assert gap_text(Gap("local", 0, 5 * S, filled=4)).endswith("4 events read back from the engine's buffer")
