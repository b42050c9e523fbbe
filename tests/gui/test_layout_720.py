"""Issue 18 item 3: every workspace works at 1280x720: no clipped text, no sideways scrolling, the window fits.

Checked at the offscreen default font and at 11 pt (a desktop's usual size, where the user saw "adding"
for "Padding" and "Global average pooli…"), on every tab page of each workspace.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QTabWidget

from cnnstudio.gui.layout_check import layout_problems
from cnnstudio.gui.workspaces import available_workspaces

SIZE = (1280, 720)
#: every discovered workspace (a new one is checked without editing this file)
WORKSPACES = [w.name for w in available_workspaces()]


@pytest.fixture(params=[None, 11.0], ids=["default-font", "11pt"])
def small_window(request, qtbot, qapp):
    """The main window at 1280x720 (with the given application font), device probing off."""
    import pyqtgraph as pg

    from cnnstudio.gui.main_window import MainWindow

    original = QApplication.font()
    if request.param:
        font = QApplication.font()
        font.setPointSizeF(request.param)
        QApplication.setFont(font)
    pg.setConfigOptions(imageAxisOrder="row-major")
    window = MainWindow(probe_device=False)
    qtbot.addWidget(window)
    window.resize(*SIZE)
    window.show()
    yield window
    window.ctx.document.mark_clean()
    window.close()
    QApplication.setFont(original)


def fake_run(n: int, acc: float) -> SimpleNamespace:
    """What the run history and the curve overlays read of a run (a ``RunInfo``)."""
    epochs = list(range(1, 16))
    rows = [{"epoch": e, "val_loss": 1.0 / e, "val_accuracy": acc * e / 15} for e in epochs]
    return SimpleNamespace(
        name=f"lenet5-20261202-13{n:02d}30", path=f"/tmp/runs/lenet5-20261202-13{n:02d}30", status="early_stopped",
        epochs_done=15, training={"epochs": 15}, final=rows[-1], summary={"training_seconds": 123.456},
        resumable=False, history=rows, spec={}, series=lambda key, rows=rows: ([r["epoch"] for r in rows],
                                                                            [r[key] for r in rows]),
    )


def fill_train(ws) -> None:
    """A trained look: a 10-class matrix with 3-digit counts on the diagonal, three runs, two overlaid."""
    matrix = np.full((10, 10), 2, np.int64)
    np.fill_diagonal(matrix, 359)
    ws.confusion.set_matrix(matrix, [str(i) for i in range(10)])
    ws.history.set_runs([fake_run(1, 0.9721), fake_run(2, 0.9805), fake_run(3, 0.9533)])
    ws.history.set_checked(0, True)
    ws.history.set_checked(1, True)


def problems_on_every_page(qtbot, window, ws) -> list[str]:
    found: dict[str, str] = {}
    for problem in layout_problems(ws):
        found.setdefault(problem, "first page")
    for tabs in ws.findChildren(QTabWidget):
        for index in range(tabs.count()):
            tabs.setCurrentIndex(index)
            qtbot.wait(10)
            for problem in layout_problems(ws):
                found.setdefault(problem, tabs.tabText(index))
    return [f"{page}: {problem}" for problem, page in found.items()]


@pytest.mark.parametrize("name", WORKSPACES)
def test_a_workspace_at_1280x720_clips_no_text_and_scrolls_not_sideways(small_window, qtbot, name):
    window = small_window
    ws = window.show_workspace(name)
    qtbot.waitUntil(ws.smoke_ready, timeout=60000)
    if name == "train":
        fill_train(ws)
    qtbot.wait(20)
    assert (window.width(), window.height()) == SIZE, "the workspace does not fit the window at 1280x720"
    problems = problems_on_every_page(qtbot, window, ws)
    assert not problems, "\n".join(problems)
    if name == "train":
        for plot in (ws.curves.loss_plot, ws.curves.acc_plot):  # the compare legend stays inside its plot
            legend = plot.getPlotItem().legend
            view = plot.getPlotItem().vb.sceneBoundingRect()
            assert view.contains(legend.sceneBoundingRect()), plot.getPlotItem().titleLabel.text
        assert ws.history.item(0, 3).text() == "0.972"  # numbers for people


def test_the_checker_finds_a_clipped_label_and_sideways_scrolling(qtbot):
    """The check itself can fail: a cut label and a too-wide scroll area are reported."""
    from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

    root = QWidget()
    qtbot.addWidget(root)
    layout = QVBoxLayout(root)
    label = QLabel("Global average pooling")
    label.setFixedWidth(40)
    scroll = QScrollArea()
    inner = QWidget()
    inner.setMinimumWidth(900)
    scroll.setWidget(inner)
    scroll.setFixedWidth(200)
    layout.addWidget(label)
    layout.addWidget(scroll)
    root.show()
    qtbot.wait(10)
    problems = layout_problems(root)
    assert any("Global average pooling" in p for p in problems)
    assert any("scrolls sideways" in p for p in problems)
