"""Adversarial fairness (Zhang, Lemoine & Mitchell 2018, "Mitigating unwanted biases with adversarial
learning"), the lecture's income demo.

A classifier predicts the label; an adversary tries to predict the protected attribute from the
classifier's output (demographic parity) or from the output and the true label (equalized odds).
The classifier's update is the paper's: ``grad L_P - proj_{grad L_A} grad L_P - alpha * grad L_A``, so it
never moves in a direction that helps the adversary, with the paper's schedule (learning rate ~ 1/t,
alpha ~ sqrt(t) over the adversarial epochs t) so that the game settles. Data: a built-in generated set with a protected
attribute and a proxy feature, or the UCI Adult CSV (``adult.data`` / ``adult.test``) when the user has it.
"""

from __future__ import annotations

import csv
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnstudio.core.errors import UserError

ADULT_COLUMNS = (
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income",
)
ADULT_NUMERIC = ("age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week")
OBJECTIVES = {"parity": "Demographic parity (adversary sees the output)",
              "odds": "Equalized odds (adversary sees the output and the true label)"}


@dataclass
class TabularData:
    train_x: torch.Tensor  # float32 (N, F), standardised with the training statistics
    train_y: torch.Tensor  # float32 (N,) 0/1
    train_a: torch.Tensor  # float32 (N,) 0/1 protected attribute
    test_x: torch.Tensor
    test_y: torch.Tensor
    test_a: torch.Tensor
    features: list[str]
    name: str
    protected: str  # what a = 1 means, e.g. "sex = Female"
    label: str  # what y = 1 means
    skipped: int = 0


def _standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = train.mean(0), train.std(0)
    std[std < 1e-8] = 1.0
    return (train - mean) / std, (test - mean) / std


def _tensors(x_tr, y_tr, a_tr, x_te, y_te, a_te, **kw) -> TabularData:
    x_tr, x_te = _standardise(x_tr.astype(np.float64), x_te.astype(np.float64))
    f = lambda v: torch.from_numpy(np.asarray(v, dtype=np.float32))  # noqa: E731
    return TabularData(f(x_tr), f(y_tr), f(a_tr), f(x_te), f(y_te), f(a_te), **kw)


def generated_income(n: int = 6000, seed: int = 0, test_fraction: float = 0.3) -> TabularData:
    """A built-in "income" set: the label depends on skill and, through historical bias, on the group;
    the group itself is not a feature, but a proxy feature ("neighbourhood") correlates with it."""
    rng = np.random.default_rng(seed)
    a = (rng.random(n) < 0.5).astype(np.float64)
    skill = rng.standard_normal(n)
    hours = rng.standard_normal(n)
    neighbourhood = 1.5 * a + rng.standard_normal(n)
    education = 0.5 * skill + rng.standard_normal(n) * 0.8
    noise = rng.standard_normal((n, 2))
    y = (skill + 0.5 * hours + 1.0 * a + 0.4 * rng.standard_normal(n) > 0.8).astype(np.float64)
    x = np.column_stack([skill, hours, neighbourhood, education, noise])
    cut = int(n * (1 - test_fraction))
    return _tensors(x[:cut], y[:cut], a[:cut], x[cut:], y[cut:], a[cut:],
                    features=["skill", "hours", "neighbourhood", "education", "noise1", "noise2"],
                    name="generated income", protected="group = 1", label="high income")


def _read_adult_rows(path: Path) -> tuple[list[list[str]], int]:
    rows, skipped = [], 0
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            for raw in csv.reader(f):
                cells = [c.strip() for c in raw]
                if not cells or all(not c for c in cells) or cells[0].startswith("|"):
                    continue
                if len(cells) != len(ADULT_COLUMNS):
                    skipped += 1
                    continue
                rows.append(cells)
    except OSError as exc:
        raise UserError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    return rows, skipped


