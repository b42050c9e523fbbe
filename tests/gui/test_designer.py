"""Designer workspace: drops, reorders, property edits, undo, invalid layers and project round trips."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QGuiApplication

from cnnstudio.core.spec import load_spec


@pytest.fixture
def designer(make_workspace):
    return make_workspace("designer", size=(1300, 850))


def ids(designer) -> list[str]:
    return designer.stack.stack_model.ids()


def row(designer, layer_id):
    return next(r for r in designer.stack.stack_model.rows() if r.id == layer_id)


def palette_mime(designer, type_name):
    item = designer.palette_panel._items[type_name]
    return designer.palette_panel.tree.mimeData([item])


def drop(qtbot, designer, mime, gap, action=Qt.DropAction.CopyAction):
    """Drop ``mime`` on the stack exactly as a drag does (through the model's dropMimeData)."""
    before = json.dumps(designer.spec())
    designer.stack.stack_model.dropMimeData(mime, action, gap, 0, QModelIndex())
    qtbot.waitUntil(lambda: json.dumps(designer.spec()) != before, timeout=3000)


def select(designer, layer_id):
    designer.stack.select_ids([layer_id])
    assert designer.properties.current_id() == layer_id


def test_shows_lenet5_with_shapes_and_counts(designer):
    assert ids(designer) == ["c1", "a1", "s2", "c3", "a3", "s4", "flat", "f5", "a5", "f6", "a6", "out"]
    c1 = row(designer, "c1")
    assert c1.shape_text == "6 × 28 × 28" and c1.params == 156
    assert c1.description == "conv 5x5, 6 filters, stride 1, pad 2"
    assert row(designer, "s4").shape_text == "16 × 5 × 5"
    assert row(designer, "out").shape_text == "10"
    assert "61,706" in designer.footer.text() and "416,520" in designer.footer.text()
    volumes = designer.volume.canvas.volumes()
    assert [v.shape_text for v in volumes][:3] == ["1@28×28", "6@28×28", "6@14×14"]
    assert volumes[1].ids == ["c1", "a1"]


def test_palette_drop_inserts_at_the_drop_position_and_undo_removes_it(qtbot, designer, ctx):
    drop(qtbot, designer, palette_mime(designer, "conv2d"), 2)
    assert ids(designer)[:4] == ["c1", "a1", "conv2d_3", "s2"]
    new = row(designer, "conv2d_3")
    assert new.description == "conv 3x3, 8 filters, stride 1, pad 1"
    assert new.shape_text == "8 × 28 × 28" and new.params == 6 * 8 * 9 + 8
    assert designer.stack.selected_ids() == ["conv2d_3"]
    assert ctx.undo_stack.count() == 1
    ctx.undo_stack.undo()
    assert "conv2d_3" not in ids(designer)
    drop(qtbot, designer, palette_mime(designer, "relu"), -1)
    assert ids(designer)[-1] == "relu_5"


def test_drag_reorders_blocks(qtbot, designer, ctx):
    model = designer.stack.stack_model
    mime = model.mimeData([model.index(0)])
    drop(qtbot, designer, mime, 2, Qt.DropAction.MoveAction)
    assert ids(designer)[:3] == ["a1", "c1", "s2"]
    assert ctx.undo_stack.undoText() == "Move layer"
    designer.stack.select_ids(["out"])
    designer.action_up.trigger()
    assert ids(designer)[-2:] == ["out", "a6"]
    ctx.undo_stack.undo()
    ctx.undo_stack.undo()
    assert ids(designer)[:3] == ["c1", "a1", "s2"]


def test_property_edit_updates_shapes_and_counts_and_undoes(designer, ctx):
    select(designer, "c1")
    editors = designer.properties.editors()
    assert set(editors) >= {"out_channels", "kernel_size", "stride", "padding", "bias"}
    editors["out_channels"].spin.setValue(10)
    assert row(designer, "c1").params == 10 * 25 + 10
    assert row(designer, "c3").params == 16 * 10 * 25 + 16
    assert row(designer, "c1").shape_text == "10 × 28 × 28"
    total = 61_706 - 156 - 2_416 + 260 + 4_016
    assert f"{total:,}" in designer.footer.text()
    assert "10x28x28" in designer.properties.shapes.text()
    editors["kernel_size"].height_spin.setValue(3)
    assert row(designer, "c1").shape_text == "10 × 30 × 30"
    assert "floor((28 + 2*2 - 1*(3-1) - 1) / 1) + 1 = 30" in designer.properties.formula.text()
    ctx.undo_stack.undo()
    assert row(designer, "c1").shape_text == "10 × 28 × 28"
    assert designer.properties.editors()["kernel_size"].value() == 5
    ctx.undo_stack.undo()
    assert row(designer, "c1").params == 156 and "61,706" in designer.footer.text()
    assert designer.properties.editors()["out_channels"].value() == 6


def test_invalid_kernel_turns_the_block_red_with_its_message(designer, ctx):
    select(designer, "c3")
    designer.properties.editors()["kernel_size"].height_spin.setValue(20)
    message = "conv2d 'c3': 20x20 kernel is larger than its 14x14 padded input."
    c3 = row(designer, "c3")
    assert c3.error == message and c3.shape_text == "invalid"
    index = designer.stack.stack_model.index(ids(designer).index("c3"))
    assert message in index.data(Qt.ItemDataRole.ToolTipRole)
    assert message in designer.problems.messages()
    assert designer.properties.error.isVisibleTo(designer) and message in designer.properties.error.text()
    assert "problem" in designer.footer.text()
    assert designer.side_tabs.tabText(2).startswith("Problems (")
    # the network stays editable while invalid
    designer.insert_type("relu", 0)
    assert ids(designer)[0] == "relu_5"
    ctx.undo_stack.undo()
    ctx.undo_stack.undo()
    assert row(designer, "c3").error is None and designer.problems.messages() == []


def test_keyboard_delete_duplicate_copy_paste(qtbot, designer, ctx):
    designer.stack.setFocus()
    select(designer, "a1")
    qtbot.keyClick(designer.stack, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert ids(designer)[:3] == ["c1", "a1", "relu_5"]
    qtbot.keyClick(designer.stack, Qt.Key.Key_Delete)
    assert "relu_5" not in ids(designer)
    select(designer, "c1")
    qtbot.keyClick(designer.stack, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert "application/x-cnnstudio-layers" in QGuiApplication.clipboard().mimeData().formats()
    select(designer, "flat")
    qtbot.keyClick(designer.stack, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert ids(designer)[7] == "conv2d_3"
    assert row(designer, "conv2d_3").error is not None  # a conv after flatten: flagged, not refused
    qtbot.keyClick(designer.stack, Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier)
    assert "conv2d_3" not in ids(designer)
    QGuiApplication.clipboard().setText("not layers")
    designer.paste()
    assert len(ids(designer)) == 12


def test_freeze_toggle_counts_frozen_parameters(designer, ctx):
    select(designer, "c1")
    designer.properties.frozen.setChecked(True)
    assert row(designer, "c1").trainable is False
    assert "frozen 156" in designer.footer.text()
    assert designer.spec()["layers"][0]["trainable"] is False
    ctx.undo_stack.undo()
    assert "frozen 0" in designer.footer.text()


def test_project_round_trip_keeps_the_edited_network(designer, ctx, tmp_path):
    designer.insert_type("batchnorm2d", 1)
    select(designer, "c1")
    designer.properties.frozen.setChecked(True)
    designer.properties.editors()["out_channels"].spin.setValue(12)
    edited = designer.spec()
    path = ctx.document.save(tmp_path / "net.cnnproj")
    ctx.document.new()
    assert ids(designer)[1] == "a1" and row(designer, "c1").params == 156
    ctx.document.load(path)
    assert designer.spec() == edited
    assert ids(designer)[1] == "batchnorm2d_1"
    assert row(designer, "c1").params == 12 * 25 + 12 and row(designer, "c1").trainable is False
    assert row(designer, "batchnorm2d_1").params == 24


def test_templates_replace_the_network_as_one_undo_step(designer, ctx):
    from cnnstudio.core.templates import template_names

    names = [n for n in template_names() if n != "lenet5"]
    assert names, "the templates folder has only LeNet-5"
    assert designer.load_template(names[0])
    assert designer.spec() == load_spec(names[0])
    assert ctx.undo_stack.count() == 1
    ctx.undo_stack.undo()
    assert ids(designer)[0] == "c1"
    errors = []
    designer.show_error = lambda title, message: errors.append(message)
    assert not designer.load_template("no-such-template")
    assert "no-such-template" in errors[0]


def test_network_settings_edit_input_task_and_classes(designer, ctx):
    settings = designer.settings_panel
    settings.channels.setValue(3)
    assert row(designer, "c1").params == 6 * 3 * 25 + 6
    assert designer.spec()["input"]["channels"] == 3
    settings.task.setCurrentIndex(settings.task.findData("localization"))
    spec = designer.spec()
    assert spec["task"] == "localization" and spec["box_head"]["from"] == "a6"
    assert designer.summary().ok
    settings.head_hidden.setValue(32)
    assert [layer["type"] for layer in designer.spec()["box_head"]["layers"]] == ["linear", "relu", "linear"]
    settings.classes.setText("a, b, c")
    settings.classes.editingFinished.emit()
    assert designer.spec()["classes"] == ["a", "b", "c"]
    assert any("there are 3 classes" in p for p in designer.problems.messages())
    for _ in range(4):
        ctx.undo_stack.undo()
    assert designer.spec() == ctx.document.get("network") and "box_head" not in designer.spec()
    assert designer.spec()["input"]["channels"] == 1


def test_palette_lists_registry_types_and_filters(designer):
    from cnnstudio.core.registry import LAYER_TYPES

    palette = designer.palette_panel
    assert sorted(palette.type_names()) == sorted(LAYER_TYPES)
    palette.search.setText("pool")
    visible = palette.visible_type_names()
    assert "maxpool2d" in visible and "relu" not in visible
    palette.search.clear()
    assert len(palette.visible_type_names()) == len(LAYER_TYPES)
    palette.insert_requested.emit("dropout")
    assert "dropout_1" in ids(designer)


def test_rename_and_bad_ids(designer, ctx):
    designer.rename_layer("c1", "conv_first")
    assert ids(designer)[0] == "conv_first"
    designer.rename_layer("conv_first", "a1")
    designer.rename_layer("conv_first", "9 bad")
    assert ids(designer)[0] == "conv_first" and ctx.undo_stack.count() == 1


def test_spec_and_diagram_exports(designer, tmp_path):
    spec_path = tmp_path / "net.json"
    assert designer.export_spec(spec_path)
    assert load_spec(spec_path) == load_spec(designer.spec())
    for suffix in (".png", ".svg", ".pdf"):
        written = designer.volume.export_image(tmp_path / f"diagram{suffix}")
        assert written.stat().st_size > 1000
    assert "<svg" in (tmp_path / "diagram.svg").read_text(encoding="utf-8")
    assert designer.import_spec(spec_path)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    errors = []
    designer.show_error = lambda title, message: errors.append(message)
    assert not designer.import_spec(bad)
    assert errors and "bad.json" in errors[0]


def test_main_window_opens_the_designer_and_imports_dropped_specs(main_window, tmp_path):
    from cnnstudio.core.spec import save_spec

    designer = main_window.show_workspace("designer")
    assert main_window.current_workspace_name() == "designer"
    spec = load_spec("lenet5")
    spec["layers"][0]["out_channels"] = 4
    path = tmp_path / "four.json"
    save_spec(spec, path)
    assert main_window.open_path(path)
    assert row(designer, "c1").shape_text == "4 × 28 × 28"
    main_window.ctx.undo_stack.undo()
    assert row(designer, "c1").shape_text == "6 × 28 × 28"


def test_volume_diagram_selects_layers_and_fits_its_panel(designer):
    canvas = designer.volume.canvas
    volume = canvas.volumes()[3]  # c3 + a3
    x = (volume.geometry["slot"][0] + volume.geometry["slot"][1] / 2) * canvas.scale()
    from PySide6.QtCore import QPointF

    assert canvas.volume_at(QPointF(x, 10)).ids == ["c3", "a3"]
    canvas.volume_clicked.emit("c3")
    assert designer.stack.selected_ids() == ["c3"]
    designer.volume.resize(400, 120)
    designer.volume._fit()
    assert 0.45 <= canvas.scale() < 1.0


def test_renaming_in_the_form_renames_the_layer(qtbot, designer):
    select(designer, "s2")
    edit = designer.properties.id_edit
    edit.setText("pool_a")
    edit.editingFinished.emit()
    qtbot.waitUntil(lambda: "pool_a" in ids(designer), timeout=2000)
    assert designer.properties.current_id() == "pool_a"


def test_document_changes_from_elsewhere_update_the_view_without_edits(designer, ctx):
    spec = ctx.document.get("network")
    spec["layers"][0]["out_channels"] = 3
    spec["layers"][0]["kernel_size"] = [3, 5]
    spec["input"]["height"] = 32
    select(designer, "c1")
    ctx.document.set("network", spec)
    assert row(designer, "c1").shape_text == "3 × 34 × 28"  # (32 + 4 - 3) + 1, (28 + 4 - 5) + 1
    assert designer.properties.editors()["kernel_size"].value() == [3, 5]
    assert designer.properties.editors()["out_channels"].value() == 3
    assert designer.settings_panel.height.value() == 32
    assert ctx.undo_stack.count() == 0  # showing the new state pushed no edit back


@pytest.mark.parametrize(
    "broken",
    [
        {"id": "x", "type": "conv9d"},
        {"id": "x", "type": "conv2d", "kernel_size": "big", "stride": None, "padding": [1]},
        {"type": "relu"},
        {"id": "x", "type": "linear", "out_features": -3, "bias": "yes"},
    ],
)
def test_broken_layers_are_shown_with_a_message_not_an_exception(designer, ctx, broken):
    spec = ctx.document.get("network")
    spec["layers"].insert(1, broken)
    ctx.document.set("network", spec)
    rows = designer.stack.stack_model.rows()
    assert len(rows) == 13 and rows[1].error
    designer.stack.select_ids([rows[1].id])
    assert designer.properties.error.isVisibleTo(designer)
    assert designer.problems.messages()
    assert not designer.summary().ok


def test_a_layer_without_id_can_be_edited_and_given_one(designer, ctx):
    spec = ctx.document.get("network")
    spec["layers"].insert(1, {"type": "conv2d", "out_channels": 6, "kernel_size": 3, "padding": 1})
    ctx.document.set("network", spec)
    assert ids(designer)[1] == "#2" and row(designer, "#2").error
    designer.set_param("#2", "out_channels", 4)
    assert designer.spec()["layers"][1]["out_channels"] == 4
    designer.rename_layer("#2", "mid")
    assert ids(designer)[1] == "mid" and row(designer, "mid").error is None


def test_ctrl_z_in_a_property_spin_box_undoes_the_network_edit(main_window):
    from PySide6.QtTest import QTest

    ctx = main_window.ctx
    designer = main_window.show_workspace("designer")
    main_window.activateWindow()
    designer.stack.select_ids(["c1"])
    spin = designer.properties.editors()["out_channels"].spin
    before = spin.value()
    spin.setFocus()
    spin.setValue(before + 3)
    assert ctx.document.get("network")["layers"][0]["out_channels"] == before + 3
    # the toolbar button keeps its label; what it would undo is in its tooltip
    assert designer.action_undo.text() == "Undo" and designer.action_undo.isEnabled()
    assert ctx.undo_stack.undoText() in designer.action_undo.toolTip()
    QTest.keyClick(spin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert ctx.document.get("network")["layers"][0]["out_channels"] == before
    assert designer.properties.editors()["out_channels"].spin.value() == before
    # text being typed (not yet committed with Enter) is still undone inside the box
    spin = designer.properties.editors()["out_channels"].spin
    index = ctx.undo_stack.index()
    spin.setFocus()
    spin.lineEdit().selectAll()
    QTest.keyClicks(spin, "42")
    QTest.keyClick(spin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert ctx.undo_stack.index() == index and spin.text() != "42"
