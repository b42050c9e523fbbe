"""The ONNX graph view: File → Open of an .onnx shows its graph in Inspect; click a node for its details;
zoom, pan and fit; the Graph tab follows the model Inspect has open."""

from __future__ import annotations

import shutil

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QFileDialog


def _wheel(view, steps: int) -> None:
    pos = QPointF(view.viewport().rect().center())
    event = QWheelEvent(pos, view.viewport().mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)


def test_file_open_onnx_shows_its_graph_and_node_details(qtbot, main_window, tmp_path, monkeypatch):
    from cnnstudio.ml.inspect.models import bundled_model_path

    path = tmp_path / "lenet.onnx"
    shutil.copy(bundled_model_path(), path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))
    main_window.resize(1280, 720)
    main_window.action_open.trigger()
    ws = main_window.current_workspace()
    assert main_window.current_workspace_name() == "inspect"
    qtbot.waitUntil(ws.smoke_ready, timeout=60000)
    tab = ws.graph
    assert ws.tabs.currentWidget() is tab and tab.path() == path
    assert main_window.ctx.document.path is None  # the project was not replaced
    graph = tab.graph
    assert len(tab.view.items_by_index) == len(graph.nodes) == 14  # input, 12 ops, output
    assert "61,706 parameters" in tab.summary.text()
    # top to bottom in topological order
    ys = [tab.view.items_by_index[n.index].pos().y() for n in graph.nodes]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)

    tab.view.fit()
    c3 = graph.node("/c3/Conv")
    tab.view.centerOn(tab.view.items_by_index[c3.index])
    qtbot.mouseClick(tab.view.viewport(), Qt.MouseButton.LeftButton, pos=tab.view.node_position(c3.index))
    assert tab.view.selected_index() == c3.index
    details = tab.details.toPlainText()
    for text in ("Conv", "/c3/Conv", "layers.c3.weight", "16×6×5×5", "2,400", "kernel_shape", "[5, 5]", "batch×16×10×10"):
        assert text in details, text

    # wheel zooms, dragging pans, fit shows the whole graph
    before = tab.view.zoom()
    _wheel(tab.view, 2)
    assert tab.view.zoom() > before * 1.3
    bar = tab.view.verticalScrollBar()
    start = bar.value()
    edge = QPoint(8, tab.view.viewport().rect().center().y())  # empty canvas beside the nodes
    qtbot.mousePress(tab.view.viewport(), Qt.MouseButton.LeftButton, pos=edge)
    qtbot.mouseMove(tab.view.viewport(), edge - QPoint(0, 80))
    qtbot.mouseMove(tab.view.viewport(), edge - QPoint(0, 160))
    qtbot.mouseRelease(tab.view.viewport(), Qt.MouseButton.LeftButton, pos=edge - QPoint(0, 160))
    assert bar.value() > start  # dragged up: the view moved down the graph
    tab.view.fit()
    visible = tab.view.mapToScene(tab.view.viewport().rect()).boundingRect()
    assert visible.contains(tab.view.scene().itemsBoundingRect())


def test_graph_tab_follows_the_open_model(qtbot, make_workspace, write_plain_onnx, tmp_path):
    ws = make_workspace("inspect", size=(1280, 720))
    ws.activated()
    qtbot.waitUntil(ws.smoke_ready, timeout=60000)
    ws.tabs.setCurrentWidget(ws.graph)
    assert ws.graph.graph is not None and ws.graph.path().name == "lenet5-digits.onnx"

    ws.sources.model_chosen.emit("network", "")  # the project's network: PyTorch, no ONNX file
    qtbot.waitUntil(ws.smoke_ready, timeout=60000)
    assert ws.graph.graph is None and "no graph" in ws.graph.message_text()

    other = tmp_path / "handmade.onnx"
    write_plain_onnx(other, [1, 1, 8, 8])
    ws.open_file(other)
    qtbot.waitUntil(ws.smoke_ready, timeout=60000)
    assert ws.graph.path() == other
    assert [n.op_type for n in ws.graph.graph.operators] == ["Conv", "Relu", "GlobalAveragePool", "Flatten", "Gemm"]

    # the drawing follows the theme (View → Theme changes the palette)
    from PySide6.QtGui import QPalette

    from cnnstudio.gui.main_window import dark_palette

    ws.graph.view.setPalette(dark_palette())
    window = dark_palette().color(QPalette.ColorRole.Window)
    assert ws.graph.view.scene().backgroundBrush().color() == window


def test_a_model_inspect_cannot_run_still_shows_its_graph(qtbot, main_window, tmp_path, monkeypatch):
    import onnx
    from onnx import TensorProto, helper

    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 3]) for n in ("a", "b")]
    graph = helper.make_graph([helper.make_node("Add", ["a", "b"], ["sum"], name="add")], "two-inputs", inputs,
                              [helper.make_tensor_value_info("sum", TensorProto.FLOAT, [1, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "two.onnx"
    onnx.save(model, str(path))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))
    main_window.action_open.trigger()
    ws = main_window.current_workspace()
    qtbot.waitUntil(ws.smoke_ready, timeout=60000)
    assert "2 inputs" in ws.sources.status.text()  # why Inspect cannot run it
    assert ws.tabs.currentWidget() is ws.graph and ws.graph.path() == path  # the failed load kept the graph
    assert [n.kind for n in ws.graph.graph.nodes] == ["input", "input", "op", "output"]
    ws.sources.model_chosen.emit("bundled", "")  # the next model that opens replaces it
    qtbot.waitUntil(lambda: ws.graph.path() is not None and ws.graph.path().name == "lenet5-digits.onnx", timeout=60000)
