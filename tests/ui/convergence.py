"""What the Containers page shows against what the engine says, for the model-based tests.

The expected side is computed here from the engine's raw list, independently of
desktop/presentation.py, so a bug shared by the app's presentation and its store cannot hide.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from desktop.ui.containers.container_model import ContainerRole, KindRole
from tests.ui.tree_rows import container_indexes

COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
_EXITED = re.compile(r"^Exited \((-?\d+)\)")

# How long the page may take to agree with the engine after a change the engine has made.
# Changes reach the rows in milliseconds; the bound is generous for a loaded 2-core CI box,
# and a divergence that lasts "for good" fails it all the same.
CONVERGE_S = float(os.environ.get("PILOTHOUSE_CONVERGE_BOUND", "5"))


def expected_row(raw: dict) -> tuple[str, str, str | None]:
    """(name shown, state shown, project) for one raw `containers/json` entry."""
    labels = raw.get("Labels") or {}
    project = labels.get(COMPOSE_PROJECT) or None
    name = (raw.get("Names") or ["/" + raw["Id"][:12]])[0].lstrip("/")
    if project and labels.get(COMPOSE_SERVICE):  # a replica, under its service's row
        number = labels.get("com.docker.compose.container-number")
        name = labels[COMPOSE_SERVICE] + (f" #{number}" if number and number.isdigit() else "")
    state = raw.get("State", "")
    if state == "exited":
        m = _EXITED.match(raw.get("Status", ""))
        shown = f"Exited ({m.group(1)})" if m else "Exited"
    else:
        shown = (state or "unknown").capitalize()
    return name, shown, project


def engine_rows(api, label: str) -> dict[str, tuple]:
    """The engine's own list of the containers carrying `label` (key=value), as rows would show them."""
    return {r["Id"]: expected_row(r) for r in api.containers(all=True, filters={"label": label})}


def shown_rows(page, label: str) -> dict[str, tuple]:
    """What the Containers page's rows (filtered and sorted by its model) show for containers with `label`."""
    key, _, value = label.partition("=")
    table = page.model  # what the view shows
    out: dict[str, tuple] = {}

    def visit(idx, project):
        c = idx.data(ContainerRole)
        if c is None or c.labels.get(key) != value:
            return
        state = table.index(idx.row(), 3, idx.parent()).data()
        out[c.id] = (idx.data(), state, project)

    for idx, project in container_indexes(table):
        visit(idx, project)
    return out


def diff(engine: dict, shown: dict) -> str:
    lines = []
    for cid in sorted(set(engine) | set(shown)):
        e, s = engine.get(cid), shown.get(cid)
        if e != s:
            lines.append(f"  {cid[:12]}: engine={e} rows={s}")
    return "\n".join(lines)


def machine_settings(examples: int, steps: int):
    # A real engine is slow and stateful: no shrinking (each replay costs seconds) and a fixed
    # sequence in `make test`; bench/converge.py asks for a longer, random run.
    from hypothesis import HealthCheck, Phase, settings

    return settings(max_examples=examples, stateful_step_count=steps, deadline=None, database=None,
                    derandomize=os.environ.get("PILOTHOUSE_CONVERGE_RANDOM") != "1",
                    phases=(Phase.explicit, Phase.generate),
                    suppress_health_check=list(HealthCheck), print_blob=False)


