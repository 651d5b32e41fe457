"""EventLedger: a list answer never overwrites what a newer event said, nor a state the engine
has announced but its list does not show yet (for longer than the recheck budget)."""

from desktop.state.event_ledger import APPLY, RECHECK, RECHECK_LATER, SKIP, EventLedger


def test_an_answer_older_than_an_event_is_skipped():
    led = EventLedger()
    mark = led.mark()
    led.note("a", "start")
    assert led.judge("a", "exited", mark) == SKIP
    assert led.judge("a", "running", led.mark()) == APPLY


def test_a_list_lagging_die_is_asked_again_then_believed():
    led = EventLedger()
    led.note("a", "die")
    mark = led.mark()
    verdicts = [led.judge("a", "running", mark) for _ in range(len(RECHECK) + 1)]
    assert verdicts[:-1] == [RECHECK_LATER] * len(RECHECK)
    assert verdicts[-1] == APPLY  # the engine is the truth in the end


def test_pause_then_kill_expects_a_stopped_state():
    led = EventLedger()
    for action in ("pause", "kill", "die"):
        led.note("a", action)
    mark = led.mark()
    assert led.judge("a", "paused", mark) == RECHECK_LATER
    assert led.judge("a", "exited", mark) == APPLY
    assert led.judge("a", "paused", mark) == APPLY  # satisfied once: later answers are plain answers


def test_restarting_counts_as_stopped_and_destroy_as_absent():
    led = EventLedger()
    led.note("a", "die")
    led.note("b", "destroy")
    mark = led.mark()
    assert led.judge("a", "restarting", mark) == APPLY
    assert led.judge("b", "exited", mark) == RECHECK_LATER
    assert led.judge("b", None, mark) == APPLY


def test_events_without_a_state_change_imply_nothing():
    led = EventLedger()
    led.note("a", "kill")
    led.note("a", "rename")
    assert led.judge("a", "running", led.mark()) == APPLY


def test_a_new_event_restarts_the_recheck_budget():
    led = EventLedger()
    led.note("a", "die")
    for _ in range(3):
        led.judge("a", "running", led.mark())
    delay_after_three = led.delay(["a"])
    led.note("a", "die")
    assert led.judge("a", "running", led.mark()) == RECHECK_LATER
    assert led.delay(["a"]) == RECHECK[0] < delay_after_three


def test_forget_and_settled_drop_old_entries():
    led = EventLedger()
    led.note("a", "die")
    led.forget()
    assert led.judge("a", "running", 0) == APPLY
    led.note("b", "rename")
    mark = led.mark()
    led.settled(mark)
    assert led.newer_than(0) == set()
