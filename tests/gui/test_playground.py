"""Playground workspace: the default picture, presets, padding, and the main window hosting it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage

from cnnstudio.core import ops
from cnnstudio.core.kernels import PRESETS


@pytest.fixture
def workspace(make_workspace, qtbot):
    ws = make_workspace("playground", size=(1280, 820))
    qtbot.waitUntil(ws.smoke_ready)  # the first sample photo loads after the first paint
    return ws


def _small_gray(page, seed=0, shape=(10, 12)):
    image = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    page.set_image(image, "test")
    return image


def test_default_state_is_first_sample_with_edge_kernel(workspace):
    page = workspace.image_page
    assert workspace.smoke_ready()
    assert page.image() is not None and page.image().ndim == 3
    assert page.sample_combo.currentIndex() == 1
    assert page.kernel_editor.preset_name() == "edge"
    np.testing.assert_array_equal(page.kernel_editor.kernel(), PRESETS["edge"].values)
    assert "Edge detection" in page.views.result_title.text()
    assert page.views.result_item.image is not None
    h, w = page.image().shape[:2]
    assert page.views.result_item.image.shape[:2] == (h - 2, w - 2)


def test_preset_changes_the_result(workspace, qtbot):
    page = workspace.image_page
    image = _small_gray(page)
    editor = page.kernel_editor
    editor.preset_combo.setCurrentIndex(editor.preset_combo.findData("sobel_x"))
    page.recompute()
    np.testing.assert_allclose(page.views.result_values(), ops.conv2d(image, PRESETS["sobel_x"].values), atol=1e-3)
    assert "Sobel x" in page.views.result_title.text()
    editor.preset_combo.setCurrentIndex(editor.preset_combo.findData("box_blur"))
    qtbot.waitUntil(lambda: "Box blur" in page.views.result_title.text())
    np.testing.assert_allclose(page.views.result_values(), ops.conv2d(image, np.full((3, 3), 1 / 9)), atol=1e-3)
    displayed = page.views.result_item.image
    assert displayed.dtype == np.uint8 and displayed.shape == (8, 10)
    expected = np.clip(np.rint(ops.conv2d(image, np.full((3, 3), 1 / 9))), 0, 255)
    assert np.abs(displayed.astype(int) - expected).max() <= 1  # OpenCV rounds half to even


def test_large_picture_defers_the_values_until_needed(workspace):
    page = workspace.image_page
    image = np.random.default_rng(5).integers(0, 256, (1100, 1000), dtype=np.uint8)
    page.set_image(image, "big")
    assert "Values below 0 show black" in page.message_label.text()
    assert callable(page.views._result)  # not worked out yet
    text = page.views.describe(500.5, 600.5)
    window = image[599:602, 499:502].astype(float)
    assert f"result {ops.format_number((window * PRESETS['edge'].values).sum(), 2)}" in text
    assert page.views.result_values().shape == (1098, 998)


def test_padding_stride_dilation_change_size_and_formula(workspace, qtbot):
    page = workspace.image_page
    image = _small_gray(page)
    params = page.params_editor
    params.padding_spin.setValue(1)
    qtbot.waitUntil(lambda: page.views.result_values() is not None and page.views.result_values().shape == image.shape)
    assert "(10 + 2·1 − 3) / 1 + 1 = 10" in params.formula_text()
    assert "(12 + 2·1 − 3) / 1 + 1 = 12" in params.formula_text()
    params.mode_combo.setCurrentIndex(params.mode_combo.findData("reflect"))
    params.stride_spin.setValue(2)
    params.dilation_spin.setValue(2)
    page.recompute()
    expected = ops.conv2d(image, PRESETS["edge"].values, 0, 2, 1, "reflect", 0, 2)
    np.testing.assert_allclose(page.views.result_values(), expected, atol=1e-3)
    assert not params.value_spin.isEnabled()
    assert "⌊(10 + 2·1 − (2·(3 − 1) + 1)) / 2⌋ + 1 = 4" in params.formula_text()


def test_kernel_that_does_not_fit_gives_a_message(workspace):
    page = workspace.image_page
    _small_gray(page, shape=(4, 4))
    page.params_editor.dilation_spin.setValue(3)
    page.recompute()
    assert "larger than the padded input" in page.params_editor.formula_text()
    assert "does not fit" in page.message_label.text()
    assert page.views.result_values() is None


def test_display_modes_and_colour_modes(workspace):
    page = workspace.image_page
    rgb = np.random.default_rng(3).integers(0, 256, (9, 11, 3), dtype=np.uint8)
    page.set_image(rgb, "rgb")
    assert page.colour_combo.isEnabled()
    page.set_display_mode("diverging")
    page.recompute()
    item = page.views.result_item
    assert item.image.ndim == 2 and item.image.dtype == np.uint8
    low, high = page.views.colour_bar.levels()
    assert low == pytest.approx(-high) and high > 0
    assert page.views.colour_bar.isVisible()
    mean = np.mean([ops.conv2d(rgb[..., c], PRESETS["edge"].values) for c in range(3)], axis=0)
    expected = np.clip(np.rint(mean * 127.5 / high + 127.5), 0, 255)
    assert np.abs(item.image.astype(int) - expected).max() <= 1
    page.set_display_mode("absolute")
    page.colour_combo.setCurrentIndex(page.colour_combo.findData("green"))
    page.recompute()
    np.testing.assert_allclose(page.views.result_values(), ops.conv2d(rgb[..., 1], PRESETS["edge"].values), atol=1e-3)
    assert page.views.result_item.image.min() >= 0
    assert "x 1, y 1: original" in page.views.describe(1.5, 1.5)


def test_kernel_editor_custom_size_and_normalise(workspace):
    editor = workspace.image_page.kernel_editor
    editor.set_preset("box_blur")
    editor.rows_spin.setValue(5)
    assert editor.kernel().shape == (5, 3) and editor.preset_name() == "custom"
    editor.cols_spin.setValue(11)
    assert editor.kernel().shape == (5, 11)
    editor.set_kernel(np.ones((2, 2)))
    editor.normalise()
    np.testing.assert_allclose(editor.kernel(), np.full((2, 2), 0.25))
    assert "Sum of the weights: 1" in editor.sum_label.text()
    np.testing.assert_allclose(editor.heatmap.values(), np.full((2, 2), 0.25))
    editor.grid.set_cell(0, 0, -3)
    assert editor.preset_name() == "custom" and editor.kernel()[0, 0] == -3


def test_open_file_and_paste(workspace, tmp_path, qtbot):
    page = workspace.image_page
    image = QImage(16, 8, QImage.Format.Format_RGB888)
    image.fill(Qt.GlobalColor.red)
    path = tmp_path / "red.png"
    assert image.save(str(path))
    assert workspace.open_file(path)
    assert page.image().shape == (8, 16, 3) and page.image()[0, 0].tolist() == [255, 0, 0]
    assert "red.png" in page.views.original_title.text()
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a picture")
    assert not workspace.open_file(bad)
    assert "cannot be read as a picture" in page.message_label.text()
    assert not workspace.open_file(tmp_path / "notes.txt")
    green = QImage(5, 7, QImage.Format.Format_RGB888)
    green.fill(Qt.GlobalColor.green)
    QGuiApplication.clipboard().setImage(green)
    assert page.paste()
    assert page.image().shape == (7, 5, 3)
    QGuiApplication.clipboard().clear()
    assert not page.paste()
    assert "clipboard holds no picture" in page.message_label.text()


def test_camera_snapshot_with_a_fake_camera(workspace, qtbot, monkeypatch):
    from cnnstudio.core.errors import UserError
    from cnnstudio.gui.workspaces.playground import camera

    frame = np.full((6, 9, 3), 200, np.uint8)
    monkeypatch.setattr(camera, "grab_snapshot", lambda: frame)
    workspace.take_snapshot()
    qtbot.waitUntil(lambda: workspace.image_page.image() is not None and workspace.image_page.image().shape == (6, 9, 3))
    workspace._snapshot.wait()

    def no_camera():
        raise UserError("No camera was found.")

    monkeypatch.setattr(camera, "grab_snapshot", no_camera)
    workspace.take_snapshot()
    qtbot.waitUntil(lambda: "No camera" in workspace.image_page.message_label.text())
    workspace._snapshot.wait()
    assert workspace.image_page.camera_button.isEnabled()


def test_main_window_shows_the_playground(main_window, tmp_path, qtbot):
    assert "playground" in main_window.workspace_names()
    ws = main_window.show_workspace("playground")
    qtbot.waitUntil(ws.smoke_ready)
    path = tmp_path / "playground.png"
    assert main_window.grab().save(str(path))
    assert path.stat().st_size > 10_000
    for page in ws._pages:  # every page scrolls rather than forcing a large window
        ws.show_page(page)
        main_window.resize(700, 500)
        assert (main_window.width(), main_window.height()) == (700, 500)


def test_step_through_paints_keep_the_interpreter_healthy(workspace):
    """Many repaints of the colour step-through must not drain references to None/True (PySide6 6.12 bug)."""
    import sys

    before_none, before_true = sys.getrefcount(None), sys.getrefcount(True)
    page = workspace.colour_page
    workspace.show_page(page)
    for _ in range(30):
        page.controls.next()
        page.grab()
    assert sys.getrefcount(None) >= before_none - 200
    assert sys.getrefcount(True) >= before_true - 200


def test_image_page_deleted_before_its_first_sample_loads_raises_nothing(qtbot, qapp):
    """The first sample loads on a zero timer; a page deleted before it fires must not be touched."""
    import shiboken6

    from cnnstudio.gui.workspaces.playground.image_page import ImagePage

    page = ImagePage()
    shiboken6.delete(page)
    qtbot.wait(20)  # the zero timer's turn: pytest-qt reports any exception raised in the event loop