def load_adult(path: str | Path, test_path: str | Path | None = None, seed: int = 0,
               test_fraction: float = 0.3, protected: str = "sex") -> TabularData:
    """The UCI Adult CSV (15 columns, no header, "?" for missing) as standardised tensors.

    The label is income > 50K (``>50K`` or ``>50K.`` as in adult.test); the protected attribute
    (``sex``: a = 1 for Female, or ``race``: a = 1 for anything but White) is not a feature. With only one
    file a seeded ``test_fraction`` is held out. Missing categorical values are their own category.
    """
    p = Path(path)
    if not p.is_file():
        raise UserError(f"The Adult file {p} does not exist.")
    if protected not in ("sex", "race"):
        raise UserError(f"The protected attribute must be sex or race, not {protected!r}.")
    rows, skipped = _read_adult_rows(p)
    if test_path is not None:
        test_rows, more = _read_adult_rows(Path(test_path))
        skipped += more
    else:
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(rows))
        cut = int(round(len(rows) * (1 - test_fraction)))
        test_rows = [rows[i] for i in order[cut:]]
        rows = [rows[i] for i in order[:cut]]
    if len(rows) < 10 or len(test_rows) < 2:
        raise UserError(f"{p} has {len(rows) + len(test_rows)} usable rows; is it the Adult CSV "
                        "(15 comma-separated columns, no header)?")
    col = {name: i for i, name in enumerate(ADULT_COLUMNS)}
    categorical = [c for c in ADULT_COLUMNS if c not in ADULT_NUMERIC and c not in ("income", protected)]
    categories = {c: sorted({r[col[c]] for r in rows}) for c in categorical}
    names = list(ADULT_NUMERIC) + [f"{c}={v}" for c in categorical for v in categories[c]]

    def encode(part: list[list[str]]):
        x = np.zeros((len(part), len(names)), dtype=np.float64)
        y = np.zeros(len(part))
        a = np.zeros(len(part))
        index = {n: i for i, n in enumerate(names)}
        for r, cells in enumerate(part):
            for j, c in enumerate(ADULT_NUMERIC):
                try:
                    x[r, j] = float(cells[col[c]])
                except ValueError:
                    x[r, j] = np.nan
            for c in categorical:
                k = index.get(f"{c}={cells[col[c]]}")
                if k is not None:
                    x[r, k] = 1.0
            y[r] = 1.0 if cells[col["income"]].rstrip(".").strip() == ">50K" else 0.0
            value = cells[col[protected]]
            a[r] = float(value == "Female") if protected == "sex" else float(value != "White")
        return x, y, a

    x_tr, y_tr, a_tr = encode(rows)
    x_te, y_te, a_te = encode(test_rows)
    medians = np.nanmedian(x_tr[:, :len(ADULT_NUMERIC)], axis=0)
    for x in (x_tr, x_te):  # a "?" in a numeric column: the training median
        block = x[:, :len(ADULT_NUMERIC)]
        bad = np.isnan(block)
        block[bad] = np.take(np.nan_to_num(medians), np.nonzero(bad)[1])
    who = "sex = Female" if protected == "sex" else "race other than White"
    return _tensors(x_tr, y_tr, a_tr, x_te, y_te, a_te, features=names, name=f"UCI Adult ({p.name})",
                    protected=who, label="income > 50K", skipped=skipped)


# --- metrics -----------------------------------------------------------------------------------------
def fairness_gaps(pred: np.ndarray, y: np.ndarray, a: np.ndarray) -> dict:
    """Accuracy, demographic-parity gap and equalized-odds gap of 0/1 predictions."""
    pred, y, a = (np.asarray(v).astype(bool) for v in (pred, y, a))

    def rate(mask):
        return float(pred[mask].mean()) if mask.any() else float("nan")

    dp = abs(rate(a) - rate(~a))
    tpr = abs(rate(a & y) - rate(~a & y))
    fpr = abs(rate(a & ~y) - rate(~a & ~y))
    return {"accuracy": float((pred == y).mean()), "parity_gap": dp, "odds_gap": float(np.nanmax([tpr, fpr])),
            "tpr_gap": tpr, "fpr_gap": fpr, "positive_rate_protected": rate(a), "positive_rate_other": rate(~a)}


# --- the two networks and the training ---------------------------------------------------------------
def classifier(features: int, hidden: int = 32) -> nn.Module:
    return nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, 1))


class Adversary(nn.Module):
    """Predicts the protected attribute from the classifier's logit (and, for equalized odds, the label)."""

    def __init__(self, objective: str = "parity", hidden: int = 16):
        super().__init__()
        self.objective = objective
        inputs = 1 if objective == "parity" else 3
        self.net = nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, logit: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        s = torch.sigmoid(logit)
        z = s if self.objective == "parity" else torch.cat([s, s * y[:, None], s * (1 - y[:, None])], 1)
        return self.net(z).squeeze(1)


@dataclass(frozen=True)
class FairnessEpoch:
    phase: str  # "baseline" or "adversarial"
    epoch: int
    epochs: int
    metrics: dict  # test metrics (fairness_gaps) + "adversary_accuracy"


@dataclass
class FairnessResult:
    before: dict
    after: dict
    history: list[FairnessEpoch] = field(default_factory=list)
    objective: str = "parity"
    alpha: float = 1.0


