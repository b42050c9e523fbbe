"""Inspect's Graph tab: the open ONNX model's graph (nodes, shapes, weight tensors) and the clicked node's details."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QTextBrowser, QToolButton, QVBoxLayout, QWidget

from cnnstudio.gui.widgets.graph_view import GraphView


def _fmt_count(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


def node_details_html(node) -> str:
    """The side panel's text for one node: op, name, inputs, weights, outputs and attributes."""
    e = html.escape
    title = f"{e(node.op_type)}" if node.kind == "op" else f"Graph {node.kind}"
    parts = [f"<h3>{title}</h3><p><b>{e(node.name)}</b>" + (f"<br>domain {e(node.domain)}" if node.domain else "") + "</p>"]

    def table(heading: str, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
        if not rows:
            return
        head = "".join(f"<th align='left'>{e(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{e(str(c))}&nbsp;&nbsp;</td>" for c in r) + "</tr>" for r in rows)
        parts.append(f"<h4>{e(heading)}</h4><table cellspacing='0' cellpadding='2'><tr>{head}</tr>{body}</table>")

    table("Inputs", [(t.name, t.shape_text, t.dtype) for t in node.inputs], ("tensor", "shape", "type"))
    table("Weights", [(w.name, w.shape_text, _fmt_count(w.size), w.dtype) for w in node.weights],
          ("tensor", "shape", "values", "type"))
    if node.weights:
        parts.append(f"<p>{node.parameter_count:,} parameters in all.</p>")
    table("Outputs", [(t.name, t.shape_text, t.dtype) for t in node.outputs], ("tensor", "shape", "type"))
    table("Attributes", list(node.attributes), ("name", "value"))
    if node.kind == "op" and not node.attributes:
        parts.append("<p>No attributes.</p>")
    return "".join(parts)


class GraphTab(QWidget):
    """The graph view with zoom buttons on top and the details of the clicked node on the right."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = GraphView()
        self.details = QTextBrowser()
        self.details.setMinimumWidth(220)
        self.details.setToolTip("The clicked node's attributes and tensors")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet("color: palette(placeholder-text);")
        self.message.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        for text, tip, slot in (
            ("Fit", "Show the whole graph (0)", self.view.fit),
            ("Fit width", "Zoom so the graph fills the width, from the top", self.view.fit_width),
            ("+", "Zoom in (+ or the wheel)", lambda: self.view.zoom_by(1.25)),
            ("−", "Zoom out (− or the wheel)", lambda: self.view.zoom_by(0.8)),
        ):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(self.details)
        split.setStretchFactor(0, 1)
        split.setSizes([620, 280])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.message, 1)
        layout.addWidget(split, 1)
        self._split = split
        self.graph = None
        self._path: Path | None = None
        self._pinned_over = None  # the model open when a file was shown by itself (File → Open)
        self.view.node_selected.connect(self._show_node)

    def path(self) -> Path | None:
        return self._path

    def show_file(self, path: str | Path) -> bool:
        """Read and draw the ONNX file ``path`` (again only when it is another file). False on a bad file."""
        from cnnstudio.core.errors import UserError
        from cnnstudio.ml.onnx_graph import layout_rows, read_onnx_graph

        path = Path(path)
        if self._path == path and self.graph is not None:
            return True
        try:
            graph = read_onnx_graph(path)
        except UserError as exc:
            self.show_message(str(exc))
            return False
        self._path = path
        self.graph = graph
        self.message.hide()
        self._split.show()
        self.view.set_graph(graph, layout_rows(graph))
        ops = graph.operators
        shapes = "" if graph.shapes_inferred else " Shape inference failed for this model: some shapes are unknown."
        self.summary.setText(
            f"<b>{html.escape(path.name)}</b>: {len(ops)} nodes, {len(graph.initializers)} weight tensors, "
            f"{graph.parameter_count:,} parameters" + (f", opset {graph.opset}" if graph.opset else "")
            + (f", made by {html.escape(graph.producer)}" if graph.producer else "") + "." + shapes)
        self.summary.setToolTip(str(path))
        first = next((n for n in ops), None)
        if first is not None:
            self.view.select(first.index)
        else:
            self.details.setHtml("<p>Click a node to see its attributes and tensors.</p>")
        return True

    def show_message(self, text: str) -> None:
        self.graph = None
        self._path = None
        self.view.clear_graph()
        self.summary.setText("")
        self.details.clear()
        self._split.hide()
        self.message.setText(text)
        self.message.show()

    def message_text(self) -> str:
        return self.message.text() if self.message.isVisible() or self.graph is None else ""

    def _show_node(self, index: int) -> None:
        if self.graph is None or index < 0:
            self.details.setHtml("<p>Click a node to see its attributes and tensors.</p>")
            return
        self.details.setHtml(node_details_html(self.graph.nodes[index]))

    def pin_file(self, path: str | Path, open_model) -> bool:
        """Show ``path`` while ``open_model`` (the model Inspect had) is still the open one: a file that
        Inspect fails to open keeps its graph on screen; the next model that opens replaces it."""
        shown = self.show_file(path)
        self._pinned_over = open_model if shown else None
        return shown

    def show_model(self, model) -> bool:
        """The graph of an Inspect model: its ONNX file, or a run's exported ``model.onnx``."""
        if self._pinned_over is not None:
            if model is self._pinned_over:
                return self.graph is not None
            self._pinned_over = None
        path = onnx_path_of(model)
        if path is None:
            self.show_message(
                f"{model.title} is a PyTorch model without an ONNX file, so there is no graph to show. "
                "Export the network to ONNX in the Designer (or train it: each run writes model.onnx), "
                "then open the .onnx file here.")
            return False
        return self.show_file(path)


def onnx_path_of(model) -> Path | None:
    """The ONNX file behind an Inspect model, if it has one."""
    if model is None:
        return None
    if model.onnx is not None:
        return Path(model.onnx.path)
    if model.run_dir is not None and (Path(model.run_dir) / "model.onnx").is_file():
        return Path(model.run_dir) / "model.onnx"
    return None
