"""CrashWatch decisions and activity wording, from engine event shapes."""

from desktop.engine.records import EngineEvent
from desktop.state.activity import describe
from desktop.state.history.live_events import LiveEvents
from desktop.state.crash_watch import EXITED, OOM, UNHEALTHY, CrashWatch


def ev(action, cid="c1", **attrs):
    return EngineEvent("container", action, cid, {"name": "web", **attrs}, 1_700_000_000_000_000_000)


def test_non_zero_exit_oom_and_unhealthy_alert_but_clean_exit_does_not():
    now = [0.0]
    w = CrashWatch(clock=lambda: now[0])
    got = []
    w.alerts.connect(got.append)
    w.on_event(ev("die", exitCode="0"))
    assert got == []
    w.on_event(ev("die", exitCode="3"))
    w.on_event(ev("oom", "c2"))
    w.on_event(ev("die", "c2", exitCode="137"))
    w.on_event(ev("health_status: unhealthy", "c3"))
    w.on_event(ev("health_status: healthy", "c3"))
    assert [(a.container_id, a.kind, a.exit_code) for a in got] == [("c1", EXITED, 3), ("c2", OOM, 137),
                                                                      ("c3", UNHEALTHY, None)]
    assert got[0].time == 1_700_000_000.0 and got[0].name == "web"


def test_expected_exits_are_quiet_until_the_window_passes_or_the_container_starts_again():
    now = [0.0]
    w = CrashWatch(clock=lambda: now[0])
    got = []
    w.alerts.connect(got.append)
    w.expect_exit("c1")
    w.on_event(ev("start"))  # the start before the user's stop, delivered late: still expected
    w.on_event(ev("die", exitCode="137"))
    assert got == []
    w.on_event(ev("start"))  # a restart: the next crash is the container's own
    w.on_event(ev("die", exitCode="1"))
    assert len(got) == 1
    w.expect_exit("c1")
    now[0] = 1000.0
    w.on_event(ev("die", exitCode="1"))
    assert len(got) == 2
    w.enabled = False
    w.on_event(ev("die", exitCode="1"))
    assert len(got) == 2


def test_activity_log_words_and_bound():
    assert describe(ev("die", exitCode="2")) == ("web", "exited with code 2")
    assert describe(ev("kill", signal="9")) == ("web", "killed with signal 9")
    assert describe(EngineEvent("image", "pull", "busybox:latest", {"name": "busybox"})) == ("busybox", "pulled")
    log = LiveEvents(max_entries=10)  # the Activity timeline's events of this session
    for i in range(25):
        log.on_event(ev("start", f"c{i}"))
    assert len(log) <= 10 and log.entries[-1].actor == "c24" and log.seq == 25
    assert [e.actor for e in log.since(23)] == ["c23", "c24"]  # numbered from 1


def test_alerts_and_activity_entries_carry_their_engine_and_name_it_with_several_engines():
    w = CrashWatch()
    got = []
    w.alerts.connect(got.append)
    log = LiveEvents()
    b = EngineEvent("container", "die", "cb", {"name": "web", "exitCode": "3"}, 0, engine_id="second")
    w.on_event(b)
    log.on_event(b)
    assert got[-1].engine == "second" and got[-1].title == "web exited with code 3"  # one engine: as before
    assert log.entries[-1].engine == "second"
    w.name_engines = True
    w.on_event(b)
    assert got[-1].title == "web (second) exited with code 3" and "engine second" in got[-1].message
    w.on_event(EngineEvent("container", "health_status: unhealthy", "cb", {"name": "web"}, 0, engine_id="second"))
    assert got[-1].title == "web (second) is unhealthy"
