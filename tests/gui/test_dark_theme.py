"""Issue 18 item 4: the dark theme reaches plots, image panes and painted widgets; hint text reads (≥ 4.5:1)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from cnnstudio.gui.main_window import apply_theme
from cnnstudio.gui.theme import contrast_ratio
from cnnstudio.gui.workspaces import available_workspaces


@pytest.fixture
def theme(qapp):
    """``theme("dark")`` switches the whole application (its palette events delivered); light again after."""

    def switch(key: str) -> None:
        apply_theme(key)
        QApplication.processEvents()

    yield switch
    switch("light")


def _role(role):
    return QApplication.palette().color(role)


@pytest.mark.parametrize("key", ["light", "dark"])
def test_hint_text_contrast_is_at_least_4_5(theme, key):
    theme(key)
    hint = _role(QPalette.ColorRole.PlaceholderText)
    for background in (QPalette.ColorRole.Window, QPalette.ColorRole.Base):
        assert contrast_ratio(hint, _role(background)) >= 4.5, (key, hint.name(), _role(background).name())
    assert contrast_ratio(_role(QPalette.ColorRole.WindowText), _role(QPalette.ColorRole.Window)) >= 7


def test_contrast_ratio_is_wcag():
    assert contrast_ratio(QColor("black"), QColor("white")) == pytest.approx(21.0)
    assert contrast_ratio(QColor("#777777"), QColor("white")) == pytest.approx(4.48, abs=0.01)


def _plot_colours(plot):
    item = plot.getPlotItem()
    return (plot.backgroundBrush().color().name(), item.getAxis("left").pen().color().name(),
            item.getAxis("bottom").textPen().color().name())


def test_train_plots_follow_the_theme_both_ways(theme, make_workspace):
    ws = make_workspace("train", size=(1280, 720))
    theme("dark")
    dark = ws.curves.loss_plot.palette()
    assert _plot_colours(ws.curves.loss_plot) == (dark.color(QPalette.ColorRole.Base).name(),
                                                  dark.color(QPalette.ColorRole.Text).name(),
                                                  dark.color(QPalette.ColorRole.Text).name())
    assert QColor(_plot_colours(ws.curves.acc_plot)[0]).lightness() < 80
    legend = ws.curves.loss_plot.getPlotItem().legend
    assert all(QColor(label.opts["color"]).lightness() > 150 for _s, label in legend.items)  # light on dark
    theme("light")
    assert QColor(_plot_colours(ws.curves.loss_plot)[0]).lightness() > 200
    assert QColor(_plot_colours(ws.curves.loss_plot)[1]).lightness() < 80


def _ink(widget) -> np.ndarray:
    """The widget's pixels as an (H, W, 3) array."""
    image = widget.grab().toImage().convertToFormat(widget.grab().toImage().Format.Format_RGB888)
    ptr = image.constBits()
    return np.frombuffer(ptr, np.uint8, image.sizeInBytes()).reshape(image.height(), image.bytesPerLine())[
        :, : image.width() * 3].reshape(image.height(), image.width(), 3)


def test_playground_titles_image_panes_and_grids_are_dark_in_the_dark_theme(theme, make_workspace, qtbot):
    ws = make_workspace("playground", size=(1280, 720))
    qtbot.waitUntil(ws.smoke_ready)
    theme("dark")
    qtbot.wait(20)
    titles = [lbl for lbl in ws.findChildren(type(ws.step_page.output_title)) if lbl.text().startswith("Original")]
    assert titles, "the image page has its 'Original' title"
    pixels = _ink(titles[0]).reshape(-1, 3)
    assert pixels.max() > 180 and np.median(pixels) < 80, "light title text on the dark window"
    from cnnstudio.gui.workspaces.playground.image_views import LinkedImageViews

    panes = ws.findChildren(LinkedImageViews)[0]
    assert QColor(panes.original_graphics.backgroundBrush().color()).lightness() < 80
    ws.show_page(ws.step_page)
    qtbot.wait(20)
    grid = ws.step_page.output_grid
    corner = _ink(grid)[grid.height() - 6, grid.width() - 6]  # a blank output cell, not yet computed
    assert corner.max() < 100, corner


def test_confusion_counts_read_on_their_cells_in_both_themes(theme, make_workspace):
    ws = make_workspace("train", size=(1280, 720))
    matrix = np.array([[50, 0, 3], [2, 40, 9], [0, 0, 61]])
    for key in ("light", "dark"):
        theme(key)
        ws.confusion.set_matrix(matrix, ["a", "b", "c"])
        for r in range(3):
            for c in range(3):
                item = ws.confusion.item(r, c)
                assert contrast_ratio(item.foreground().color(), item.background().color()) >= 4.5, (key, r, c)
        zero = ws.confusion.item(0, 1).background().color()
        assert (zero.lightness() < 90) == (key == "dark"), "an empty cell has the table's own colour"


@pytest.mark.parametrize("key", ["light", "dark"])
def test_error_and_success_messages_read_in_both_themes(theme, key, qtbot):
    from PySide6.QtWidgets import QLabel

    from cnnstudio.gui.theme import TONES, set_tone, tone_colour

    label = QLabel("Start is off: the network has a problem.")
    qtbot.addWidget(label)
    set_tone(label, "error")
    theme(key)
    window = _role(QPalette.ColorRole.Window)
    for tone in TONES:
        assert contrast_ratio(tone_colour(tone, QApplication.palette()), window) >= 4.5, (key, tone)
    assert tone_colour("error", QApplication.palette()).name() in label.styleSheet()  # re-coloured on the switch


@pytest.mark.parametrize("name", [w.name for w in available_workspaces()])
def test_every_plot_of_a_workspace_follows_the_theme_both_ways(theme, make_workspace, qtbot, name):
    """Every discovered workspace: each pyqtgraph plot's background, axes and titles take the palette's
    Base and Text colours, in the dark theme and back in the light one."""
    import pyqtgraph as pg

    ws = make_workspace(name, size=(1280, 720))
    ws.activated()  # as the main window does when it shows the workspace
    qtbot.waitUntil(ws.smoke_ready, timeout=60000)
    for key in ("dark", "light"):
        theme(key)
        for plot in ws.findChildren(pg.PlotWidget):
            palette = plot.palette()
            base, text = palette.color(QPalette.ColorRole.Base).name(), palette.color(QPalette.ColorRole.Text).name()
            assert _plot_colours(plot) == (base, text, text), (key, type(plot).__name__)
            assert plot.__dict__.get("_palette_followers"), f"{type(plot).__name__}: theme it with follow_palette"
            item = plot.getPlotItem()
            if item.titleLabel.text:
                assert QColor(item.titleLabel.opts.get("color")).name() == text, (key, item.titleLabel.text)
            for side in ("left", "bottom"):
                axis = item.getAxis(side)
                if axis.labelText:
                    assert QColor(axis.labelStyle.get("color")).name() == text, (key, axis.labelText)
        assert (QColor(_role(QPalette.ColorRole.Base)).lightness() < 80) == (key == "dark")
