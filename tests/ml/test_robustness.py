"""The robustness lab: FGSM/PGD, natural transformations, the coloured-digits bias and adversarial fairness."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnstudio.core.errors import UserError
from cnnstudio.ml.robustness import attacks as A
from cnnstudio.ml.robustness import transforms as T
from cnnstudio.ml.robustness.subject import accuracy, drive, train_subject


@pytest.fixture(scope="module")
def digits_model():
    """LeNet-5 trained briefly on the digits (about 95% validation accuracy), first 80 validation images."""
    subject = drive(train_subject(training={"epochs": 3, "device": "cpu"}))
    return subject, subject.data.val_x[:80], subject.data.val_y[:80]


def test_fgsm_with_eps_zero_changes_nothing_and_attacks_stay_in_the_box(digits_model):
    subject, x, y = digits_model
    assert torch.equal(A.fgsm(subject.model, x, y, 0.0), x)
    for adv in (A.fgsm(subject.model, x, y, 0.1), A.pgd(subject.model, x, y, 0.1, steps=3)):
        assert float((adv - x).abs().max()) <= 0.1 + 1e-6
        assert float(adv.min()) >= 0.0 and float(adv.max()) <= 1.0
        assert not torch.equal(adv, x)


def test_pgd_lowers_accuracy_and_targeted_pgd_hits_the_target(digits_model):
    subject, x, y = digits_model
    clean = accuracy(subject.model, x, y)
    assert clean > 0.8
    attacked = A.accuracy_under_attack(subject.model, x, y, 0.15, "pgd", steps=5)
    assert attacked["accuracy"] < clean - 0.3
    target = (y + 1) % 10
    with torch.no_grad():
        clean_hits = float((subject.model(x).argmax(1) == target).float().mean())
    hit = A.accuracy_under_attack(subject.model, x, y, 0.25, "pgd", target=target, steps=6)["target_hit"]
    assert hit > clean_hits + 0.3


def test_attack_example_reports_before_and_after(digits_model):
    subject, x, y = digits_model
    ex = A.attack_example(subject.model, x[0], int(y[0]), "fgsm", 0.3)
    assert ex.before == int(y[0]) and ex.after != ex.before
    amp = ex.amplified()
    assert amp.shape == ex.image.shape and amp.min() >= 0 and amp.max() <= 1
    rows = list(A.epsilon_curve(subject.model, x[:40], y[:40], [0.0, 0.2], "fgsm"))
    assert rows[0]["accuracy"] >= rows[1]["accuracy"]


def test_transformations_are_exact_at_identity_and_shift_moves_pixels():
    x = torch.rand(3, 1, 10, 10)
    for name, t in T.TRANSFORMATIONS.items():
        assert torch.allclose(T.apply(name, x, t.identity), x, atol=1e-5), name
    shifted = T.shift_pixels(x, 2, 0)
    assert torch.equal(shifted[..., 2:], x[..., :-2]) and float(shifted[..., :2].abs().sum()) == 0
    assert torch.equal(T.shift_pixels(x, -1, 1)[..., 1:, :-1], x[..., :-1, 1:])
    assert float(T.apply("blur", x, 2.0).std()) < float(x.std())
    assert set(T.FIXES) == set(T.TRANSFORMATIONS)


def test_accuracy_curves_and_the_one_pixel_sweep(digits_model):
    subject, x, y = digits_model
    curve = T.accuracy_curve(subject.model, x, y, "shift", [-4, 0, 4])
    assert [a for a, _ in curve] == [-4, 0, 4] and curve[1][1] > curve[0][1]
    sweep = T.shift_sweep(subject.model, x[0], 3)
    assert [s["shift"] for s in sweep] == list(range(-3, 4)) and 0 <= T.prediction_flips(sweep) <= 6


def test_coloured_digits_carry_the_cue_in_training_only():
    from cnnstudio.ml.robustness.bias import biased_digits, cue_colours, rebalanced

    colours = cue_colours()
    luma = colours @ np.array([0.299, 0.587, 0.114])
    assert np.allclose(luma, luma[0], atol=0.02)  # one luma: a hue rotation maps colour onto colour
    data = biased_digits(0.9, seed=0)
    y = data.bundle.train_y.numpy()
    assert 0.85 < float((data.train_colour == y).mean()) < 0.95
    corner = data.test_x[:, :, 0, 0].numpy()  # background pixel
    hits = np.all(np.abs(corner - colours[data.test_y.numpy()]) < 1e-4, axis=1)
    assert hits.mean() < 0.25  # test colours are independent of the class (~10%)
    fair = rebalanced(data)
    assert len(fair.train_y) > 0.5 * len(y)


@pytest.mark.slow
def test_the_cue_costs_accuracy_and_hue_augmentation_recovers_it():
    from cnnstudio.ml.robustness.bias import biased_digits, train_bias

    data = biased_digits(0.99, seed=0)
    quick = {"epochs": 2, "device": "cpu", "batch_size": 128, "lr": 0.005}
    base = drive(train_bias(data, "none", quick))
    fixed = drive(train_bias(data, "augment", quick))
    assert base.val_accuracy - base.test_accuracy > 0.2
    assert fixed.test_accuracy > base.test_accuracy + 0.15
    assert 0 <= base.background_saliency <= 1
    with pytest.raises(UserError):
        drive(train_bias(data, "magic"))


def test_fairness_gaps_by_hand():
    from cnnstudio.ml.robustness.fairness import fairness_gaps

    pred = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    y = np.array([1, 0, 1, 0, 1, 0, 1, 0])
    a = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    m = fairness_gaps(pred, y, a)
    assert m["parity_gap"] == pytest.approx(0.5 - 0.25)
    assert m["tpr_gap"] == pytest.approx(0.0) and m["fpr_gap"] == pytest.approx(0.5)
    assert m["odds_gap"] == pytest.approx(0.5)


ADULT_ROWS = [
    "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40, United-States, <=50K",
    "50, Self-emp-not-inc, 83311, Bachelors, 13, Married-civ-spouse, Exec-managerial, Husband, White, Male, 0, 0, 13, United-States, >50K",
    "38, Private, 215646, HS-grad, 9, Divorced, Handlers-cleaners, Not-in-family, Black, Female, 0, 0, 40, ?, <=50K",
    "53, ?, 234721, 11th, 7, Married-civ-spouse, ?, Husband, Black, Male, 0, 0, 40, United-States, >50K.",
    "28, Private, 338409, Bachelors, 13, Married-civ-spouse, Prof-specialty, Wife, Black, Female, 0, 0, 40, Cuba, <=50K",
]


def test_the_adult_loader_reads_the_uci_format(tmp_path):
    from cnnstudio.ml.robustness.fairness import ADULT_NUMERIC, load_adult

    rows = [ADULT_ROWS[i % len(ADULT_ROWS)] for i in range(40)] + ["", "broken, row"]
    path = tmp_path / "adult.data"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    test = tmp_path / "adult.test"
    test.write_text("|1x3 Cross validator\n" + "\n".join(ADULT_ROWS) + "\n", encoding="utf-8")
    data = load_adult(path, test)
    assert data.train_x.shape[0] == 40 and data.test_x.shape[0] == 5 and data.skipped == 1
    assert data.test_y.tolist() == [0, 1, 0, 1, 0]  # ">50K." counts as >50K
    assert data.test_a.tolist() == [0, 0, 1, 0, 1]  # a = Female
    assert not any(name.startswith("sex=") for name in data.features)  # protected: not a feature
    assert "workclass=?" in data.features and data.features[:len(ADULT_NUMERIC)] == list(ADULT_NUMERIC)
    assert torch.isfinite(data.train_x).all()
    split = load_adult(path, seed=1)
    assert len(split.train_y) + len(split.test_y) == 40
    with pytest.raises(UserError):
        load_adult(tmp_path / "missing.csv")


def test_adversarial_training_narrows_the_parity_gap():
    from cnnstudio.ml.robustness.fairness import generated_income, train_fair

    data = generated_income(n=3000, seed=0)
    result = drive(train_fair(data, "parity", alpha=1.0, epochs=8, adversarial_epochs=8))
    assert result.before["parity_gap"] > 0.08
    assert result.after["parity_gap"] < result.before["parity_gap"] - 0.03
    assert result.after["accuracy"] > 0.7
    assert [e.phase for e in result.history].count("adversarial") == 8


def test_the_png_charts(tmp_path):
    import cv2

    from cnnstudio.ml.robustness.chart import bar_chart, image_row, line_chart

    p = line_chart({"a": ([0, 1, 2], [0.1, 0.5, 0.9]), "b": ([0, 1, 2], [0.2, float("nan"), 0.3])},
                   tmp_path / "l.png", title="t", size=(400, 300))
    assert cv2.imread(str(p)).shape == (300, 400, 3)
    assert cv2.imread(str(bar_chart({"g": {"x": 0.5}}, tmp_path / "b.png"))) is not None
    assert cv2.imread(str(image_row([(np.zeros((1, 8, 8)), "x")], tmp_path / "i.png", cell=32))) is not None
