"""The Train form is generated from the settings schema: one row per option, kind -> editor, task rows."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox

from cnnstudio.core import train_settings as ts


@pytest.fixture
def make_form(qtbot, ctx):
    def make():
        from cnnstudio.gui.workspaces.train.settings_form import TrainingSettingsForm

        form = TrainingSettingsForm(ctx)
        qtbot.addWidget(form)
        return form

    return make


def label_of(form, widget) -> str:
    label = form.layout_.labelForField(widget)
    return label.text() if isinstance(label, QLabel) else ""


def test_one_row_per_option_with_its_label_range_and_tooltip(make_form):
    form = make_form()
    kinds = {"float": QDoubleSpinBox, "int": QSpinBox, "bool": QCheckBox, "choice": QComboBox}
    assert sorted(form.widgets) == sorted(opt.name for opt in ts.OPTIONS)
    for opt in ts.OPTIONS:
        widget = form.widgets[opt.name]
        assert isinstance(widget, kinds[opt.kind]) and label_of(form, widget) == opt.label, opt.name
        assert opt.help in widget.toolTip()
        assert form.value_of(opt.name) == opt.default, opt.name  # a fresh project shows the defaults
        if opt.kind == "choice":
            assert [widget.itemData(i) for i in range(widget.count())] == list(opt.choices)
        if opt.kind in ("int", "float") and opt.minimum is not None:
            assert (widget.minimum() > opt.minimum) == opt.exclusive_minimum, opt.name
    assert form.momentum.maximum() < 1 and form.lr.minimum() > 0 and form.epochs.maximum() == 100_000


def test_log_options_step_by_factors(make_form, ctx):
    form = make_form()
    form.lr.setValue(0.002)
    form.lr.stepBy(1)
    assert form.lr.value() == pytest.approx(0.005) and ctx.document.get("training")["lr"] == pytest.approx(0.005)
    form.lr.stepBy(-2)
    assert form.lr.value() == pytest.approx(0.001)
    form.batch_size.setValue(16)
    form.batch_size.stepBy(2)
    assert form.batch_size.value() == 64
    form.batch_size.setValue(100)
    form.batch_size.stepBy(-1)
    assert form.batch_size.value() == 64
    form.weight_decay.stepBy(-1)
    assert form.weight_decay.value() == 0.0  # never below the minimum
    form.momentum.setValue(0.5)
    form.momentum.stepBy(1)
    assert form.momentum.value() == pytest.approx(0.51)  # linear


def test_task_rows_follow_the_network(make_form, ctx, tiny_spec):
    form = make_form()
    layout: QFormLayout = form.layout_
    assert form.task == "classification"
    assert not layout.isRowVisible(form.box_loss) and not layout.isRowVisible(form.headings["Localization"])
    ctx.document.set("network", tiny_spec("shapes"))
    form.sync_from_document()
    assert form.task == "localization" and layout.isRowVisible(form.box_weight)
    assert layout.isRowVisible(form.headings["Localization"])
    form.box_loss.setCurrentIndex(form.box_loss.findData("giou"))
    assert ctx.document.get("training")["box_loss"] == "giou"


def test_a_new_option_appears_in_the_form_with_no_other_edit(make_form, ctx, monkeypatch):
    extra = ts.Option("warmup", "int", 0, "Warm-up epochs", "Epochs of a rising learning rate",
                      minimum=0, maximum=50, special="none", group="Schedule")
    monkeypatch.setattr(ts, "OPTIONS", (*ts.OPTIONS, extra))
    form = make_form()
    widget = form.widgets["warmup"]
    assert isinstance(widget, QSpinBox) and label_of(form, widget) == "Warm-up epochs"
    assert widget.maximum() == 50 and widget.specialValueText() == "none"
    widget.setValue(3)
    assert ctx.document.get("training")["warmup"] == 3
    ctx.undo_stack.undo()
    form.sync_from_document()  # as the Train workspace does on every change of the section
    assert "warmup" not in ctx.document.get("training") and widget.value() == 0


def test_values_of_a_hand_edited_project_show_and_bad_ones_fall_back(make_form, ctx):
    training = ctx.document.get("training")
    training.update(optimizer="sgd", epochs=7, mixed_precision=True, batch_size="many")
    del training["threads"]
    ctx.document.set("training", training)
    form = make_form()
    assert form.optimizer.currentData() == "sgd" and form.epochs.value() == 7 and form.mixed_precision.isChecked()
    assert form.threads.value() == 0 and form.threads.text() == "automatic"  # missing: the default
    assert form.batch_size.value() == ts.option("batch_size").default
