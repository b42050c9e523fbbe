"""Playground step-through views: the lecture's convolution, the colour example, pooling, exercises."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

LECTURE_OUTPUT = [[12, 12, 17], [10, 17, 19], [9, 6, 14]]


@pytest.fixture
def workspace(make_workspace, qtbot):
    ws = make_workspace("playground", size=(1280, 820))
    qtbot.waitUntil(ws.smoke_ready)  # the first sample photo loads after the first paint
    return ws


def test_lecture_animation_step_by_step(workspace, qtbot):
    page = workspace.step_page
    workspace.show_page(page)
    np.testing.assert_array_equal(page.trace().output, LECTURE_OUTPUT)
    controls = page.controls
    assert controls.count() == 9 and controls.current() == 0
    column = page.columns()[0]
    window = {(r, c) for r in range(3) for c in range(3)}
    assert column.input_grid._highlights[0][0] == window
    assert column.input_grid._subscripts[(0, 2)] == "2"  # kernel weight shown on the input value
    assert "Σ = 12" in column.sum_label.text()
    assert page.output_grid._blank.sum() == 8  # only the first output is shown yet
    controls.next()
    assert column.input_grid._highlights[0][0] == {(r, c) for r in range(3) for c in range(1, 4)}
    assert "3·0 + 2·1 + 1·2 + 0·2 + 1·2 + 3·0 + 1·0 + 2·1 + 2·2 = 12" in page.equation_label.text()
    assert page.output_grid._highlights[0][0] == {(0, 1)}
    qtbot.mouseClick(controls.next_button, Qt.MouseButton.LeftButton)
    assert controls.current() == 2 and "17" in page.total_label.text()
    controls.back()
    assert controls.current() == 1
    controls.set_speed(8)
    qtbot.mouseClick(controls.play_button, Qt.MouseButton.LeftButton)
    assert controls.is_playing() and "Pause" in controls.play_button.text()
    qtbot.waitUntil(lambda: controls.current() == 8, timeout=5000)
    qtbot.waitUntil(lambda: not controls.is_playing(), timeout=2000)
    assert page.output_grid._blank.sum() == 0
    assert "Output row 3, column 3:  14" in page.total_label.text()
    page._on_output_clicked(1, 0)
    assert controls.current() == 3
    controls.first()
    assert controls.current() == 0 and not controls.back_button.isEnabled()


def test_editing_grids_and_parameters_recomputes(workspace, qtbot):
    page = workspace.step_page
    column = page.columns()[0]
    grid = column.input_grid
    grid.edit_cell(0, 0)
    qtbot.keyClicks(grid.editor(), "13")
    qtbot.keyClick(grid.editor(), Qt.Key.Key_Return)
    assert page.input()[0, 0, 0] == 13
    assert page.trace().output[0, 0] == 12  # the kernel weight on (0, 0) is 0
    column.kernel_grid.set_cell(0, 0, 1)
    assert page.trace().output[0, 0] == 12 + 13
    grid.edit_cell(1, 1)
    qtbot.keyClicks(grid.editor(), "abc")
    qtbot.keyClick(grid.editor(), Qt.Key.Key_Return)
    assert "not a number" in page.message_label.text()
    page.params_editor.padding_spin.setValue(1)
    assert page.trace().output.shape == (5, 5)
    assert column.input_grid.shape() == (7, 7) and column.input_grid._fixed[0].all()
    assert "(5 + 2·1 − 3) / 1 + 1 = 5" in page.params_editor.formula_text()
    page.params_editor.stride_spin.setValue(2)
    assert page.trace().output.shape == (3, 3)
    page.krows_spin.setValue(7)
    page.kcols_spin.setValue(7)
    page.params_editor.padding_spin.setValue(0)
    assert page.trace() is None and "larger than the padded input" in page.message_label.text()
    assert page.controls.count() == 0
    page.load_example("exercise-4x4")
    np.testing.assert_array_equal(page.trace().output, [[2, 6, 0], [23, 35, 8], [13, 29, 16]])
    page.rows_spin.setValue(6)
    assert page.input().shape == (1, 6, 4)
    page.randomise()
    assert page.trace() is not None


def test_colour_example_sums(workspace):
    page = workspace.colour_page
    assert page.example_names() == ["lecture-colour"]
    assert len(page.columns()) == 3
    assert [c.sum_label.text() for c in page.columns()] == ["Σ = 308", "Σ = −498", "Σ = 164"]
    assert "308 + (−498) + 164 + 1 = −25" in page.total_label.text()
    assert page.columns()[0].input_title.text() == "Input channel #1 (Red)"
    assert page.trace().output.shape == (5, 5)
    page.bias_spin.setValue(0)
    assert "308 + (−498) + 164 + 0 = −26" in page.total_label.text()


def test_pooling_step_through(workspace, qtbot):
    page = workspace.pool_page
    np.testing.assert_array_equal(page.trace().output[0], [[6, 8], [3, 4]])
    assert page.equation_label.text() == "max(1, 1, 5, 6) = 6"
    assert page.input_grid._highlights[1][0] == {(1, 1)}  # the picked maximum
    page.controls.next()
    assert page.equation_label.text() == "max(2, 4, 7, 8) = 8"
    page.set_mode("avg")
    assert page.equation_label.text() == "mean(2, 4, 7, 8) = 5.25"
    page.set_mode("median")
    np.testing.assert_array_equal(page.trace().output[0], [[3, 5.5], [2, 2]])
    page.set_mode("min")
    page.stride_spin.setValue(1)
    assert page.trace().output.shape == (1, 3, 3)
    assert "rows: (4 + 2·0 − 2) / 1 + 1 = 3" in page.formula_label.text()
    page.padding_spin.setValue(1)
    assert page.trace().output.shape == (1, 5, 5)
    page.size_spin.setValue(1)
    assert "at most half" in page.message_label.text() and page.trace() is None
    page.reset_example()
    assert page.mode() == "max" and page.trace().output.shape == (1, 2, 2)


def test_exercise_cards_check_and_explain(workspace, qtbot):
    page = workspace.exercises_page
    assert len(page.cards) >= 6
    card = page.card("slido-4x4")
    card.set_answer("2 6 0\n23 35 8\n13 29 15")
    assert not card.check().correct
    assert "✘" in card.feedback_label.text() and "row 3, column 3" in card.feedback_label.text()
    card.set_answer("2 6 0\n23 35 8\n13 29 16")
    qtbot.mouseClick(card.check_button, Qt.MouseButton.LeftButton)
    assert "✔" in card.feedback_label.text()
    assert card.working_label.isVisibleTo(card) and "35" in card.working_label.text()
    size = page.card("conv-pool-size")
    size.set_answer("6x6")
    size.check()
    assert "after the convolution" in size.feedback_label.text()
    weights = page.card("weights-conv")
    weights.set_answer("lots")
    assert not weights.check().understood and "?" in weights.feedback_label.text()
    card.example_button.click()
    assert workspace.current_page() is workspace.step_page
    np.testing.assert_array_equal(workspace.step_page.trace().output, [[2, 6, 0], [23, 35, 8], [13, 29, 16]])
    page.card("pool-4x4").example_button.click()
    assert workspace.current_page() is workspace.pool_page
    page.card("colour-first-output").example_button.click()
    assert workspace.current_page() is workspace.colour_page


def test_switching_tabs_pauses_the_animation(workspace):
    page = workspace.step_page
    workspace.show_page(page)
    page.controls.play()
    assert page.controls.is_playing()
    workspace.show_page(workspace.exercises_page)
    assert not page.controls.is_playing()


def test_keyboard_steps_the_visible_page_only(workspace, qtbot):
    """Right/Left step, End/Home jump, Space plays and pauses: on the page shown, not on hidden ones."""
    from PySide6.QtTest import QTest

    workspace.activateWindow()
    qtbot.waitUntil(workspace.isActiveWindow)
    step, pool = workspace.step_page, workspace.pool_page
    workspace.show_page(step)
    QTest.keyClick(workspace, Qt.Key.Key_Right)
    QTest.keyClick(workspace, Qt.Key.Key_Right)
    assert step.controls.current() == 2 and pool.controls.current() == 0
    QTest.keyClick(workspace, Qt.Key.Key_Left)
    assert step.controls.current() == 1
    QTest.keyClick(workspace, Qt.Key.Key_End)
    assert step.controls.current() == step.controls.count() - 1
    QTest.keyClick(workspace, Qt.Key.Key_Home)
    assert step.controls.current() == 0
    QTest.keyClick(workspace, Qt.Key.Key_Space)
    assert step.controls.is_playing()
    QTest.keyClick(workspace, Qt.Key.Key_Space)
    assert not step.controls.is_playing()
    workspace.show_page(pool)
    QTest.keyClick(workspace, Qt.Key.Key_Right)
    assert pool.controls.current() == 1 and step.controls.current() == 0
    assert "(Space)" in step.controls.play_button.toolTip()
    # a focused button of the page keeps its own Space: it is pressed, the animation does not start
    from PySide6.QtWidgets import QPushButton

    button = next(b for b in pool.findChildren(QPushButton) if b.text() == "Reset example")
    pressed = []
    button.clicked.connect(lambda: pressed.append(True))
    button.setFocus()
    QTest.keyClick(workspace, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: bool(pressed))
    assert not pool.controls.is_playing()
