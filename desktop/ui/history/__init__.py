"""Widgets of the history wing: the timeline, crash reports, why a container is unhealthy."""
