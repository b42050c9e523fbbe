"""Issue 18 item 6: colour bars and values on Kernels, a labelled Grad-CAM map, a class legend on the PCA map,
axis titles on the confusion matrix, readable distances, numbers formatted for people."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def inspect_ws(qapp):
    """The Inspect workspace on the bundled LeNet-5 and the first validation digit (built once: it loads torch)."""
    from pytestqt.qtbot import QtBot

    from cnnstudio.gui.context import AppContext
    from cnnstudio.gui.workspaces.inspect import Workspace

    ctx = AppContext()
    ws = Workspace(ctx)
    ws.resize(1280, 720)
    ws.show()
    ws.activated()
    QtBot(None).waitUntil(ws.smoke_ready, timeout=60000)
    yield ws
    ws.shutdown()
    ws.deleteLater()


def test_kernels_have_a_colour_bar_and_their_values_on_hover(inspect_ws, qtbot):
    ws = inspect_ws
    ws.tabs.setCurrentWidget(ws.kernels)
    qtbot.waitUntil(lambda: ws.kernels._shown is not None, timeout=20000)
    view = ws.kernels
    assert view.colour_bar.isVisible() and view.colour_bar.labels()[2] == "weight"
    assert "Weights of this layer" in view.value_label.text()
    weights, layout, scale = view._shown
    x, y, _w, _h = layout.rects[1]
    view.grid.hovered.emit(x + scale * 2 + 1, y + scale * 3 + 1)  # filter 2, row 4, column 3
    expected = float(weights[1, 0, 3, 2])
    text = view.value_label.text()
    assert text.startswith("Filter 2, row 4, column 3: weight ")
    assert abs(float(text.split("weight ")[1].split(" ")[0]) - expected) < 1e-3 + abs(expected) * 0.01
    top, bottom, _title = view.colour_bar.labels()
    assert float(top) == pytest.approx(float(weights[1, 0].max()), rel=0.01)
    assert float(bottom) == pytest.approx(float(weights[1, 0].min()), rel=0.01)


def test_the_grad_cam_map_is_labelled(inspect_ws, qtbot):
    ws = inspect_ws
    ws.tabs.setCurrentWidget(ws.saliency)
    view = ws.saliency
    qtbot.waitUntil(lambda: view.heat.image() is not None or "PyTorch" in view.caption.text(), timeout=30000)
    if view.heat.image() is None:
        pytest.skip("this model has no PyTorch twin to differentiate")
    assert view.heat_title.text().startswith("Grad-CAM map")
    assert "class" in view.heat_title.text()
    assert view.heat_bar.isVisible() and view.heat_bar.labels()[:2] == ("most", "none")


def test_the_pca_map_has_a_class_legend_and_readable_distances(inspect_ws, qtbot):
    ws = inspect_ws
    ws.tabs.setCurrentWidget(ws.similar)
    view = ws.similar
    qtbot.waitUntil(lambda: bool(view.legend_names()), timeout=30000)
    assert view.legend_names() == [str(c) for c in ws.session.dataset.classes]
    assert view.legend.isVisible() and "●" in view.legend.text()
    tile = view.grid.image()
    assert tile is not None and tile.shape[0] >= 2 * 112  # 112-pixel tiles: captions of about 11 px
    for line in view.grid.toolTip().splitlines():
        distance = line.rsplit("distance ", 1)[1]
        assert len(distance.split(".")[-1]) <= 3 or "e" in distance, line  # 12.3, not 12.34567


def test_the_confusion_matrix_names_its_axes(make_workspace):
    ws = make_workspace("train", size=(1280, 720))
    from cnnstudio.gui.workspaces.train.confusion import ConfusionPanel

    panel = ws.findChild(ConfusionPanel)
    assert panel.predicted_title.text() == "predicted class" and panel.true_title.text() == "true class"
    ws.confusion.set_matrix(np.array([[3, 1], [0, 4]]), ["cat", "dog"])
    assert ws.confusion.horizontalHeaderItem(0).text() == "cat"
    assert ws.confusion.item(0, 1).toolTip() == "true cat, predicted dog: 1 (25% of cat)"


def test_settings_and_properties_show_numbers_for_people(make_workspace, ctx):
    ws = make_workspace("train", size=(1280, 720))
    assert ws.form.lr.text() == "0.002" and ws.form.weight_decay.text() == "0"
    training = ctx.document.get("training")
    training["lr"] = 0.000125
    ctx.document.set("training", training)
    assert ws.form.lr.text() == "0.000125" and ws.form.lr.value() == pytest.approx(0.000125)
    designer = make_workspace("designer", size=(1280, 720))
    designer.insert_type("dropout", 1)  # selects the new layer; its p is a float
    spin = designer.properties.editors()["p"].spin
    assert spin.text() == "0.5", spin.text()  # not 0.500000
