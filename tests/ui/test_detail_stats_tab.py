"""The container page has a Stats tab fed by the engine's stats stream, only while it is shown."""

from desktop.ui.monitoring.container_stats_view import ContainerStatsView


def test_stats_tab_streams_only_while_shown(make_container, docker_api, ph, qtbot):
    cid = make_container(start=True, command=("sh", "-c", "while :; do :; done"))
    page = ph.containers.page
    qtbot.waitUntil(lambda: page.proxy_index_of(cid).isValid(), timeout=10000)
    detail = ph.details.open_container(ph.all_containers.get(cid))
    stats = detail.tab("Stats")
    assert isinstance(stats, ContainerStatsView)
    detail.tabs.setCurrentWidget(stats)
    qtbot.waitUntil(lambda: ph.monitoring.stats_hub.streaming(cid), timeout=15000)
    qtbot.waitUntil(lambda: ph.monitoring.stats_hub.latest(cid) is not None, timeout=15000)
    # Another tab in front (the container list hidden too): nobody looks, the stream stops.
    detail.tabs.setCurrentIndex(0)
    qtbot.waitUntil(lambda: not ph.monitoring.stats_hub.streaming(cid), timeout=15000)
    ph.details.close()


def test_notifications_follow_the_setting(ph):
    ph.settings.update(notifications=False)
    assert not ph.monitoring.notifier.enabled
    ph.settings.update(notifications=True)
    assert ph.monitoring.notifier.enabled
