"""The drawing pad: strokes drawn with the mouse, undo, clear and colours; in Inspect and Live the
prediction follows the drawing through the models' own preprocessing."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt


def draw_stroke(qtbot, canvas, points) -> None:
    """Press at the first point, move through the others, release at the last (canvas fractions 0..1)."""
    side = min(canvas.width(), canvas.height())
    x0, y0 = (canvas.width() - side) // 2, (canvas.height() - side) // 2
    pos = [QPoint(int(x0 + fx * side), int(y0 + fy * side)) for fx, fy in points]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=pos[0])
    for p in pos[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=pos[-1])


ONE = [(0.5, 0.15 + 0.07 * i) for i in range(11)]  # a vertical bar: a "1"


def test_pad_draws_undoes_clears_and_switches_colours(qtbot):
    from cnnstudio.gui.widgets.drawing_pad import BLACK_ON_WHITE, WHITE_ON_BLACK, DrawingPad

    pad = DrawingPad(throttle_ms=10)
    qtbot.addWidget(pad)
    pad.resize(320, 360)
    pad.show()
    qtbot.waitExposed(pad)
    assert pad.is_empty() and pad.image().min() == 255 and pad.image().shape == (280, 280)  # pen on paper
    pad.set_polarity(WHITE_ON_BLACK)
    assert pad.image().max() == 0
    with qtbot.waitSignal(pad.changed, timeout=2000):
        draw_stroke(qtbot, pad.canvas, ONE)
    img = pad.image()
    assert img[140, 140] == 255 and img[140, 40] == 0  # ink on the bar, paper beside it
    thin = (img > 127).sum()
    pad.brush_spin.setValue(40)
    draw_stroke(qtbot, pad.canvas, [(0.2, 0.5), (0.8, 0.5)])
    assert len(pad.canvas.strokes) == 2 and (pad.image() > 127).sum() > thin
    pad.undo_button.click()
    assert len(pad.canvas.strokes) == 1 and (pad.image() > 127).sum() == thin
    pad.set_polarity(BLACK_ON_WHITE)
    img = pad.image()
    assert img[140, 140] == 0 and img[140, 40] == 255
    pad.clear_button.click()
    assert pad.is_empty() and pad.image().min() == 255


def test_inspect_predicts_the_drawing_while_drawing(qtbot, make_workspace):
    ws = make_workspace("inspect", size=(1280, 720))
    ws.activated()
    qtbot.waitUntil(ws.smoke_ready, timeout=60000)
    ws.tabs.setCurrentWidget(ws.draw)
    before = ws.top_bars.items()
    draw_stroke(qtbot, ws.draw.pad.canvas, ONE)
    qtbot.waitUntil(lambda: ws.draw.updates > 0 and bool(ws.draw.bars.items()), timeout=5000)
    from cnnstudio.gui.workspaces.inspect.draw_tab import DRAWING_TITLE

    session = ws.session
    assert session.input.title == DRAWING_TITLE and session.input.sample is None
    # the same preprocessing path as any image: InspectModel.prepare_image -> ml.preprocess.to_model_input
    from cnnstudio.ml.preprocess import to_model_input

    x = to_model_input(ws.draw.pad.image(), session.model.meta)
    np.testing.assert_allclose(session.input.tensor, x)
    expected = session.model.analyse(x).top(session.model.meta, 5)
    assert [n for n, _p in ws.draw.bars.items()] == [n for _i, n, _p in expected]
    assert ws.top_bars.items() != before and ws.top_bars.items()[0][0] == expected[0][1]
    assert ws.draw.seen.image() is not None
    assert expected[0][1] == "1"  # a vertical bar is a one


def test_live_runs_the_model_on_the_drawing(qtbot, make_workspace):
    ws = make_workspace("live", size=(1280, 720))
    ws.activated()
    qtbot.waitUntil(lambda: ws.model_state == "ready", timeout=30000)
    ws.draw_mode.button.click()
    assert ws.draw_mode.active() and ws.draw_mode.pad.isVisible()
    draw_stroke(qtbot, ws.draw_mode.pad.canvas, ONE)
    assert ws.draw_mode.source.updates >= 1

    def shows_the_drawing():
        result = ws.last_result
        return result is not None and result.image.shape[:2] == (280, 280) and result.image[150, 140].max() < 60 \
            and bool(result.top)

    qtbot.waitUntil(shows_the_drawing, timeout=20000)
    assert ws.last_result.top[0][1] == "1"
    assert ws.panel.prediction_label.text().startswith("1")
    ws.draw_mode.button.click()  # back to the previous source
    assert not ws.draw_mode.active() and not ws.draw_mode.pad.isVisible()
