"""The Data workspace: loads digits on its own, shows counts and samples, edits are undoable."""

from __future__ import annotations

import cv2
import numpy as np
import pytest


@pytest.fixture
def workspace(make_workspace):
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major")
    return make_workspace("data", size=(1100, 700))


def _wait_loaded(qtbot, ws, name):
    qtbot.waitUntil(lambda: ws.loaded is not None and ws.loaded.bundle.name == name, timeout=30000)


def test_digits_are_shown_with_counts(qtbot, workspace):
    assert workspace.loading and not workspace.smoke_ready()  # the result arrives through the event loop
    _wait_loaded(qtbot, workspace, "digits")
    assert workspace.smoke_ready() and not workspace.error
    counts = workspace.counts_chart.counts
    assert list(counts) == [str(i) for i in range(10)]
    assert sum(t + v for t, v in counts.values()) == 1797
    assert all(v > 0 for _, v in counts.values())
    assert workspace.grid.count() > 50
    assert "1,797 images" in workspace.summary.text()
    assert workspace.source_panel.source_combo.currentData() == "digits"
    assert not workspace.skipped_list.isVisible()


def test_changing_the_source_is_undoable(qtbot, workspace, ctx):
    _wait_loaded(qtbot, workspace, "digits")
    combo = workspace.source_panel.source_combo
    combo.setCurrentIndex(combo.findData("shapes"))
    assert ctx.document.get("data")["source"] == "shapes"
    assert ctx.undo_stack.undoText() == "Change data source"
    _wait_loaded(qtbot, workspace, "shapes")
    assert workspace.loaded.bundle.task == "localization"
    assert workspace.loaded.samples.boxes is not None
    samples = workspace.source_panel.number_widget("num_samples")
    samples.setValue(300)
    assert ctx.document.get("data")["num_samples"] == 300
    qtbot.waitUntil(lambda: workspace.loaded is not None and len(workspace.loaded.bundle) == 300, timeout=30000)
    ctx.undo_stack.undo()
    ctx.undo_stack.undo()
    assert ctx.document.get("data")["source"] == "digits"
    assert combo.currentData() == "digits"
    _wait_loaded(qtbot, workspace, "digits")
    ctx.undo_stack.redo()
    assert combo.currentData() == "shapes"
    _wait_loaded(qtbot, workspace, "shapes")


def test_augmentation_edits_and_preview(qtbot, workspace, ctx):
    _wait_loaded(qtbot, workspace, "digits")
    workspace.tabs.setCurrentWidget(workspace.augment_panel)
    workspace.augment_panel.spins["rotation"].setValue(25)
    assert ctx.document.get("data")["augment"] == {"rotation": 25.0}
    assert workspace.augment_panel.mosaic.cell_count() == 6 * 6
    assert not workspace.augment_panel.spins["hue"].isEnabled()  # gray images: no hue
    before = workspace._preview_seed
    workspace.augment_panel.refresh_button.click()
    assert workspace._preview_seed == before + 1
    ctx.undo_stack.undo()
    assert ctx.document.get("data")["augment"] == {}
    assert workspace.augment_panel.spins["rotation"].value() == 0


def test_dropped_folder_becomes_the_source_and_lists_skipped_files(qtbot, workspace, ctx, tmp_path):
    _wait_loaded(qtbot, workspace, "digits")
    for name, value in (("light", 220), ("dark", 30)):
        (tmp_path / name).mkdir()
        for i in range(3):
            cv2.imwrite(str(tmp_path / name / f"{i}.png"), np.full((12, 12), value, np.uint8))
    (tmp_path / "dark" / "bad.png").write_bytes(b"not a png")
    assert workspace.open_file(tmp_path)
    assert ctx.document.get("data")["source"] == "folder"
    _wait_loaded(qtbot, workspace, tmp_path.name)
    assert workspace.counts_chart.counts == {"dark": (2, 1), "light": (2, 1)}
    assert workspace.skipped_list.topLevelItemCount() == 1
    assert workspace.skipped_list.topLevelItem(0).text(0) == "bad.png"
    assert "Skipped files (1)" in workspace.skipped_title.text()
    assert not workspace.open_file(tmp_path / "light" / "0.png")


def test_bad_source_shows_one_clear_message(qtbot, workspace, ctx, tmp_path):
    _wait_loaded(qtbot, workspace, "digits")
    ctx.edit("data", {"source": "mnist", "path": str(tmp_path)}, "Change data source")
    qtbot.waitUntil(lambda: bool(workspace.error), timeout=30000)
    assert "MNIST is not in" in workspace.error and "train-images-idx3-ubyte.gz" in workspace.error
    assert workspace.error_label.isVisible() and workspace.grid.count() == 0
    ctx.edit("data", {"source": "folder", "path": ""}, "Change data source")
    assert "Choose a folder" in workspace.error
    ctx.undo_stack.undo()
    ctx.undo_stack.undo()
    _wait_loaded(qtbot, workspace, "digits")
    assert not workspace.error_label.isVisible()


def test_data_that_does_not_fit_the_network_says_so_and_offers_a_fix(qtbot, workspace, ctx):
    _wait_loaded(qtbot, workspace, "digits")
    assert "Fits the Designer's network" in workspace.fit_label.text()
    assert workspace.fit_button.isHidden()
    data = ctx.document.get("data")
    data.update(source="shapes", num_samples=60, image_size=24)
    ctx.edit("data", data, "shapes")
    _wait_loaded(qtbot, workspace, "shapes")
    text = workspace.fit_label.text()
    assert "converted to gray 28×28" in text and "ends in 10 outputs" in text and "5 classes" in text
    assert not workspace.fit_button.isHidden()
    workspace.fit_button.click()
    spec = ctx.document.get("network")
    assert spec["classes"] == ["circle", "square", "triangle", "star", "cross"]
    assert spec["layers"][-1]["out_features"] == 5
    assert workspace.fit_button.isHidden() and "outputs" not in workspace.fit_label.text()
    ctx.undo_stack.undo()  # the fit is one undoable step
    assert ctx.document.get("network")["layers"][-1]["out_features"] == 10
    assert not workspace.fit_button.isHidden()
    spec = ctx.document.get("network")
    spec["layers"][0]["kernel_size"] = 40
    ctx.document.set("network", spec)
    assert "has a problem" in workspace.fit_label.text() and workspace.fit_button.isHidden()
    spec["layers"][0]["kernel_size"] = 5
    spec["task"] = "localization"
    ctx.document.set("network", spec)
    data = ctx.document.get("data")
    data["source"] = "digits"
    ctx.edit("data", data, "digits")
    _wait_loaded(qtbot, workspace, "digits")
    assert "predicts boxes" in workspace.fit_label.text()
