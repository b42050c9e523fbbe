"""``cnnstudio robustness``: adversarial examples, natural transformations, dataset bias, adversarial fairness."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cnnstudio.core.errors import UserError

NAME = "robustness"
ORDER = 46
HELP = "the robustness lab: adversarial examples, shifts and other transformations, dataset bias, fairness"
DESCRIPTION = (
    "Where networks fail (the lecture's 'NN failures'). Each experiment prints a table and writes PNG plots "
    "into --out. Without --model, adversarial and shifts first train LeNet-5 on the digits (a few seconds)."
)
EXPERIMENTS = ("adversarial", "shifts", "bias", "fairness")
#: the training options of every experiment (the settings schema's flags)
TRAINING = ("epochs", "seed")
#: each experiment's default epochs and what they count
EPOCHS = {
    "adversarial": (6, "of the model trained here without --model"),
    "shifts": (6, "of the model trained here without --model"),
    "bias": (6, "of each training"),
    "fairness": (15, "before the adversary, then again with it"),
}


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UserError(f"Expected comma-separated numbers, not {text!r}.") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from cnnstudio.commands.train import add_training_flags

    sub = parser.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", default="lab", metavar="DIR", help="folder for the PNG plots and JSON (default lab)")
    common.add_argument("--json", action="store_true", help="print the result as one JSON object")
    model = argparse.ArgumentParser(add_help=False)
    model.add_argument("--model", metavar="RUN_DIR", help="a run folder (default: train LeNet-5 on the digits first)")
    model.add_argument("--index", type=int, default=0, help="the validation image to show (default 0)")
    model.add_argument("--images", type=int, default=0, metavar="N",
                       help="measure on the first N validation images only (default 0: all)")

    p = sub.add_parser("adversarial", parents=[common, model], help="FGSM and PGD, accuracy against epsilon")
    p.add_argument("--attack", choices=["fgsm", "pgd"], default="fgsm", help="attack of the single example")
    p.add_argument("--eps", default="0,0.02,0.05,0.1,0.15,0.2,0.3", help="epsilons (pixel scale 0..1)")
    p.add_argument("--example-eps", type=float, default=0.15, help="epsilon of the single example (default 0.15)")
    p.add_argument("--target", type=int, help="targeted attack of the example towards this class index")
    p.add_argument("--image", metavar="FILE", help="attack this image file instead of validation image --index")
    p.add_argument("--steps", type=int, default=10, help="PGD steps (default 10)")

    p = sub.add_parser("shifts", parents=[common, model],
                       help="accuracy against shift, rotation, scale, noise, blur, brightness; --fix retrains")
    p.add_argument("--kinds", default="shift,rotation,scale,noise,blur,brightness", help="transformations")
    p.add_argument("--fix", action="store_true", help="retrain with the matching augmentation and compare")

    p = sub.add_parser("bias", parents=[common], help="a spurious colour cue: accuracy drop, saliency, recovery")
    p.add_argument("--correlation", type=float, default=0.98, help="share of training images with the class colour")
    p.add_argument("--fixes", default="none,augment,rebalance", help="none, augment, rebalance (comma-separated)")

    p = sub.add_parser("fairness", parents=[common], help="adversarial debiasing: parity and equalized-odds gaps")
    p.add_argument("--adult", metavar="CSV", help="the UCI Adult adult.data file (default: a generated data set)")
    p.add_argument("--adult-test", metavar="CSV", help="adult.test (default: hold out 30%% of --adult)")
    p.add_argument("--protected", choices=["sex", "race"], default="sex", help="protected attribute for Adult")
    p.add_argument("--objective", choices=["parity", "odds"], default="parity",
                   help="parity: adversary sees the output; odds: the output and the label")
    p.add_argument("--alpha", type=float, default=1.0, help="weight of the adversary in the update (default 1)")
    for experiment, p in sub.choices.items():
        epochs, counts = EPOCHS[experiment]
        add_training_flags(p, only=TRAINING, defaults={"epochs": epochs}, notes={"epochs": counts})


# --- shared --------------------------------------------------------------------------------------
def _drive(gen, label: str):
    """Run a generator of trainer events with a progress bar; return its value."""
    from cnnstudio.commands._output import ProgressBar
    from cnnstudio.ml.trainer import BatchEnd, Started

    bar = None
    while True:
        try:
            event = next(gen)
        except StopIteration as stop:
            if bar is not None:
                bar.close()
            return stop.value
        if isinstance(event, Started):
            bar = ProgressBar(event.epochs * event.batches_per_epoch, label, "batch")
        elif isinstance(event, BatchEnd) and bar is not None:
            bar.update(advance=1, suffix=f"epoch {event.epoch}/{event.epochs}")


def _subject(args):
    from cnnstudio.ml.robustness.subject import subject_from_run, train_subject

    if args.model:
        return subject_from_run(args.model)
    return _drive(train_subject(training={"epochs": args.epochs, "seed": args.seed}), "training LeNet-5 on digits")


def _validation(subject, images: int):
    if images < 0:
        raise UserError("--images must be 0 (all) or more.")
    x, y = subject.data.val_x, subject.data.val_y
    return (x[:images], y[:images]) if images else (x, y)


def _image(subject, index: int):
    data = subject.data
    if not 0 <= index < len(data.val_x):
        raise UserError(f"--index must be from 0 to {len(data.val_x) - 1}.")
    return data.val_x[index], int(data.val_y[index])


def _finish(args, name: str, summary: dict, text: str) -> int:
    from cnnstudio.commands._output import print_json
    from cnnstudio.core.fileio import atomic_write_text

    atomic_write_text(Path(args.out) / f"{name}.json", json.dumps(summary, indent=2, default=float))
    if args.json:
        print_json(summary)
    else:
        print(text)
    return 0


# --- experiments ---------------------------------------------------------------------------------
def _adversarial(args) -> int:
    from cnnstudio.commands._output import format_table
    from cnnstudio.ml.robustness.attacks import attack_example, epsilon_curve
    from cnnstudio.ml.robustness.chart import image_row, line_chart

    subject = _subject(args)
    epsilons = _floats(args.eps)
    if any(e < 0 or e > 1 for e in epsilons) or not 0 <= args.example_eps <= 1:
        raise UserError("Epsilons are on the pixel scale and must be from 0 to 1.")
    classes = subject.classes
    if args.target is not None and not 0 <= args.target < len(classes):
        raise UserError(f"--target must be a class index from 0 to {len(classes) - 1}.")
    x, y = _validation(subject, args.images)
    curves = {}
    for kind, targeted in (("fgsm", False), ("pgd", False), ("pgd", True)):
        label = f"{kind.upper()}{' targeted' if targeted else ''}"
        print(f"{label}: {len(y)} validation images x {len(epsilons)} epsilons", file=sys.stderr)
        curves[label] = list(epsilon_curve(subject.model, x, y, epsilons, kind, targeted, args.steps))
    out = Path(args.out)
    line_chart({k: (epsilons, [r["accuracy"] for r in v]) for k, v in curves.items()}, out / "adversarial-curve.png",
               title=f"{subject.name}: accuracy under attack", xlabel="epsilon (pixel scale)",
               ylabel="validation accuracy", dashed=("PGD targeted",), legend="top")
    if args.image:
        from cnnstudio.ml.robustness.subject import image_pixels, predict

        image = image_pixels(args.image, subject.spec)
        label = int(predict(subject.model, image[None]).argmax(1)[0])  # its own prediction is the "truth"
        where = Path(args.image).name
    else:
        image, label = _image(subject, args.index)
        where = f"validation image {args.index}"
    ex = attack_example(subject.model, image, label, args.attack, args.example_eps, args.target, args.steps)
    image_row([(ex.image, f"original: {classes[ex.before]}\n{ex.before_confidence:.1%} confidence"),
               (ex.amplified(), f"perturbation x{1 / max(ex.eps, 1e-9):.0f}\n(eps {ex.eps:g})"),
               (ex.adversarial, f"adversarial: {classes[ex.after]}\n{ex.after_confidence:.1%} confidence")],
              out / "adversarial-example.png", title=f"{ex.kind.upper()} on {where}",
              separators=("+", "="))
    rows = [[e] + [curves[k][i]["accuracy"] for k in curves] + [curves["PGD targeted"][i]["target_hit"]]
            for i, e in enumerate(epsilons)]
    text = (format_table(["epsilon", *curves, "target hit (PGD targeted)"], rows) +
            f"\n\n{where} ({ex.kind}, eps {ex.eps:g}): {classes[ex.before]} "
            f"({ex.before_confidence:.1%}) -> {classes[ex.after]} ({ex.after_confidence:.1%})"
            f"\nplots: {out / 'adversarial-curve.png'}, {out / 'adversarial-example.png'}")
    summary = {"model": subject.name, "curves": curves,
               "example": {"image": where, "attack": ex.kind, "eps": ex.eps, "label": classes[label],
                           "before": classes[ex.before], "before_confidence": ex.before_confidence,
                           "after": classes[ex.after], "after_confidence": ex.after_confidence}}
    return _finish(args, "adversarial", summary, text)


def _shifts(args) -> int:
    from cnnstudio.commands._output import format_table
    from cnnstudio.ml.robustness.chart import line_chart
    from cnnstudio.ml.robustness.subject import train_subject
    from cnnstudio.ml.robustness.transforms import (
        FIXES,
        TRANSFORMATIONS,
        accuracy_curve,
        prediction_flips,
        shift_sweep,
    )

    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in TRANSFORMATIONS]
    if unknown:
        raise UserError(f"Unknown transformation {unknown[0]!r}: choose {', '.join(TRANSFORMATIONS)}.")
    subject = _subject(args)
    x, y = _validation(subject, args.images)
    out = Path(args.out)
    summary: dict = {"model": subject.name, "curves": {}}
    lines = []
    for kind in kinds:
        t = TRANSFORMATIONS[kind]
        before = accuracy_curve(subject.model, x, y, kind)
        series = {"before": ([a for a, _ in before], [v for _, v in before])}
        entry = {"before": before}
        fix = FIXES[kind]
        if args.fix and fix is not None:
            fixed = _drive(train_subject(subject.spec, subject.data_config, {**subject.training, "threads": 0},
                                         augment=fix), f"retraining with augment {fix}")
            after = accuracy_curve(fixed.model, x, y, kind)
            series[f"after (augment {', '.join(f'{k} {v:g}' for k, v in fix.items())})"] = (
                [a for a, _ in after], [v for _, v in after])
            entry["after"], entry["augment"] = after, fix
        plot = line_chart(series, out / f"shifts-{kind}.png", title=f"{subject.name}: {t.title}",
                          xlabel=t.unit, ylabel="validation accuracy")
        summary["curves"][kind] = entry
        rows = [[a, v] + ([entry["after"][i][1]] if "after" in entry else []) for i, (a, v) in enumerate(before)]
        header = [t.unit, "accuracy"] + (["after fix"] if "after" in entry else [])
        note = " (no matching augmentation in the pipeline)" if args.fix and fix is None else ""
        lines.append(f"{t.title}{note}\n" + format_table(header, rows) + f"\nplot: {plot}\n")
    image, label = _image(subject, args.index)
    sweep = shift_sweep(subject.model, image, 4)
    classes = subject.classes
    rows = [[s["shift"], classes[s["predicted"]], s["confidence"]] for s in sweep]
    lines.append(f"validation image {args.index} (a {classes[label]}) shifted pixel by pixel: "
                 f"{prediction_flips(sweep)} changes of prediction\n"
                 + format_table(["shift (px)", "predicted", "confidence"], rows))
    summary["sweep"] = [{k: v for k, v in s.items() if k != "probabilities"} for s in sweep]
    return _finish(args, "shifts", summary, "\n".join(lines))


def _bias(args) -> int:
    from cnnstudio.commands._output import format_table
    from cnnstudio.ml.inspect.saliency import gradient_saliency
    from cnnstudio.ml.robustness.bias import BIAS_FIXES, biased_digits, train_bias
    from cnnstudio.ml.robustness.chart import bar_chart, heat_display, image_row

    fixes = [f.strip() for f in args.fixes.split(",") if f.strip()]
    unknown = [f for f in fixes if f not in BIAS_FIXES]
    if unknown:
        raise UserError(f"Unknown fix {unknown[0]!r}: choose {', '.join(BIAS_FIXES)}.")
    if not 0 <= args.correlation <= 1:
        raise UserError("--correlation is a share from 0 to 1.")
    data = biased_digits(args.correlation, args.seed)
    results = [_drive(train_bias(data, fix, {"epochs": args.epochs, "seed": args.seed}), f"training ({fix})")
               for fix in fixes]
    out = Path(args.out)
    bar_chart({BIAS_FIXES[r.fix]: {"validation (cue present)": r.val_accuracy, "test (cue broken)": r.test_accuracy,
                                   "saliency on background": r.background_saliency} for r in results},
              out / "bias.png", title=f"Coloured digits, {args.correlation:.0%} colour-class correlation in training")
    panels = [(data.test_x[0].numpy(), f"test image (a {data.test_y[0].item()})")]
    for r in results:
        heat = gradient_saliency(r.subject.model, data.test_x[:1]).heat
        panels.append((heat_display(heat), f"saliency: {BIAS_FIXES[r.fix]}"))
    image_row(panels, out / "bias-saliency.png", title="Where the network looks (gradient saliency)")
    rows = [[BIAS_FIXES[r.fix], r.val_accuracy, r.test_accuracy, r.drop, r.background_saliency] for r in results]
    text = (format_table(["training", "val (cue present)", "test (cue broken)", "drop", "saliency on background"],
                         rows) + f"\n(background is {results[0].background_area:.0%} of each image)"
            f"\nplots: {out / 'bias.png'}, {out / 'bias-saliency.png'}")
    summary = {"correlation": args.correlation, "results": [
        {"fix": r.fix, "val_accuracy": r.val_accuracy, "test_accuracy": r.test_accuracy,
         "background_saliency": r.background_saliency} for r in results]}
    return _finish(args, "bias", summary, text)


def _fairness(args) -> int:
    from cnnstudio.commands._output import ProgressBar, format_table
    from cnnstudio.ml.robustness.chart import line_chart
    from cnnstudio.ml.robustness.fairness import generated_income, load_adult, train_fair

    if args.adult_test and not args.adult:
        raise UserError("--adult-test needs --adult (the training file).")
    data = (load_adult(args.adult, args.adult_test, args.seed, protected=args.protected) if args.adult
            else generated_income(seed=args.seed))
    gen = train_fair(data, args.objective, args.alpha, args.epochs, args.epochs, seed=args.seed)
    bar = ProgressBar(2 * args.epochs, "fairness", "epoch")
    while True:
        try:
            ev = next(gen)
            bar.update(advance=1, suffix=ev.phase)
        except StopIteration as stop:
            result = stop.value
            break
    bar.close()
    xs = list(range(1, len(result.history) + 1))
    out = Path(args.out)
    plot = line_chart({name: (xs, [e.metrics[key] for e in result.history]) for name, key in
                       (("accuracy", "accuracy"), ("demographic parity gap", "parity_gap"),
                        ("equalized odds gap", "odds_gap"), ("adversary accuracy", "adversary_accuracy"))},
                      out / "fairness.png", title=f"{data.name}: adversarial debiasing ({args.objective})",
                      xlabel="epoch", ylabel="test set", marks={"adversary on": args.epochs + 0.5})
    keys = ("accuracy", "parity_gap", "odds_gap", "positive_rate_protected", "positive_rate_other",
            "adversary_accuracy")
    rows = [[k.replace("_", " "), result.before[k], result.after[k]] for k in keys]
    text = (f"{data.name}: {len(data.train_y)} training, {len(data.test_y)} test rows; protected: "
            f"{data.protected}; label: {data.label}\n"
            + format_table(["metric (test set)", "before", "after"], rows) + f"\nplot: {plot}")
    summary = {"data": data.name, "objective": args.objective, "alpha": args.alpha,
               "before": result.before, "after": result.after}
    return _finish(args, "fairness", summary, text)


def run(args: argparse.Namespace) -> int:
    from cnnstudio.commands.train import training_from_flags

    experiment = getattr(args, "experiment", None)
    if experiment is None:
        raise UserError(f"Name an experiment: {', '.join(EXPERIMENTS)} (see cnnstudio robustness --help).")
    # checked by the settings schema, as cnnstudio train checks them
    vars(args).update(training_from_flags(args, TRAINING, {"epochs": EPOCHS[experiment][0]}))
    return {"adversarial": _adversarial, "shifts": _shifts, "bias": _bias, "fairness": _fairness}[experiment](args)