def _evaluate(clf, adv, x, y, a) -> dict:
    clf.eval()
    with torch.no_grad():
        logit = clf(x)
        m = fairness_gaps((logit.squeeze(1) > 0).numpy(), y.numpy(), a.numpy())
        if adv is not None:
            m["adversary_accuracy"] = float(((adv(logit, y) > 0).float() == a).float().mean())
    clf.train()
    return m


def train_fair(data: TabularData, objective: str = "parity", alpha: float = 1.0, epochs: int = 20,
               adversarial_epochs: int = 20, batch_size: int = 128, lr: float = 0.002, seed: int = 0,
               control=None) -> Generator[FairnessEpoch, None, FairnessResult]:
    """Train a baseline classifier for ``epochs``, then the same one against the adversary for
    ``adversarial_epochs``; yields test metrics per epoch and returns the gaps before and after."""
    if objective not in OBJECTIVES:
        raise UserError(f"Unknown fairness objective {objective!r}: choose parity or odds.")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # networks this small run many times faster on one thread than on several
    try:
        result = yield from _train_fair(data, objective, alpha, epochs, adversarial_epochs, batch_size, lr,
                                        seed, control)
    finally:
        torch.set_num_threads(threads)
    return result


def _train_fair(data, objective, alpha, epochs, adversarial_epochs, batch_size, lr, seed, control):
    torch.manual_seed(seed)
    n, features = data.train_x.shape
    clf = classifier(features)
    adv = Adversary(objective)
    opt_c = torch.optim.Adam(clf.parameters(), lr=lr)
    opt_a = torch.optim.Adam(adv.parameters(), lr=lr * 2)
    gen = torch.Generator().manual_seed(seed)
    history: list[FairnessEpoch] = []
    x, y, a = data.train_x, data.train_y, data.train_a
    params = list(clf.parameters())

    def batches():
        perm = torch.randperm(n, generator=gen)
        for s in range(0, n, batch_size):
            yield perm[s:s + batch_size]

    for epoch in range(1, epochs + 1):
        for idx in batches():
            loss = F.binary_cross_entropy_with_logits(clf(x[idx]).squeeze(1), y[idx])
            opt_c.zero_grad()
            loss.backward()
            opt_c.step()
            with torch.no_grad():
                logit = clf(x[idx])
            loss_a = F.binary_cross_entropy_with_logits(adv(logit, y[idx]), a[idx])  # the adversary watches
            opt_a.zero_grad()
            loss_a.backward()
            opt_a.step()
        if control is not None and control.cancelled:
            break
        ev = FairnessEpoch("baseline", epoch, epochs, _evaluate(clf, adv, data.test_x, data.test_y, data.test_a))
        history.append(ev)
        yield ev
    before = history[-1].metrics if history else _evaluate(clf, adv, data.test_x, data.test_y, data.test_a)
    for epoch in range(1, adversarial_epochs + 1):
        if control is not None and control.cancelled:
            break
        # the paper's schedule: learning rate ~ 1/t and adversary weight ~ sqrt(t) make the game settle
        for group in opt_c.param_groups:
            group["lr"] = lr / epoch
        weight = alpha * epoch ** 0.5
        for idx in batches():
            logit = clf(x[idx])
            loss_a = F.binary_cross_entropy_with_logits(adv(logit.detach(), y[idx]), a[idx])
            opt_a.zero_grad()
            loss_a.backward()
            opt_a.step()
            logit = clf(x[idx])
            loss_p = F.binary_cross_entropy_with_logits(logit.squeeze(1), y[idx])
            loss_adv = F.binary_cross_entropy_with_logits(adv(logit, y[idx]), a[idx])
            g_p = torch.autograd.grad(loss_p, params, retain_graph=True)
            g_a = torch.autograd.grad(loss_adv, params)
            flat_p = torch.cat([g.flatten() for g in g_p])
            flat_a = torch.cat([g.flatten() for g in g_a])
            unit = flat_a / (flat_a.norm() + 1e-12)
            step = flat_p - (flat_p @ unit) * unit - weight * flat_a  # the paper's projected update
            offset = 0
            for p in params:
                k = p.numel()
                p.grad = step[offset:offset + k].view_as(p).clone()
                offset += k
            opt_c.step()
        ev = FairnessEpoch("adversarial", epoch, adversarial_epochs,
                           _evaluate(clf, adv, data.test_x, data.test_y, data.test_a))
        history.append(ev)
        yield ev
    after = history[-1].metrics if history and history[-1].phase == "adversarial" else before
    return FairnessResult(before, after, history, objective, alpha)
