"""The Lab workspace: tabs, the shared model, the panda attack and the shift slider, a fairness run on the
workers module, and the transfer tab's freezable blocks."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def subject():
    from cnnstudio.ml.robustness.subject import drive, train_subject

    return drive(train_subject(training={"epochs": 1, "device": "cpu"}))


@pytest.fixture
def lab(make_workspace):
    return make_workspace("robustness", size=(1280, 720))


def test_tabs_and_the_model_bar(lab):
    titles = [lab.tabs.tabText(i) for i in range(lab.tabs.count())]
    assert titles == ["Transfer", "Adversarial", "Shifts", "Bias", "Fairness"]
    assert not lab.model_bar.isVisible()
    lab.tabs.setCurrentWidget(lab.adversarial)
    assert lab.model_bar.isVisible()
    assert not lab.adversarial.curve_button.isEnabled()  # no model yet
    assert lab.transfer.frozen() == ["c1", "c2", "c3"]  # the bundled backbone's body, frozen by default


def test_a_model_drives_the_attack_and_the_shift_slider(lab, subject):
    lab.set_subject(subject)
    adv = lab.adversarial
    assert adv.curve_button.isEnabled() and adv.example is not None
    adv.eps.setValue(0.0)
    assert adv.example.after == adv.example.before
    adv.eps.setValue(0.3)
    assert adv.example.eps == pytest.approx(0.3)
    adv.targeted.setChecked(True)
    assert adv.example.target == adv.target.currentData()
    shifts = lab.shifts
    shifts.slider.setValue(3)
    assert "shift +3 px" in shifts.tile.caption.text()
    assert "of prediction between neighbouring shifts" in shifts.sweep_label.text()
    assert not shifts.use_fixed.isEnabled()  # nothing retrained yet
    shifts._fixed(("shift", {"shift": 0.2}, [(0.0, 0.9)], subject.model))  # as fix_job returns
    assert shifts.use_fixed.isEnabled() and "after" in shifts.message.text()
    grab = lab.grab()
    assert grab.width() == 1280


def test_your_own_image_is_prepared_and_attacked(lab, subject, tmp_path):
    import cv2
    import numpy as np

    digit = subject.data.val_x[0, 0].numpy()
    paper = (255 - cv2.resize(digit, (84, 84)) * 255).astype(np.uint8)  # dark ink on light paper, as photographed
    path = tmp_path / "digit.png"
    cv2.imwrite(str(path), np.pad(paper, 30, constant_values=255))
    assert not lab.open_file(path)  # no model yet: a message, not an error
    assert "first" in lab.adversarial.message.text()
    lab.set_subject(subject)
    assert lab.open_file(path) and lab.tabs.currentWidget() is lab.adversarial
    adv = lab.adversarial
    assert adv.user_image is not None and tuple(adv.user_image.shape) == (1, 28, 28)
    assert float(adv.user_image.mean()) < 0.5  # inverted to light ink on dark, as the model was trained
    assert "your image" in adv.original.caption.text() and not adv.index.isEnabled()
    adv.back.click()
    assert adv.user_image is None and adv.index.isEnabled()
    (tmp_path / "broken.png").write_bytes(b"no image")
    assert not lab.open_file(tmp_path / "broken.png") and "not a readable image" in adv.message.text()


def test_fairness_runs_on_the_worker_and_fills_the_table(lab, qtbot):
    tab = lab.fairness
    lab.tabs.setCurrentWidget(tab)
    tab.epochs.setValue(2)
    tab.run()
    assert tab.stop_button.isEnabled()
    qtbot.waitUntil(lambda: tab.result is not None, timeout=60_000)
    qtbot.waitUntil(lambda: not lab.busy(), timeout=10_000)
    assert len(tab.history) == 4 and tab.table.item(1, 0) is not None
    assert "parity gap" in tab.message.text() and not tab.stop_button.isEnabled()


def test_fairness_without_the_adult_file_says_so(lab):
    tab = lab.fairness
    tab.source.setCurrentIndex(tab.source.findData("adult"))
    tab.run()
    assert "adult.data" in tab.message.text() and not lab.busy()


def test_the_torchvision_block_lists_match_the_models():
    from torchvision import models

    from cnnstudio.gui.workspaces.robustness.transfer_tab import _TORCHVISION_BLOCKS

    for name, blocks in _TORCHVISION_BLOCKS.items():
        model = models.get_model(name, weights=None)
        assert [n for n, m in model.named_children() if any(True for _ in m.parameters())] == blocks, name


def _fill_with_results(lab, subject) -> None:
    """Every tab as after its experiment, with results shaped as the jobs deliver them."""
    from types import SimpleNamespace

    import numpy as np

    from cnnstudio.gui.workspaces.robustness.fairness_tab import METRICS

    lab.set_subject(subject)  # the model bar's longest sentence
    t = lab.transfer
    t._curves = {"transfer": [], "scratch": []}
    t._items = {"transfer": t.plot.line("with transfer", 0), "scratch": t.plot.line("from scratch", 1)}
    for e in range(12):
        t._partial("epoch", ("transfer", 0.5 + e * 0.035))
        t._partial("epoch", ("scratch", 0.1 + e * 0.07))
    facts = {"transfer": SimpleNamespace(start=0.547, slope=0.151, asymptote=0.921),
             "scratch": SimpleNamespace(start=0.123, slope=0.193, asymptote=0.897)}
    t._done(SimpleNamespace(status="completed", facts=facts, train_size=150))
    rng = np.random.default_rng(0)
    images = rng.random((4, 3, 28, 28)).astype(np.float32)
    lab.bias._partial("data", {"train": images, "train_y": [1, 2, 3, 4], "test": images, "test_y": [5, 6, 7, 8]})
    for fix, val, test in (("none", 0.981, 0.501), ("augment", 0.975, 0.964), ("rebalance", 0.97, 0.755)):
        lab.bias._partial("result", {"fix": fix, "val": val, "test": test, "saliency": 0.248, "area": 0.39,
                                     "heats": list(rng.random((4, 28, 28)))})
    lab.bias._done(lab.bias.results)
    keys = [key for key, _title in METRICS]
    lab.fairness._done(SimpleNamespace(before=dict(zip(keys, (0.861, 0.129, 0.115, 0.21, 0.34, 0.71))),
                                       after=dict(zip(keys, (0.831, 0.002, 0.267, 0.3, 0.3, 0.52)))))
    lab.shifts._fixed(("shift", {"shift": 0.2}, [(a, 0.9) for a in (-6, -4, -3, -2, -1, 0, 1, 2, 3, 4, 6)],
                       subject.model))


def test_the_lab_with_results_fits_1280x720_at_11pt(main_window, qtbot, subject):
    """Results (long model name, saliency grids, tables) neither clip nor widen the window at 11 pt."""
    from PySide6.QtWidgets import QApplication

    from cnnstudio.gui.layout_check import layout_problems

    original = QApplication.font()
    font = QApplication.font()
    font.setPointSizeF(11.0)
    QApplication.setFont(font)
    try:
        main_window.resize(1280, 720)
        lab = main_window.show_workspace("robustness")
        _fill_with_results(lab, subject)
        problems = []
        for index in range(lab.tabs.count()):
            lab.tabs.setCurrentIndex(index)
            qtbot.wait(10)
            problems += [f"{lab.tabs.tabText(index)}: {p}" for p in layout_problems(lab)]
            assert (main_window.width(), main_window.height()) == (1280, 720), lab.tabs.tabText(index)
        assert not problems, "\n".join(problems)
        assert lab.transfer.blocks.height() >= 5 * lab.transfer.blocks.sizeHintForRow(0)  # not squeezed
    finally:
        QApplication.setFont(original)


def test_the_lab_plots_follow_the_palette_and_keep_their_scale(lab, qtbot):
    from PySide6.QtGui import QColor, QPalette

    from cnnstudio.gui.main_window import apply_theme

    plot = lab.adversarial.plot
    lab.tabs.setCurrentWidget(lab.adversarial)
    assert not plot.legend.isVisible()  # no empty legend frame before a curve exists
    try:
        apply_theme("dark")
        qtbot.wait(10)
        assert plot.backgroundBrush().color() == plot.palette().color(QPalette.ColorRole.Base)
        assert plot.getPlotItem().getAxis("bottom").autoSIPrefixScale == 1.0  # epsilon 0-0.3, not 0-300
        plot.line("FGSM", 0)
        assert plot.legend.isVisible()
        label = plot.legend.items[0][1]
        assert QColor(label.opts["color"]).name() == plot.palette().color(QPalette.ColorRole.Text).name()
    finally:
        apply_theme("light")
