"""The Graph tab of a Compose project: its services as nodes coloured by state and health, with
their published ports; `depends_on` edges labelled with their conditions; the networks they
share and the volumes they use. Drawn with Qt's graphics view; clicking a service opens its
container; it follows the engine's events (through the container store) while shown.

When the project's Compose files are readable here, the graph is drawn from them as well, so a
project that is not running, or only partly, shows every service it declares (the ones not
created yet with a dashed border)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (QGraphicsEllipseItem, QGraphicsPathItem, QGraphicsRectItem, QGraphicsScene,
                               QGraphicsSimpleTextItem, QGraphicsView, QLabel, QVBoxLayout, QWidget)

from desktop.engine.errors import EngineError
from desktop.state.compose_graph import ProjectGraph, ServiceNode, build_graph
from desktop.state.compose_spec import ComposeSpec, ComposeSpecError, read_compose_spec
from desktop.ui.async_tasks import TaskSet
from desktop.ui.widgets.palette_sheet import set_sheet

NODE_W, NODE_H, COL_GAP, ROW_GAP = 190, 64, 110, 34
FILL = {"running": "#d7f0db", "exited": "#e6e7ea", "created": "#eef0f3", "paused": "#dbe7f7",
        "restarting": "#fdebc8", "dead": "#f7d4d2", "missing": "#ffffff"}
HEALTH = {"healthy": "#2e7d32", "unhealthy": "#b3261e", "starting": "#b26a00"}
CONDITION = {"service_started": "started", "service_healthy": "healthy",
             "service_completed_successfully": "completed"}


class ServiceItem(QGraphicsRectItem):
    def __init__(self, node: ServiceNode, on_click: Callable[[str], None]) -> None:
        super().__init__(0, 0, NODE_W, NODE_H)
        self.node, self.on_click = node, on_click
        self.setBrush(QBrush(QColor(FILL.get(node.state, "#ffffff"))))
        colour = HEALTH.get(node.health or "", "#5f6673")
        pen = QPen(QColor(colour), 3 if node.health else 1.5)
        if node.state == "missing":
            pen.setStyle(Qt.PenStyle.DashLine)
        self.setPen(pen)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        n = len(node.containers)
        shown = "not created" if node.state == "missing" else node.state
        state = shown + (f", {node.health}" if node.health else "") + (f" · {n} containers" if n > 1 else "")
        self.setToolTip(f"{node.name}: {state}" + ("\nClick to open its container." if n else ""))
        title = QGraphicsSimpleTextItem(node.name, self)
        f = QFont()
        f.setBold(True)
        title.setFont(f)
        title.setPos(8, 6)
        sub = QGraphicsSimpleTextItem(state, self)
        sub.setPos(8, 26)
        ports = ", ".join(node.ports)
        if ports:
            p = QGraphicsSimpleTextItem(ports, self)
            p.setBrush(QBrush(QColor("#1a5fb4")))
            p.setPos(8, 44)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.on_click(self.node.name)
        super().mousePressEvent(event)


class ComposeGraphTab(QWidget):
    """Signals: drawn() after each (re)draw; service_clicked(container)."""

    drawn = Signal()
    service_clicked = Signal(object)

    def __init__(self, client_for, store, engine_id: str | None, project: str | None, parent=None,
                 files_for: Callable[[str, str], tuple[str, ...]] = lambda engine_id, project: ()) -> None:
        """`files_for(engine id, project)`: the project's Compose files when they are readable on
        this machine (else empty: the graph is drawn from the containers alone)."""
        super().__init__(parent)
        self.setObjectName("composeGraphTab")
        self.client_for, self.store, self.engine_id, self.project = client_for, store, engine_id, project
        self.files_for = files_for
        self._spec_files: tuple[str, ...] = ()
        self.spec: ComposeSpec | None = None
        self.spec_error = ""
        self.tasks = TaskSet()
        self.networks_of: dict[str, list[str]] = {}  # container id → its networks (inspected once)
        self.graph: ProjectGraph | None = None
        self.items: dict[str, ServiceItem] = {}
        self.active = False
        self.scene = QGraphicsScene(self)
        self.view = QGraphicsView(self.scene)
        self.view.setObjectName("composeGraph")
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.legend = QLabel("Edges: depends on (condition) · dashed: shared network or volume · border: health"
                             " · dashed border: not created")
        set_sheet(self.legend, "color: palette(placeholder-text);")
        self.source = QLabel("")
        self.source.setObjectName("composeGraphSource")
        self.source.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.source)
        lay.addWidget(self.legend)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)  # a burst of events (compose up) redraws once
        self._timer.timeout.connect(lambda: self.tasks.spawn(self.redraw()))
        store.upserted.connect(self._on_store_changed)
        store.removed.connect(self._on_store_changed)

    def members(self) -> list:
        if self.project is None:
            return []
        return [c for c in self.store.all() if c.compose_project == self.project and c.engine_id == self.engine_id]

    def activate(self) -> None:
        self.active = True
        self.tasks.spawn(self.redraw())

    def deactivate(self) -> None:
        """Off screen: store changes no longer redraw it."""
        self.active = False

    def _files(self) -> tuple[str, ...]:
        return tuple(self.files_for(self.engine_id or "", self.project)) if self.project else ()

    def show_project(self, engine_id: str | None, project: str | None) -> None:
        """Draw another project (the Compose page's selection), or the same one whose files became
        known; drawn now when on view."""
        if (engine_id, project) == (self.engine_id, self.project) and self._files() == self._spec_files:
            return
        if (engine_id, project) != (self.engine_id, self.project):
            self.networks_of.clear()
        self.engine_id, self.project = engine_id, project
        if self.active:
            self.tasks.spawn(self.redraw())

    async def _read_spec(self) -> None:
        files = self._spec_files = self._files()
        self.spec, self.spec_error = None, ""
        if not files:
            return
        try:
            self.spec = await asyncio.get_running_loop().run_in_executor(None, read_compose_spec, tuple(files), self.project)
        except ComposeSpecError as err:
            self.spec_error = str(err)

    def _on_store_changed(self, _items) -> None:
        if self.active and not self._timer.isActive():
            self._timer.start()

    async def _inspect_networks(self, members) -> None:
        for c in members:
            if c.id in self.networks_of:
                continue
            try:
                d = await self.client_for(c).inspect_container(c.id)
            except (EngineError, LookupError):
                continue  # removed meanwhile: the next redraw no longer lists it
            self.networks_of[c.id] = sorted(((d.raw.get("NetworkSettings") or {}).get("Networks") or {}))

    async def redraw(self) -> None:
        target = (self.engine_id, self.project)
        members = self.members()
        await self._inspect_networks(members)
        await self._read_spec()
        if target != (self.engine_id, self.project):
            return  # another project was chosen meanwhile: its own redraw follows
        self.graph = build_graph(self.members(), self.networks_of, self.spec)
        if self.spec is not None:
            self.source.setText("Drawn from the Compose file and the engine's containers.")
        elif self.spec_error:
            self.source.setText(f"Drawn from the engine's containers only: {self.spec_error}")
        else:
            self.source.setText("Drawn from the engine's containers (the Compose file is not readable here).")
        self._draw(self.graph)
        self.drawn.emit()

    def _draw(self, g: ProjectGraph) -> None:
        self.scene.clear()
        self.items = {}
        pos: dict[str, QPointF] = {}
        # dependencies on the left, what needs them to the right
        for col, names in enumerate(g.layers()):
            for row, name in enumerate(names):
                item = ServiceItem(g.services[name], self._on_item_clicked)
                p = QPointF(col * (NODE_W + COL_GAP), row * (NODE_H + ROW_GAP))
                item.setPos(p)
                self.scene.addItem(item)
                self.items[name] = item
                pos[name] = p
        for e in g.edges:
            if e.service not in pos or e.depends_on not in pos:
                continue
            a = pos[e.service] + QPointF(0, NODE_H / 2)  # from the waiting service's left side
            b = pos[e.depends_on] + QPointF(NODE_W, NODE_H / 2)
            path = QPainterPath(a)
            mid = (a.x() + b.x()) / 2
            path.cubicTo(QPointF(mid, a.y()), QPointF(mid, b.y()), b)
            edge = QGraphicsPathItem(path)
            edge.setPen(QPen(QColor("#5f6673"), 1.5))
            edge.setToolTip(f"{e.service} depends on {e.depends_on}: waits until it is {CONDITION.get(e.condition, e.condition)}")
            self.scene.addItem(edge)
            head = QGraphicsEllipseItem(QRectF(b.x() - 4, b.y() - 4, 8, 8))
            head.setBrush(QBrush(QColor("#5f6673")))
            self.scene.addItem(head)
            label = QGraphicsSimpleTextItem(CONDITION.get(e.condition, e.condition))
            label.setBrush(QBrush(QColor("#5f6673")))
            label.setPos(mid - 24, (a.y() + b.y()) / 2 - 16)
            self.scene.addItem(label)
        # networks in a row beneath, joined to their services by dashed lines
        bottom = max((p.y() for p in pos.values()), default=0) + NODE_H + 2 * ROW_GAP
        for i, (net, svcs) in enumerate(sorted(g.networks.items())):
            centre = QPointF(i * (NODE_W + 20) + NODE_W / 2, bottom + 18)
            oval = QGraphicsEllipseItem(QRectF(centre.x() - NODE_W / 2 + 10, bottom, NODE_W - 20, 36))
            oval.setBrush(QBrush(QColor("#f3f0fa")))
            oval.setPen(QPen(QColor("#6a4fb3")))
            oval.setToolTip(f"network {net}: {', '.join(svcs)}")
            self.scene.addItem(oval)
            t = QGraphicsSimpleTextItem(net, oval)
            t.setPos(centre.x() - t.boundingRect().width() / 2, bottom + 10)
            for s in svcs:
                if s in pos:
                    top = pos[s] + QPointF(NODE_W / 2, NODE_H)
                    line = self.scene.addLine(top.x(), top.y(), centre.x(), bottom)
                    pen = QPen(QColor("#6a4fb3"), 1)
                    pen.setStyle(Qt.PenStyle.DashLine)
                    line.setPen(pen)
                    line.setZValue(-1)
        # volumes (and bind-mounted host folders) in a row beneath the networks
        vbottom = bottom + (36 + 2 * ROW_GAP if g.networks else 0)
        for i, (vol, svcs) in enumerate(g.volumes.items()):
            x = i * (NODE_W + 20)
            box = QGraphicsRectItem(QRectF(x + 10, vbottom, NODE_W - 20, 30))
            box.setBrush(QBrush(QColor("#fbf3e4")))
            box.setPen(QPen(QColor("#9a6a12")))
            kind = "host folder" if vol in g.bind_mounts else "volume"
            box.setToolTip(f"{kind} {vol}: {', '.join(svcs)}")
            self.scene.addItem(box)
            t = QGraphicsSimpleTextItem(vol if len(vol) <= 24 else "…" + vol[-23:], box)
            t.setPos(x + 16, vbottom + 7)
            for s in svcs:
                if s in pos:
                    top = pos[s] + QPointF(NODE_W / 2 + 12, NODE_H)
                    line = self.scene.addLine(top.x(), top.y(), x + NODE_W / 2, vbottom)
                    pen = QPen(QColor("#9a6a12"), 1)
                    pen.setStyle(Qt.PenStyle.DotLine)
                    line.setPen(pen)
                    line.setZValue(-1)
        if not g.services:
            self.scene.addSimpleText("No containers of this project are left on the engine."
                                     if self.project else "Choose a project.")

    def _on_item_clicked(self, service: str) -> None:
        node = self.graph.services.get(service) if self.graph else None
        if node is not None and node.containers:
            running = [c for c in node.containers if c.state == "running"]
            self.service_clicked.emit((running or node.containers)[0])

    async def aclose(self) -> None:
        self.active = False
        self._timer.stop()
        for signal, slot in ((self.store.upserted, self._on_store_changed), (self.store.removed, self._on_store_changed)):
            try:
                signal.disconnect(slot)
            except ValueError:
                pass
        await self.tasks.cancel_all()
