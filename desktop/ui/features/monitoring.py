"""Monitoring: live stats (table columns, Stats tabs, dashboard), the footer, crash notifications
and the Activity timeline (with the history, when one is kept), for every engine."""

from __future__ import annotations

from desktop.metrics.engine_overview import EngineOverview, EngineOverviews
from desktop.metrics.host import HostMonitor
from desktop.metrics.stats_hub import StatsHub, StatsHubs
from desktop.state.crash_watch import CrashWatch
from desktop.state.history.crash_reports import CrashReporter
from desktop.state.engines import MergedEvents
from desktop.state.history.time_cursor import TimeCursor
from desktop.ui.async_tasks import TaskSet
from desktop.ui.features.wing import Shared
from desktop.ui.history.timeline_page import TimelinePage
from desktop.ui.monitoring.container_stats_columns import VisibleStatsFeeder
from desktop.ui.monitoring.container_stats_view import ContainerStatsView
from desktop.ui.monitoring.dashboard_page import DashboardPage
from desktop.ui.monitoring.engine_footer import EngineFooter
from desktop.ui.monitoring.tray_notifier import TrayNotifier

WANTED_EXITS = ("stop", "kill", "restart", "delete")  # exits the user asked for are not crashes
COMPOSE_EXITS = ("up", "down", "restart")  # down and restart stop containers; an up may recreate them


class MonitoringWing:
    """One StatsHub per engine (the others' made when first looked at): the table's CPU/Memory
    columns, the Stats tabs and the dashboard share it, so a container has one stream."""

    def __init__(self, shared: Shared, containers_page, history_store=None) -> None:
        self.shared = shared
        primary, engines = shared.primary, shared.engines
        self.tasks = TaskSet()
        self.stats_hub = StatsHub(primary.client, primary.containers)
        self.stats_hubs = StatsHubs(engines, shared.containers.owner, primary.key, self.stats_hub)
        self.stats_columns = VisibleStatsFeeder(containers_page.view, containers_page.model, self.stats_hubs)
        self.host_monitor = HostMonitor()
        self.overview = EngineOverview(primary.client, self.stats_hub, primary.sync.events)
        primary.sync.add_resync_hook(self.overview.on_resync)
        self.overviews = EngineOverviews(engines, primary.key, self.overview, hubs=self.stats_hubs)
        self.dashboard_page = DashboardPage(self.overview, self.host_monitor, primary.status)
        shared.window.add_page("dashboard", "Dashboard", "dashboard", self.dashboard_page)
        self.engine_footer = EngineFooter(primary.status, self.host_monitor, self.overview)
        shared.window.statusBar().addPermanentWidget(self.engine_footer)

        self.crash_watch = CrashWatch(oom_check=self._oom_killed)
        # Crash reports take their evidence at the exit, before the watch's verdict: it sees events first.
        self.crash_reports = CrashReporter(self.crash_watch, self._client_of_engine, store=history_store,
                                           containers=shared.containers)
        self.all_events = MergedEvents(engines)  # every engine's events, tagged
        self.all_events.connect(self.crash_reports.on_event)
        self.all_events.connect(self.crash_watch.on_event)
        self.notifier = TrayNotifier(self.crash_reports)  # one notification per crash report
        # The moment the timeline, the stats graphs and the logs show together.
        self.time_cursor = TimeCursor()
        self.activity_page = TimelinePage(self.all_events, history_store, self.notifier, self.time_cursor,
                                          engines.client_for_key)
        shared.window.add_page("activity", "Activity", "activity", self.activity_page)
        self.notifier.set_enabled(shared.settings.current.notifications)
        shared.settings.changed.connect(self._on_settings_changed)
        self._selected: str | None = None
        # Other features' recorded stats for the Stats tab: callables (container) -> a view or None.
        self.stats_history_views: list = []
        if primary.status.is_connected:  # made after the first resync: count now
            self.tasks.spawn(self.overview.on_resync())

    async def _oom_killed(self, cid: str, engine_id: str) -> bool:
        # Ask the engine that sent the exit (events carry their session's key as engine tag).
        engines = self.shared.engines
        session = engines.by_engine_id(engine_id) or engines.get(self.shared.containers.owner(cid) or "")
        client = session.client if session is not None else self.shared.primary.client
        return (await client.inspect_container(cid)).oom_killed

    def _client_of_engine(self, engine_id: str):
        session = self.shared.engines.by_engine_id(engine_id)
        return session.client if session is not None else None

    def _on_settings_changed(self, settings, names) -> None:
        if "notifications" in names:
            self.notifier.set_enabled(settings.notifications)

    # -- what other features announce ------------------------------------------------------------
    def expect_exits(self, action: str, containers) -> None:
        """A container action the user asked for (table, tray): its exits are not crashes
        (container ids are unique across engines, so one watch serves every engine's rows)."""
        if action in WANTED_EXITS:
            for c in containers:
                self.crash_watch.expect_exit(c.id)

    def expect_exit(self, action: str, c) -> None:
        self.expect_exits(action, [c])

    def expect_compose_exits(self, project, verb: str) -> None:
        if verb in COMPOSE_EXITS:
            for c in project.containers:
                self.crash_watch.expect_exit(c.id)

    def note_engine(self, status, note: str) -> None:
        """Another feature's word on an engine's state (the VM: "sleeping"), shown in the footer."""
        self.engine_footer.set_note(status, note)

    def add_stats_tab(self, page, c) -> None:
        """A Stats tab on a container's page, streamed from the container's own engine (with the
        recorded ranges beside the live one when a history is kept)."""
        live = ContainerStatsView(self.stats_hubs.hub_for(c.id), c.id)
        history = next((v for v in (make(c) for make in self.stats_history_views) if v is not None), None)
        if history is None:
            page.add_tab("Stats", live)
            return
        from desktop.ui.history.stats_tab import StatsWithHistory

        page.add_tab("Stats", StatsWithHistory(live, history))

    # -- the wing protocol ---------------------------------------------------------------------------
    def show_engine(self, key: str | None) -> None:
        """The dashboard and footer show the selected engine; with all engines shown, the primary
        (the caption says so). Activity shows the selected engine's events, or all."""
        self._selected = key
        engines = self.shared.engines
        session = (engines.get(key) if key else None) or engines.primary or self.shared.primary
        several = self.shared.several
        caption = ""
        if several:
            caption = f"Engine {session.key}" + ("" if key else
                                                 " (the primary engine: choose another in the engine switcher)")
        overview = self.overviews.get(session.key) or self.overview
        self.dashboard_page.set_source(overview, session.status, caption)
        self.engine_footer.set_source(session.status, overview, session.key if several else "",
                                      lambda: [(s.key, s.status.current.state) for s in engines.sessions])
        self.activity_page.set_multi_engine(several, [s.key for s in engines.sessions])
        self.activity_page.set_engine(key if key and engines.get(key) else None)
        self.crash_watch.name_engines = several

    def set_engine_count(self, n: int) -> None:
        self.show_engine(self._selected)

    async def aclose(self) -> None:
        await self.tasks.cancel_all()
        await self.crash_reports.aclose()
        self.overviews.close()  # other engines' dashboards
        self.notifier.close()
        self.all_events.close()
        await self.activity_page.aclose()
        self.stats_columns.close()
        self.stats_hubs.close()  # other engines' hubs
        self.overview.close()
        self.stats_hub.close()
        await self.host_monitor.aclose()
