"""Issue 18 item 5: a picked block shows its properties, Ctrl+Y redoes, a dilated kernel that does not fit."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest


def test_selecting_a_block_switches_the_side_pane_to_that_layer(main_window):
    designer = main_window.show_workspace("designer")
    designer.side_tabs.setCurrentWidget(designer.settings_panel)  # the user looked at the Network tab
    designer.stack.select_ids(["c3"])
    assert designer.side_tabs.currentWidget() is designer.properties
    assert designer.properties.current_id() == "c3"
    designer.properties.editors()["out_channels"].spin.setValue(20)
    assert designer.spec()["layers"][3]["out_channels"] == 20  # the edit reached the picked layer


def test_ctrl_y_and_the_platform_redo_key_redo(main_window):
    from cnnstudio.gui.main_window import redo_shortcuts

    keys = redo_shortcuts()
    assert QKeySequence("Ctrl+Y") in keys
    for standard in QKeySequence.keyBindings(QKeySequence.StandardKey.Redo):
        assert standard in keys
    ctx = main_window.ctx
    main_window.activateWindow()
    training = ctx.document.get("training")
    training["epochs"] = 42
    ctx.edit("training", training, "Set epochs")
    ctx.undo_stack.undo()
    QTest.keyClick(main_window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert ctx.document.get("training")["epochs"] == 42
    ctx.undo_stack.undo()
    QTest.keyClick(main_window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert ctx.document.get("training")["epochs"] == 42


@pytest.fixture
def playground(make_workspace, qtbot):
    ws = make_workspace("playground", size=(1280, 720))
    qtbot.waitUntil(ws.smoke_ready)
    return ws


def test_a_dilated_kernel_that_does_not_fit_says_so_instead_of_an_empty_output(playground):
    page = playground.step_page
    playground.show_page(page)
    assert page.output_title.text() == "Output (3 × 3)"
    page.params_editor.dilation_spin.setValue(3)
    assert page.trace() is None
    assert not page.output_grid.isVisible()
    assert "3 × 3" not in page.output_title.text() and "does not fit" in page.output_title.text()
    message = page.message_label.text()
    assert "dilation 3" in message and "= −1" in message and "no output" in message
    page.params_editor.dilation_spin.setValue(1)
    assert page.output_grid.isVisible() and page.output_title.text() == "Output (3 × 3)"
    np.testing.assert_array_equal(page.trace().output, [[12, 12, 17], [10, 17, 19], [9, 6, 14]])
