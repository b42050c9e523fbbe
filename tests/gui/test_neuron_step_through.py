"""Clicking a neuron of a feature map in Inspect opens the Playground's step-through of that convolution,
with the model's kernel, the input patch and the bias, showing the feature map's value."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt


def _pixel_pos(view, shape, row, col):
    rect = view.target_rect()
    h, w = shape
    return QPoint(int(rect.x() + (col + 0.5) * rect.width() / w), int(rect.y() + (row + 0.5) * rect.height() / h))


@pytest.mark.parametrize("conv, channel, row, col", [(0, 3, 0, 0), (0, 1, 14, 20), (1, 7, 4, 9)])
def test_clicked_neuron_opens_its_convolution_with_the_same_value(qtbot, main_window, conv, channel, row, col):
    main_window.resize(1280, 720)
    ws = main_window.show_workspace("inspect")
    qtbot.waitUntil(ws.smoke_ready, timeout=60000)
    layer = [t.name for t in ws.session.model.tensors if t.op == "Conv"][conv]
    ws.set_layer(layer)
    ws.set_channel(channel)
    fmap = ws.session.analysis.features[layer][channel]
    expected = float(fmap[row, col])
    assert "Click a pixel to step through its convolution" in ws.channel_caption.text()
    qtbot.mouseClick(ws.channel_view, Qt.MouseButton.LeftButton, pos=_pixel_pos(ws.channel_view, fmap.shape, row, col))

    assert main_window.current_workspace_name() == "playground"
    playground = main_window.current_workspace()
    page = ws.neuron_link.last_page
    assert page is (playground.step_page if conv == 0 else playground.colour_page)
    assert playground.current_page() is page
    trace = page.trace()
    step = trace.step(page.controls.current())
    assert step.total == pytest.approx(expected, abs=1e-4)
    # the model's own kernel for that output channel and its bias
    weights = ws.session.model.conv_kernels()[layer]
    assert page.kernel() == pytest.approx(weights[channel].astype(float), abs=1e-6)
    assert page.input().shape[0] == weights.shape[1]
    assert "From the model" not in page.example_combo.currentText() and f"ch {channel}" in page.example_combo.currentText()
    assert "stride 1" in page.description_label.text()
    from cnnstudio.core.ops import format_number

    assert page.total_label.text().endswith(format_number(step.total))

    # Reset shows the model's grids again after an edit; another example goes back to the lecture's
    page.randomise()
    page.reset_button.click()
    assert page.trace().step(page.controls.current()).total == pytest.approx(expected, abs=1e-4)
    page.example_combo.setCurrentIndex(0)
    assert page.bias_spin.decimals() == 2


def test_a_pixel_of_a_relu_layer_says_why_nothing_opens(qtbot, main_window):
    ws = main_window.show_workspace("inspect")
    qtbot.waitUntil(ws.smoke_ready, timeout=60000)
    relu = next(t.name for t in ws.session.model.tensors if t.op == "Relu")
    ws.set_layer(relu)
    fmap = ws.session.analysis.features[relu][0]
    qtbot.mouseClick(ws.channel_view, Qt.MouseButton.LeftButton, pos=_pixel_pos(ws.channel_view, fmap.shape, 3, 3))
    assert main_window.current_workspace_name() == "inspect"
    assert "only convolution outputs" in ws.channel_caption.text()
