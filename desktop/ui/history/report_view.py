"""A crash report: the cause in a sentence, the facts, the last log lines, the health log and the
stats of the container's last minutes. It reads only the report (the container may be gone)."""

from __future__ import annotations

import time

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QPlainTextEdit, QTabWidget,
                               QVBoxLayout, QWidget)

from desktop.state.history.causes import format_bytes
from desktop.state.history.crash_reports import CrashReport
from desktop.ui.widgets.plain_text import plain_label
from desktop.ui.widgets.palette_sheet import set_sheet


def stats_summary(report: CrashReport) -> str:
    """Peaks and the last sample of the minutes before the exit, in words."""
    pts = report.stats
    if not pts:
        return "No stats were recorded for its last minutes."
    peak_cpu = max(p["cpu_max"] for p in pts)
    peak_mem = max(p["mem_max"] for p in pts)
    limit = report.memory_limit or max(p["mem_limit"] for p in pts)
    span = (pts[-1]["t"] - pts[0]["t"]) / 60
    mem = format_bytes(peak_mem) + (f" of its {format_bytes(limit)} limit ({peak_mem / limit:.0%})"
                                    if report.memory_limit else "")
    return (f"Over its last {max(span, 0.1):.1f} min ({len(pts)} samples): CPU peaked at {peak_cpu:.1f} %, "
            f"memory at {mem}.")


class CrashReportView(QDialog):
    """`moment_requested(report)`: show the moment of the exit in the Activity timeline."""

    moment_requested = Signal(object)

    def __init__(self, report: CrashReport, parent=None) -> None:
        super().__init__(parent)
        self.report = report
        self.setObjectName("crashReport")
        self.setWindowTitle(f"Crash report: {report.name}")
        self.resize(820, 620)
        cause = plain_label(report.cause)  # it quotes the container's last output
        cause.setObjectName("crashCause")
        cause.setWordWrap(True)
        set_sheet(cause, "font-size: 12pt; font-weight: 600;")

        facts = QWidget()
        form = QFormLayout(facts)
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(report.time))
        rows = [("Container", f"{report.name} ({report.container_id[:12]})"), ("Engine", report.engine),
                ("Image", report.image or "?"), ("Compose project", report.project or "none"), ("Exited at", when),
                ("Exit code", str(report.exit_code)), ("Signal", report.signal or "none"),
                ("Killed for memory (OOM)", "yes" if report.oom_killed else "no"),
                ("Memory limit", format_bytes(report.memory_limit) if report.memory_limit else "none"),
                ("Restart policy", report.restart_policy), ("Restart count", str(report.restart_count)),
                ("Exits in this episode", str(report.exits)),
                ("Removed on exit (--rm)", "yes" if report.auto_removed else "no")]
        self.fact_labels: dict[str, QLabel] = {}
        for k, v in rows:
            lab = plain_label(v)
            lab.setTextInteractionFlags(lab.textInteractionFlags() | lab.textInteractionFlags().TextSelectableByMouse)
            self.fact_labels[k] = lab
            form.addRow(k + ":", lab)
        self.stats_label = plain_label(stats_summary(report))
        self.stats_label.setWordWrap(True)
        form.addRow("Stats:", self.stats_label)

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.logs = QPlainTextEdit("\n".join(report.logs) if report.logs else "(no output)")
        self.logs.setReadOnly(True)
        self.logs.setFont(mono)
        self.logs.setAccessibleName("Last log lines")
        self.health = QPlainTextEdit(_health_text(report.health))
        self.health.setReadOnly(True)
        self.health.setFont(mono)
        self.health.setAccessibleName("Health log")
        exits = QPlainTextEdit("\n".join(f"{time.strftime('%H:%M:%S', time.localtime(t))}  exit code {c}"
                                         for t, c in report.exit_history))
        exits.setReadOnly(True)
        exits.setAccessibleName("Exits")
        self.tabs = QTabWidget()
        self.tabs.addTab(facts, "Facts")
        self.tabs.addTab(self.logs, f"Last {len(report.logs)} log lines")
        self.tabs.addTab(self.health, "Health log")
        self.tabs.addTab(exits, "Exits")
        self.tabs.setCurrentIndex(1 if report.logs else 0)
        # The buttons are made in the order they are laid out (actions left, Close right): Tab
        # follows the order they were made in.
        buttons = QDialogButtonBox()
        buttons.rejected.connect(self.reject)
        self.show_moment = buttons.addButton("Show the exit in Activity", QDialogButtonBox.ButtonRole.ActionRole)
        self.show_moment.setToolTip("The timeline at the exit, with the figures of that moment")
        self.show_moment.clicked.connect(lambda: self.moment_requested.emit(report))
        # The facts are labels (selectable by mouse, not Tab stops each): one button hands the
        # whole report to a keyboard user, and to a bug tracker.
        self.copy_button = buttons.addButton("Copy as text", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setToolTip("The cause, the facts, the stats and the last log lines, as plain text")
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.as_text()))
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        lay = QVBoxLayout(self)
        lay.addWidget(cause)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(buttons)

    def as_text(self) -> str:
        """The report as plain text: cause, facts, stats and the last log lines."""
        r = self.report
        lines = [f"Crash report: {r.name}", r.cause, ""]
        lines += [f"{k}: {lab.text()}" for k, lab in self.fact_labels.items()]
        lines += [f"Stats: {self.stats_label.text()}", "", "Last log lines:", *(r.logs or ["(no output)"])]
        return "\n".join(lines)


def _health_text(h: dict | None) -> str:
    if not h:
        return "The container has no health check."
    lines = [h["verdict"], "", f"Check: {h['command']}",
             f"Every {h['interval']:g} s, timeout {h['timeout']:g} s, {h['retries']} retries, "
             f"start period {h['start_period']:g} s", f"Status {h['status']}, failing streak {h['failing_streak']}", ""]
    for p in h["probes"]:
        when = time.strftime("%H:%M:%S", time.localtime(p["start"])) if p["start"] else "?"
        lines.append(f"{when}  exit {p['exit_code']}  {max(0.0, p['end'] - p['start']):.2f} s  {p['output']}")
    return "\n".join(lines)
