"""A zoomable, pannable drawing of an ONNX graph (:class:`cnnstudio.ml.onnx_graph.OnnxGraph`), as Netron shows it.

Nodes are boxes (op type, name, weight tensors, output shape) in rows from top to bottom; edges are curves
labelled with the tensor's shape. Wheel zooms about the cursor, dragging pans, a click selects a node
(``node_selected(index)``), :meth:`fit` shows the whole graph.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QWidget,
)

NODE_WIDTH = 210
ROW_GAP = 46
COLUMN_GAP = 40
MIN_ZOOM, MAX_ZOOM = 0.05, 8.0

# op families and their header colours (Netron-like: layers blue, activations red, pooling green, ...)
_FAMILIES = (
    ({"Conv", "ConvTranspose", "Gemm", "MatMul", "QLinearConv", "ConvInteger"}, "#3b6fb6"),
    ({"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Elu", "Selu", "Gelu", "HardSigmoid",
      "HardSwish", "PRelu", "Clip", "Mish", "Softplus"}, "#b5473a"),
    ({"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool"}, "#3d8b4f"),
    ({"BatchNormalization", "LayerNormalization", "InstanceNormalization", "Dropout", "LRN"}, "#6b5aa6"),
    ({"Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Concat", "Split", "Gather", "Slice", "Shape",
      "Pad", "Resize"}, "#7a6a45"),
)
_IO_COLOUR = "#555a63"
_OTHER_COLOUR = "#4c6b78"


def op_colour(op_type: str, kind: str = "op") -> QColor:
    if kind != "op":
        return QColor(_IO_COLOUR)
    for ops, colour in _FAMILIES:
        if op_type in ops:
            return QColor(colour)
    return QColor(_OTHER_COLOUR)


def _elide(text: str, metrics: QFontMetrics, width: int) -> str:
    return metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, width)


def _arrow_head(path: QPainterPath, tip: QPointF, length: float = 7.0, half_width: float = 4.0) -> QPainterPath:
    """A small triangle at ``tip`` pointing along the end of ``path``."""
    before = path.pointAtPercent(0.97)
    dx, dy = tip.x() - before.x(), tip.y() - before.y()
    norm = (dx * dx + dy * dy) ** 0.5 or 1.0
    dx, dy = dx / norm, dy / norm
    base = QPointF(tip.x() - dx * length, tip.y() - dy * length)
    head = QPainterPath(tip)
    head.lineTo(base + QPointF(-dy * half_width, dx * half_width))
    head.lineTo(base + QPointF(dy * half_width, -dx * half_width))
    head.closeSubpath()
    return head


class NodeItem(QGraphicsItem):
    """One node: a coloured header with the op type, then its name, weights and output shape."""

    HEADER = 22
    LINE = 16

    def __init__(self, node, palette: QPalette):
        super().__init__()
        self.node = node
        self._palette = palette
        self._title_font = QFont()
        self._title_font.setBold(True)
        self._font = QFont()
        self._font.setPointSizeF(max(7.0, self._font.pointSizeF() - 1))
        metrics = QFontMetrics(self._font)
        width = NODE_WIDTH - 12
        lines: list[str] = []
        if node.kind == "op":
            lines.append(_elide(node.name, metrics, width))
            for w in node.weights[:4]:
                count = f" {w.size:,}" if w.size is not None else ""
                lines.append(_elide(f"{w.name} ⟨{w.shape_text}⟩{count}", metrics, width))
            if len(node.weights) > 4:
                lines.append(f"+{len(node.weights) - 4} more weights")
        tensors = node.outputs if node.kind != "output" else node.inputs
        if tensors:
            lines.append(_elide("→ " + ", ".join(t.shape_text for t in tensors), metrics, width))
        self.lines = lines
        self._height = self.HEADER + self.LINE * len(lines) + 6
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(self._tooltip())
        self.setAcceptHoverEvents(True)

    def _tooltip(self) -> str:
        n = self.node
        parts = [f"{n.op_type}: {n.name}" if n.kind == "op" else f"{n.kind.capitalize()} {n.name}"]
        parts += [f"in  {t.name}: {t.shape_text}" for t in n.inputs]
        parts += [f"weight {w.name}: {w.shape_text} ({w.size:,} values)" for w in n.weights if w.size is not None]
        parts += [f"out {t.name}: {t.shape_text}" for t in n.outputs]
        return "\n".join(parts)

    def height(self) -> float:
        return self._height

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return QRectF(-2, -2, NODE_WIDTH + 4, self._height + 4)

    def paint(self, painter: QPainter, _option, widget=None) -> None:
        palette = widget.palette() if widget is not None else self._palette  # the theme as it is now
        rect = QRectF(0, 0, NODE_WIDTH, self._height)
        colour = op_colour(self.node.op_type, self.node.kind)
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        selected = self.isSelected()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight) if selected else colour.darker(130),
                            3 if selected else 1))
        painter.setBrush(QBrush(base))
        painter.drawRoundedRect(rect, 5, 5)
        header = QPainterPath()
        header.addRoundedRect(QRectF(0, 0, NODE_WIDTH, self.HEADER), 5, 5)
        painter.fillPath(header, colour)
        painter.setPen(QColor("white"))
        painter.setFont(self._title_font)
        painter.drawText(QRectF(6, 0, NODE_WIDTH - 12, self.HEADER), Qt.AlignmentFlag.AlignVCenter, self.node.title)
        painter.setFont(self._font)
        painter.setPen(text)
        for i, line in enumerate(self.lines):
            painter.drawText(QRectF(6, self.HEADER + 2 + i * self.LINE, NODE_WIDTH - 12, self.LINE),
                             Qt.AlignmentFlag.AlignVCenter, line)


class GraphView(QGraphicsView):
    """The graph on a scene; ``node_selected(index)`` when a node is clicked (-1 when none)."""

    node_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setToolTip("Wheel: zoom; drag: pan; click a node for its attributes and tensors")
        self.items_by_index: dict[int, NodeItem] = {}
        self._edge_items: list = []  # curves, arrow heads and shape labels: recoloured with the theme
        self.graph = None
        self.scene().selectionChanged.connect(self._on_selection)

    # --- content ---------------------------------------------------------------------------------
    def set_graph(self, graph, rows: dict[int, tuple[int, int]]) -> None:
        """Draw ``graph`` with nodes at ``rows`` ((row, column), from :func:`layout_rows`)."""
        scene = self.scene()
        scene.blockSignals(True)
        scene.clear()
        scene.blockSignals(False)
        self.items_by_index = {}
        self._edge_items = []
        self.graph = graph
        palette = self.palette()
        scene.setBackgroundBrush(palette.color(QPalette.ColorRole.Window))
        per_row: dict[int, list[int]] = {}
        for index, (r, _c) in sorted(rows.items(), key=lambda kv: kv[1]):
            per_row.setdefault(r, []).append(index)
        items = {n.index: NodeItem(n, palette) for n in graph.nodes}
        y = 0.0
        for r in sorted(per_row):
            members = per_row[r]
            total = len(members) * NODE_WIDTH + (len(members) - 1) * COLUMN_GAP
            tallest = max(items[i].height() for i in members)
            for k, index in enumerate(members):
                item = items[index]
                item.setPos(-total / 2 + k * (NODE_WIDTH + COLUMN_GAP), y)
                scene.addItem(item)
            y += tallest + ROW_GAP
        self.items_by_index = items
        edge_pen = QPen(palette.color(QPalette.ColorRole.PlaceholderText), 1.4)
        label_brush = QBrush(palette.color(QPalette.ColorRole.PlaceholderText))
        small = QFont()
        small.setPointSizeF(max(6.5, small.pointSizeF() - 2))
        detours = 0
        for edge in graph.edges:
            a, b = items.get(edge.source), items.get(edge.target)
            if a is None or b is None:
                continue
            skips = rows.get(edge.target, (0, 0))[0] - rows.get(edge.source, (0, 0))[0] > 1
            if skips:  # past the rows between: around their right side, not through their boxes
                start = a.pos() + QPointF(NODE_WIDTH, a.height() / 2)
                end = b.pos() + QPointF(NODE_WIDTH, b.height() / 2)
                detour = max(start.x(), end.x()) + 28 + 12 * (detours % 3)
                detours += 1
                path = QPainterPath(start)
                path.cubicTo(QPointF(detour, start.y()), QPointF(detour, end.y()), end)
            else:
                start = a.pos() + QPointF(NODE_WIDTH / 2, a.height())
                end = b.pos() + QPointF(NODE_WIDTH / 2, 0)
                path = QPainterPath(start)
                bend = max(20.0, (end.y() - start.y()) / 2)
                path.cubicTo(start + QPointF(0, bend), end - QPointF(0, bend), end)
            arrow = _arrow_head(path, end)
            curve = QGraphicsPathItem(path)
            curve.setPen(edge_pen)
            curve.setZValue(-1)
            scene.addItem(curve)
            self._edge_items.append(curve)
            head = QGraphicsPathItem(arrow)
            head.setPen(edge_pen)
            head.setBrush(edge_pen.color())
            head.setZValue(-1)
            scene.addItem(head)
            self._edge_items.append(head)
            if edge.tensor.shape is not None:
                label = QGraphicsSimpleTextItem(edge.tensor.shape_text)
                label.setFont(small)
                label.setBrush(label_brush)
                mid = path.pointAtPercent(0.5)
                label.setPos(mid + QPointF(5, -label.boundingRect().height() / 2))
                label.setToolTip(edge.tensor.name)
                scene.addItem(label)
                self._edge_items.append(label)
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-40, -40, 40, 40))
        self.fit()
        if self.zoom() < 0.6:  # a long chain fitted whole is unreadable: start at a readable size from the top
            self.resetTransform()
            self.scale(0.8, 0.8)
            rect = scene.itemsBoundingRect()
            self.centerOn(QPointF(rect.center().x(), rect.top() + self.viewport().height() / 1.6))

    def clear_graph(self) -> None:
        self.scene().clear()
        self.items_by_index = {}
        self._edge_items = []
        self.graph = None

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt API
        from PySide6.QtCore import QEvent

        if event.type() == QEvent.Type.PaletteChange:  # View → Theme: background and edges follow
            self._apply_palette()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        palette = self.palette()
        self.scene().setBackgroundBrush(palette.color(QPalette.ColorRole.Window))
        colour = palette.color(QPalette.ColorRole.PlaceholderText)
        for item in self._edge_items:
            if isinstance(item, QGraphicsSimpleTextItem):
                item.setBrush(QBrush(colour))
            else:
                pen = item.pen()
                pen.setColor(colour)
                item.setPen(pen)
                if item.brush().style() != Qt.BrushStyle.NoBrush:
                    item.setBrush(colour)
        self.scene().update()

    # --- selection -------------------------------------------------------------------------------
    def select(self, index: int) -> None:
        item = self.items_by_index.get(index)
        self.scene().clearSelection()
        if item is not None:
            item.setSelected(True)
            self.ensureVisible(item)

    def selected_index(self) -> int:
        chosen = [i for i in self.scene().selectedItems() if isinstance(i, NodeItem)]
        return chosen[0].node.index if chosen else -1

    def _on_selection(self) -> None:
        self.node_selected.emit(self.selected_index())

    def node_position(self, index: int):
        """The centre of node ``index`` in viewport coordinates (for tests and keyboard users)."""
        item = self.items_by_index[index]
        return self.mapFromScene(item.sceneBoundingRect().center())

    # --- zoom and pan ----------------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        target = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom() * factor))
        factor = target / self.zoom() if self.zoom() else 1.0
        self.scale(factor, factor)

    def fit(self) -> None:
        """Show the whole graph; a tall chain is shown at a readable size from its top instead."""
        rect = self.scene().itemsBoundingRect()
        if rect.isEmpty():
            return
        self.resetTransform()
        self.fitInView(rect.adjusted(-20, -20, 20, 20), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.5:
            self.resetTransform()
            self.scale(1.5, 1.5)
            self.centerOn(rect.center())

    def fit_width(self) -> None:
        """Zoom so the widest row fills the view, then go to the top (long chains stay readable)."""
        rect = self.scene().itemsBoundingRect()
        if rect.isEmpty():
            return
        self.resetTransform()
        scale = min(1.5, max(MIN_ZOOM, (self.viewport().width() - 40) / max(1.0, rect.width())))
        self.scale(scale, scale)
        self.centerOn(QPointF(rect.center().x(), rect.top() + self.viewport().height() / (2 * scale)))

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.2 ** steps)
            event.accept()
        else:
            super().wheelEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt API
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(1.25)
        elif key == Qt.Key.Key_Minus:
            self.zoom_by(0.8)
        elif key == Qt.Key.Key_0:
            self.fit()
        else:
            super().keyPressEvent(event)
