"""Slots never hold the last reference to their sender's parent.

A lambda connected to a child's signal and capturing the (parentless, Python-owned) parent is freed
while Qt destroys that child; when it held the last reference, the parent, and with it the child again,
was deleted inside the child's own destructor ("shared QObject was deleted directly", then a crash).
Each case runs in its own process: the failure is a crash, not an exception.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_PRELUDE = """
import gc
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication

app = QApplication([])


def let_qt_delete():
    gc.collect()
    for _ in range(3):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        app.processEvents()
"""

_NUMBER_GRID = """
import numpy as np
from cnnstudio.gui.widgets.number_grid import NumberGrid

def edit_then_let_go():
    grid = NumberGrid(np.zeros((3, 3)), editable=True)
    grid.show()
    grid.edit_cell(0, 0)
    grid._close_editor(commit=False)  # the editor (a child) is deleted later, on its own
    # returns: the last plain reference to the grid goes here

for _ in range(3):
    edit_then_let_go()
    let_qt_delete()
print("ok")
"""

_LAYER_STRIP = """
from cnnstudio.gui.workspaces.inspect.layer_strip import LayerStrip
from cnnstudio.ml.inspect.features import TensorInfo

def fill_then_let_go():
    strip = LayerStrip()
    strip.set_layers([TensorInfo("conv1", "Conv", (1, 8, 4, 4)), TensorInfo("relu1", "Relu", (1, 8, 4, 4))])
    strip.set_layers([])  # the old buttons (children) are deleted later, on their own

for _ in range(3):
    fill_then_let_go()
    let_qt_delete()
print("ok")
"""


@pytest.mark.parametrize("script", [_NUMBER_GRID, _LAYER_STRIP], ids=["number-grid-editor", "layer-strip-buttons"])
def test_a_widget_let_go_while_a_child_awaits_deletion_does_not_crash(script, tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", _PRELUDE + script], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", (proc.returncode, proc.stderr[-4000:])
    assert "deleted directly" not in proc.stderr
