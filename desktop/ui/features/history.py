"""The history wing: the history behind the Activity timeline (recorder, the stats history
sampler), crash reports opened from notifications, the Health tab of containers with a health
check, the recorded ranges of a container's Stats tab and the Dashboard's history card (both on
the shared time cursor), a container's Logs tab on that cursor, and the disk-cap setting.

Everything it records goes through the HistoryStore's writer thread; everything it shows is read
on the store's reader thread. Without a store (tests that keep no history) it still adds the
Health tab and opens reports from memory.
"""

from __future__ import annotations

import asyncio

from desktop.state.history.causes import format_bytes
from desktop.state.history.crash_reports import CrashReport, get_report
from desktop.ui.async_tasks import TaskSet


class HistoryWing:
    """`show_engine(key|None)`, `set_engine_count(n)`, `aclose()`, as every wing. It reads the
    monitoring wing's events, crash reports, notifier, stats hubs and pages, adds tabs to the
    container details, and a row to the Settings page of the desk wing; `store` is None to keep no
    history."""

    def __init__(self, shared, monitoring, details, desk, store) -> None:
        window, engines, settings = shared.window, shared.engines, shared.settings
        events, crash_reports, notifier = monitoring.all_events, monitoring.crash_reports, monitoring.notifier
        stats_hubs, activity, dashboard = monitoring.stats_hubs, monitoring.activity_page, monitoring.dashboard_page
        stats_views, settings_page, client_for = monitoring.stats_history_views, desk.settings_page, engines.client_for
        self.window = window
        self.engines = engines
        self.events = events
        self.store = store
        self.crash_reports = crash_reports
        self.settings = settings
        self.settings_page = settings_page
        self.tasks = TaskSet()
        self.open_reports: list = []  # report windows on screen
        self._recent: dict[int, CrashReport] = {}  # reports made this session (no store needed)
        self.recorder = self.sampler = self.engine_history = None
        self.page = activity  # the Activity timeline (the monitoring wing's page), read from the history
        self.cursor = activity.cursor
        self.size_shown: int | None = None  # the size the Settings row last showed (tests)
        crash_reports.reported.connect(self._on_reported)
        notifier.report_requested.connect(self._on_notifier_report_requested)
        self._notifier = notifier

        def health_tab(page, c) -> None:
            if c.health is not None:  # "(healthy)", "(unhealthy)", "(health: starting)" in its status
                from desktop.ui.history.health_panel import HealthPanel

                page.add_tab("Health", HealthPanel(client_for(c), c.id, events))

        details.tab_providers.append(health_tab)

        def logs_at_moment(page, c) -> None:
            from desktop.ui.history.logs_moment import LogsAtMoment

            link = LogsAtMoment(page.logs, self.cursor, c.engine_id, c.id, c.name)
            page.destroyed.connect(lambda *_a, link=link: link.close())

        details.tab_providers.append(logs_at_moment)
        self._details = details
        activity.logs_requested.connect(self._on_activity_logs_requested)
        if store is None:
            return

        def stats_history_view(c):
            from desktop.ui.history.stats_history_view import StatsHistoryView

            view = StatsHistoryView(store, c.engine_id, c.id, self.cursor, c.name)
            view.moment_opened.connect(self._on_moment_opened)
            return view

        stats_views.append(stats_history_view)  # the Stats tab's recorded ranges
        from desktop.metrics.stats_history import StatsHistorySampler
        from desktop.state.history.recorder import EventRecorder

        self.recorder = EventRecorder(store, engines)
        self.recorder.backfilled.connect(self._on_recorder_backfilled)
        self.sampler = StatsHistorySampler(store, engines, stats_hubs)
        self.sampler.start()
        self.page.report_opened.connect(self.open_report)
        store.notices.connect(self.page.show_notice)
        store.updated.connect(self.page.on_history_updated)
        if store.notice:
            self.page.show_notice(store.notice)
        if dashboard is not None and engines.sessions:
            from desktop.ui.history.engine_history_view import EngineHistoryView

            self.engine_history = EngineHistoryView(store, engines.sessions[0].key, self.cursor)
            self.engine_history.moment_opened.connect(self._on_moment_opened)
            dashboard.add_card(self.engine_history)
        store.cap_bytes = settings.current.history_cap_mb * 1_000_000
        settings.changed.connect(self._on_settings_changed)
        self.show_size()

    # -- the app's walk over wings ------------------------------------------------------------------
    def show_engine(self, key: str | None) -> None:
        if self.engine_history is not None and self.engines.sessions:
            # the Dashboard shows the selected engine, the primary under "All engines"
            self.engine_history.set_engine(key if key and self.engines.get(key) else self.engines.primary.key)

    def set_engine_count(self, n: int) -> None:
        pass  # the Activity page follows the engine count with its own wing

    # -- reports --------------------------------------------------------------------------------------
    def _on_reported(self, report: CrashReport) -> None:
        if report.id is not None:
            self._recent[report.id] = report
        if self.store is not None:
            self.page.note_new_events()

    def _on_notifier_report_requested(self, report_id: int) -> None:
        report = self._recent.get(report_id)
        if report is not None:
            self.open_report(report)
        elif self.store is not None:
            self.tasks.spawn(self._open_stored(report_id))

    async def _open_stored(self, report_id: int) -> None:
        report = await self.store.read(get_report, report_id)
        if report is not None:
            self.open_report(report)

    def open_report(self, report: CrashReport):
        from desktop.ui.history.report_view import CrashReportView

        view = CrashReportView(report, self.window)
        view.moment_requested.connect(self._on_report_moment_requested)
        view.finished.connect(lambda _r, v=view: v in self.open_reports and self.open_reports.remove(v))
        self.open_reports.append(view)
        view.show()
        return view

    # -- timeline and settings ----------------------------------------------------------------------
    def _on_recorder_backfilled(self, _added: int) -> None:
        # At once: on a new history file the page's first read found nothing, and these are the
        # events the engine had (a one-second wait would show an empty timeline first).
        self.page.note_new_events(now=True)

    def caught_up(self, key: str) -> bool:
        """The history holds what the engine `key` buffered (no read-back under way) and the
        timeline has read it (`--screenshot --page activity` waits for this)."""
        if self.recorder is not None and not self.recorder.caught_up(key):
            return False
        return not self.page.busy

    def _on_report_moment_requested(self, report: CrashReport) -> None:
        self.cursor.point(report.last_time, engine=report.engine, container=report.container_id, name=report.name,
                          source=report)
        self.window.show_page("activity")

    def _on_activity_logs_requested(self, m) -> None:
        """The container's page on its Logs tab; its link to the cursor scrolls it to the moment."""
        session = self.engines.get(m.engine) if m.engine else None
        c = session.containers.get(m.container) if session is not None else None
        if c is None:
            self.page.show_notice("That container is gone from its engine: its logs went with it.")
            return
        self.window.show_page("containers")
        self._details.open_container(c).show_tab("Logs")

    def _on_moment_opened(self) -> None:
        """A graph's "Show in Activity": the timeline at the cursor's moment."""
        self.window.show_page("activity")

    def _on_settings_changed(self, settings, names) -> None:
        if "history_cap_mb" in names:
            self.store.cap_bytes = settings.history_cap_mb * 1_000_000
            self.tasks.spawn(self._enforce_then_show())

    async def _enforce_then_show(self) -> None:
        await asyncio.wrap_future(self.store.maintain())
        await self._show_size()

    def show_size(self) -> None:
        """The history's size on disk, beside its cap in Settings."""
        self.tasks.spawn(self._show_size())

    async def _show_size(self) -> None:
        size = await asyncio.get_running_loop().run_in_executor(None, self.store.size_bytes)  # file stats
        label = self.settings_page.helps.get("history_cap_mb")
        if label is not None:
            label.setText(f"Now {format_bytes(size)} on disk, in {self.store.path}. "
                          "The oldest history goes first beyond the cap.")
        self.size_shown = size

    async def aclose(self) -> None:
        self.crash_reports.reported.disconnect(self._on_reported)
        self.page.logs_requested.disconnect(self._on_activity_logs_requested)
        self._notifier.report_requested.disconnect(self._on_notifier_report_requested)
        for view in list(self.open_reports):
            view.close()
        await self.tasks.cancel_all()
        if self.store is None:
            return
        self.recorder.backfilled.disconnect(self._on_recorder_backfilled)
        self.store.notices.disconnect(self.page.show_notice)
        self.store.updated.disconnect(self.page.on_history_updated)
        self.settings.changed.disconnect(self._on_settings_changed)
        await self.sampler.aclose()
        await self.recorder.aclose()
        if self.engine_history is not None:
            await self.engine_history.aclose()