class Driver:
    """Runs blocking engine calls (as the CLI would) in a thread while Qt (and the app) keeps
    running, and waits for the page to agree with the engine."""

    def __init__(self, qtbot, host: str | None = None) -> None:
        self.qtbot = qtbot
        self.pool = ThreadPoolExecutor(2, thread_name_prefix="cli")
        self.latencies: list[float] = []  # change made → rows agree, seconds
        self.journal: list[tuple[float, str, str]] = []  # (time, action, id): for failure reports
        self._closed = threading.Event()
        if host:
            threading.Thread(target=self._record, args=(host,), daemon=True, name="cv-events").start()

    def _record(self, host: str) -> None:
        """The engine's own events, as a raw subscriber sees them (reconnecting after restarts)."""
        import docker

        while not self._closed.is_set():
            try:
                api = docker.APIClient(base_url=host, version="auto", timeout=None)
                for ev in api.events(decode=True):
                    if self._closed.is_set():
                        return
                    actor = ev.get("Actor") or {}
                    self.journal.append((time.monotonic(), f"{ev.get('Type')}:{ev.get('Action')}",
                                         actor.get("ID", "")))
            except Exception:  # noqa: BLE001 - the engine went away: follow it when it is back
                self._closed.wait(0.2)

    def events_of(self, ids) -> str:
        ids = set(ids)
        t0 = self.journal[0][0] if self.journal else 0.0
        return "\n".join(f"    {t - t0:9.3f} {a} {i[:12]}" for t, a, i in self.journal[-400:]
                         if i in ids or any(i.startswith(x) for x in ids) or a.startswith("engine"))

    def call(self, fn, *args, within: float = 90.0, **kwargs):
        fut: Future = self.pool.submit(fn, *args, **kwargs)
        self.qtbot.waitUntil(fut.done, timeout=int(within * 1000))
        return fut.result()

    def converge(self, engine_view, shown_view, what: str, bound: float = CONVERGE_S) -> None:
        """Wait until `shown_view()` equals `engine_view()` (both re-read every poll)."""
        last: list = [None, None]
        t0 = time.monotonic()

        def agree() -> bool:
            last[0] = engine_view()
            last[1] = shown_view()
            return last[0] == last[1]

        try:
            self.qtbot.waitUntil(agree, timeout=int(bound * 1000))
        except Exception:  # noqa: BLE001 - pytest-qt's TimeoutError: say what differs
            eng, rows = last[0] or {}, last[1] or {}
            bad = [cid for cid in set(eng) | set(rows) if eng.get(cid) != rows.get(cid)]
            raise AssertionError(f"after {what}, the page still disagrees with the engine after {bound:.1f} s:\n"
                                 f"{diff(eng, rows)}\n  their events:\n{self.events_of(bad)}") from None
        self.latencies.append(time.monotonic() - t0)

    def close(self) -> None:
        self._closed.set()
        self.pool.shutdown(wait=True)


def report(name: str, steps: int, latencies: list[float]) -> None:
    """For bench/converge.py: append this run's figures to the file it names."""
    path = os.environ.get("PILOTHOUSE_CONVERGE_REPORT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"machine": name, "steps": steps, "latencies": latencies}) + "\n")


class FirstAnswer:
    """A raw `/_ping` loop in a thread (the baseline): when did the engine first answer?"""

    def __init__(self, socket_path: str, interval: float = 0.005) -> None:
        from desktop.engine.reconnect import ping_unix

        self.at: float | None = None
        self._stop = threading.Event()

        def loop() -> None:
            while not self._stop.is_set() and self.at is None:
                if ping_unix(socket_path, timeout=5.0):
                    self.at = time.monotonic()
                    return
                self._stop.wait(interval)

        self._thread = threading.Thread(target=loop, daemon=True, name="raw-ping")
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)


def model_counts(page) -> tuple[int, int]:
    """(containers, running) as the Containers page's rows show them (every row, unfiltered)."""
    model = page.model
    total = running = 0

    def visit(idx) -> None:
        nonlocal total, running
        if idx.data(KindRole) == "container":
            total += 1
            running += model.index(idx.row(), 3, idx.parent()).data() == "Running"

    for idx, _project in container_indexes(model):
        visit(idx)
    return total, running


_COUNT = re.compile(r"^(\d+) containers, (\d+) running")


class HonestyWatch:
    """Samples the window every few ms: the count under the table must match its rows, and the
    lost-engine banner must be up whenever the rows are not the engine's current list."""

    def __init__(self, ph, interval_ms: int = 5) -> None:
        from PySide6.QtCore import QTimer

        from desktop.state.connection import CONNECTED

        self.problems: list[str] = []
        self.samples = 0
        page, banner, status = ph.containers.page, ph.window.banner, ph.primary.status

        def tick() -> None:
            self.samples += 1
            m = _COUNT.match(page.count_label.text())
            shown = (int(m.group(1)), int(m.group(2))) if m else None
            rows = model_counts(page)
            if shown != rows:
                self.problems.append(f"count says {page.count_label.text()!r}, rows show {rows}")
            current = status.current.state == CONNECTED and status.current.loaded
            if not current and status.current.state != "connecting" and not banner.isVisible():
                self.problems.append(f"engine {status.current.state} (loaded={status.current.loaded}) "
                                     "but no banner over the rows")
            if not current and rows[0] and "last known" not in page.count_label.text() \
                    and status.current.state != CONNECTED:
                self.problems.append(f"engine away but the count does not say so: {page.count_label.text()!r}")

        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(tick)
        self._timer.start()

    def close(self) -> list[str]:
        self._timer.stop()
        return self.problems
