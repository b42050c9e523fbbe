"""The Lab's background work: plain generators run by the workspace's WorkerGroup (cnnstudio.gui.workers).

Each job yields :class:`Step` (progress for the ProgressLine) and :class:`Partial` (a result to draw now,
e.g. one more point of a curve), and returns its final result. Nothing here touches a widget; torch and
the ml modules are imported inside the jobs, on the worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Step:
    fraction: float  # of the whole job, 0..1
    text: str


@dataclass(frozen=True)
class Partial:
    kind: str
    value: Any


def _training_steps(gen, start: float, span: float, label: str, control=None):
    """Re-yield a trainer-event generator as Steps between ``start`` and ``start + span``; return its value."""
    from cnnstudio.ml.train_events import BatchEnd, EpochEnd

    while True:
        try:
            event = next(gen)
        except StopIteration as stop:
            return stop.value
        if isinstance(event, BatchEnd):
            frac = event.images_done / max(1, event.images_total)
            yield Step(start + span * frac, f"{label}: epoch {event.epoch}/{event.epochs}")
        elif isinstance(event, EpochEnd):
            yield Partial("epoch", (label, dict(event.metrics)))


def train_subject_job(control, spec=None, data_config=None, training=None):
    from cnnstudio.ml.robustness.subject import DEFAULT_SPEC, train_subject

    gen = train_subject(spec or DEFAULT_SPEC, data_config, training, control=control)
    return (yield from _training_steps(gen, 0.0, 1.0, "Training LeNet-5 on the digits"))


def subject_from_run_job(path: str):
    from cnnstudio.ml.robustness.subject import subject_from_run

    yield Step(0.1, f"Loading {path}")
    return subject_from_run(path)


def transfer_job(control, backbone_source: str, weights: str | None, frozen: list[str], per_class: int,
                 training: dict, finetune_epochs: int, finetune_factor: float):
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.train_events import BatchEnd, EpochEnd
    from cnnstudio.ml.transfer.backbones import load_backbone
    from cnnstudio.ml.transfer.compare import compare, few_labels

    yield Step(0.0, "Loading the backbone and the digits")
    backbone = load_backbone(backbone_source, weights)
    data = few_labels(load_dataset({"source": "digits"}), per_class, int(training.get("seed", 0)))
    data = data.fit_to(*backbone.input_shape)
    gen = compare(backbone, data, training, frozen, finetune_epochs=finetune_epochs,
                  finetune_lr_factor=finetune_factor, control=control)
    total = 2 * (int(training["epochs"]) + finetune_epochs)
    done_epochs = 0
    while True:
        try:
            progress = next(gen)
        except StopIteration as stop:
            return stop.value
        event = progress.event
        if isinstance(event, BatchEnd):
            frac = (done_epochs + event.batch / max(1, event.batches)) / total
            yield Step(frac, f"{'With transfer' if progress.which == 'transfer' else 'From scratch'}"
                             f" ({progress.stage}): epoch {event.epoch}/{event.epochs}")
        elif isinstance(event, EpochEnd):
            done_epochs += 1
            yield Partial("epoch", (progress.which, float(event.metrics["val_accuracy"])))


def download_job(name: str):
    from cnnstudio.ml.transfer.backbones import download_weights

    gen = download_weights(name)
    while True:
        try:
            p = next(gen)
        except StopIteration as stop:
            return str(stop.value)
        mb = p.done / 1e6
        yield Step(p.done / p.total if p.total else 0.0,
                   f"Downloading {name}: {mb:.1f} of {p.total / 1e6:.1f} MB" if p.total else f"{mb:.1f} MB")


def epsilon_job(subject, epsilons: list[float], steps: int = 10):
    from cnnstudio.ml.robustness.attacks import epsilon_curve

    x, y = subject.data.val_x, subject.data.val_y
    runs = (("FGSM", "fgsm", False), ("PGD", "pgd", False), ("PGD targeted", "pgd", True))
    total = len(runs) * len(epsilons)
    out: dict[str, list[dict]] = {}
    for r, (label, kind, targeted) in enumerate(runs):
        out[label] = []
        for i, row in enumerate(epsilon_curve(subject.model, x, y, epsilons, kind, targeted, steps)):
            out[label].append(row)
            yield Partial("eps", (label, row))
            yield Step((r * len(epsilons) + i + 1) / total, f"{label}: epsilon {row['eps']:g}")
    return out


def transforms_job(subject, kinds: list[str]):
    from cnnstudio.ml.robustness.transforms import accuracy_curve

    out = {}
    for i, kind in enumerate(kinds):
        yield Step(i / len(kinds), f"Measuring {kind}")
        out[kind] = accuracy_curve(subject.model, subject.data.val_x, subject.data.val_y, kind)
        yield Partial("curve", (kind, out[kind]))
    return out


def fix_job(control, subject, kind: str):
    from cnnstudio.core.errors import UserError
    from cnnstudio.ml.robustness.subject import train_subject
    from cnnstudio.ml.robustness.transforms import FIXES, accuracy_curve

    augment = FIXES[kind]
    if augment is None:
        raise UserError(f"The augmentation pipeline has nothing that matches {kind}.")
    gen = train_subject(subject.spec, subject.data_config, subject.training, augment=augment, control=control)
    fixed = yield from _training_steps(gen, 0.0, 0.95, f"Retraining with {augment}")
    yield Step(0.97, "Measuring again")
    return kind, augment, accuracy_curve(fixed.model, subject.data.val_x, subject.data.val_y, kind), fixed.model


def bias_job(control, correlation: float, fixes: list[str], training: dict):
    from cnnstudio.ml.inspect.saliency import gradient_saliency
    from cnnstudio.ml.robustness.bias import biased_digits, train_bias

    yield Step(0.0, "Colouring the digits")
    data = biased_digits(correlation, int(training.get("seed", 0)))
    yield Partial("data", {"train": data.bundle.train_x[:8].numpy(), "train_y": data.bundle.train_y[:8].numpy(),
                           "test": data.test_x[:8].numpy(), "test_y": data.test_y[:8].numpy()})
    results = []
    for i, fix in enumerate(fixes):
        gen = train_bias(data, fix, training, control)
        result = yield from _training_steps(gen, i / len(fixes), 1 / len(fixes), f"Training ({fix})")
        heats = [gradient_saliency(result.subject.model, data.test_x[k:k + 1]).heat for k in range(4)]
        summary = {"fix": fix, "val": result.val_accuracy, "test": result.test_accuracy,
                   "saliency": result.background_saliency, "area": result.background_area, "heats": heats}
        results.append(summary)
        yield Partial("result", summary)
    return results


def fairness_job(control, source: str, adult: str, adult_test: str, protected: str, objective: str,
                 alpha: float, epochs: int, seed: int):
    from cnnstudio.ml.robustness.fairness import generated_income, load_adult, train_fair

    yield Step(0.0, "Loading the data")
    data = (load_adult(adult, adult_test or None, seed, protected=protected) if source == "adult"
            else generated_income(seed=seed))
    yield Partial("data", (data.name, data.protected, data.label, len(data.train_y), len(data.test_y)))
    gen = train_fair(data, objective, alpha, epochs, epochs, seed=seed, control=control)
    while True:
        try:
            ev = next(gen)
        except StopIteration as stop:
            return stop.value
        done = ev.epoch + (epochs if ev.phase == "adversarial" else 0)
        yield Partial("epoch", ev)
        yield Step(done / (2 * epochs), f"{ev.phase.capitalize()} training: epoch {ev.epoch}/{ev.epochs}")
