"""``cnnstudio train``: train a network on a dataset with a progress bar and write a run folder."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cnnstudio.core.errors import UserError

NAME = "train"
ORDER = 30
HELP = "train a network (spec file or template) on a dataset and write a run folder"
DESCRIPTION = (
    "Train SPEC_OR_TEMPLATE (a spec JSON file or a template name such as lenet5) on a built-in dataset "
    "(digits, shapes), an image folder, a YOLO folder or a torchvision set, and write a run folder with "
    "config.json, metrics, checkpoints and model.onnx. --resume RUN_DIR continues a cancelled run."
)


#: TrainConfig's defaults, repeated here so that ``--help`` does not import torch (a test keeps them equal)
DEFAULTS = argparse.Namespace(optimizer="adam", lr=0.002, weight_decay=0.0, momentum=0.9, batch_size=16,
                              epochs=15, schedule="cosine", seed=0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = DEFAULTS
    parser.add_argument("spec", nargs="?", metavar="SPEC_OR_TEMPLATE", help="network spec file or template name")
    parser.add_argument("--data", default="digits", metavar="SOURCE",
                        help="digits, shapes, mnist, fashion-mnist, cifar10, or a folder (default: digits)")
    parser.add_argument("--out", metavar="RUN_DIR", help="run folder to write (default: runs/<network>-<time>)")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue the cancelled run in RUN_DIR")
    parser.add_argument("--epochs", type=int, help=f"epochs (default {d.epochs})")
    parser.add_argument("--batch-size", type=int, help=f"batch size (default {d.batch_size})")
    parser.add_argument("--lr", type=float, help=f"learning rate (default {d.lr})")
    parser.add_argument("--optimizer", choices=["sgd", "adam", "adamw"], help=f"optimizer (default {d.optimizer})")
    parser.add_argument("--weight-decay", type=float, help=f"weight decay (default {d.weight_decay})")
    parser.add_argument("--momentum", type=float, help=f"SGD momentum (default {d.momentum})")
    parser.add_argument("--schedule", choices=["none", "step", "cosine"], help=f"learning-rate schedule (default {d.schedule})")
    parser.add_argument("--early-stopping", type=int, metavar="PATIENCE", help="stop after PATIENCE epochs without a better validation loss")
    parser.add_argument("--seed", type=int, help=f"seed for weights and batch order (default {d.seed})")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="compute device (default auto)")
    parser.add_argument("--mixed-precision", action="store_true", default=None, help="float16 autocast on CUDA")
    parser.add_argument("--val-fraction", type=float, help="share of images held out for validation (default 0.2)")
    parser.add_argument("--data-seed", type=int, default=0, help="seed of the train/validation split (default 0)")
    parser.add_argument("--samples", type=int, help="number of generated images (shapes) or a subset size")
    parser.add_argument("--threads", type=int, help="CPU threads (default 0: all cores when idle, fewer when busy)")
    parser.add_argument("--fit-classes", action="store_true",
                        help="resize the network's last layer to the data's classes (e.g. lenet5 on shapes)")
    parser.add_argument("--json", action="store_true", help="print the final result as one JSON object")


def data_config_from(source: str, args: argparse.Namespace) -> dict:
    """The project-style "data" dict for ``--data`` and its options."""
    from cnnstudio.core.data_config import normalize_data_config

    known = ("digits", "shapes", "mnist", "fashion-mnist", "cifar10")
    if source in known:
        config: dict = {"source": source}
    else:
        path = Path(source)
        if not path.exists():
            if any(sep in source for sep in ("/", "\\")) or source.startswith((".", "~")):
                raise UserError(f"The data folder {source} does not exist.")
            raise UserError(f"Unknown data {source!r}: use digits, shapes, mnist, fashion-mnist, cifar10 or a folder.")
        if not path.is_dir():
            raise UserError(f"The data {source} is a file; give a folder of images (one sub-folder per class).")
        is_yolo = (path / "images").is_dir() and (path / "labels").is_dir()
        config = {"source": "yolo" if is_yolo else "folder", "path": str(path)}
    if args.val_fraction is not None:
        config["val_fraction"] = args.val_fraction
    config["seed"] = args.data_seed
    if args.samples is not None:
        from cnnstudio.core.data_config import SOURCE_FIELDS

        key = "num_samples" if config["source"] == "shapes" else "max_samples"
        if key not in {f.name for f in SOURCE_FIELDS[config["source"]]}:
            raise UserError(f"--samples does not apply to {config['source']}: it always uses all its images.")
        config[key] = args.samples
    return normalize_data_config(config)


def _training_overrides(args: argparse.Namespace) -> dict:
    names = ("epochs", "batch_size", "lr", "optimizer", "weight_decay", "momentum", "schedule",
             "early_stopping", "seed", "device", "mixed_precision", "threads")
    return {k: getattr(args, k) for k in names if getattr(args, k) is not None}


def run(args: argparse.Namespace) -> int:
    from cnnstudio.commands._output import ProgressBar, format_duration, print_json
    from cnnstudio.ml.runs import load_run, new_run_dir, resume_run
    from cnnstudio.ml.trainer import (
        BatchEnd,
        EpochEnd,
        Failed,
        Finished,
        Started,
        TrainConfig,
        TrainControl,
        train,
    )

    started = time.perf_counter()
    control = TrainControl()
    if args.resume:
        if args.spec:
            raise UserError("Give either a network to train or --resume RUN_DIR, not both.")
        info = load_run(args.resume)
        overrides = _training_overrides(args)
        unsupported = sorted(set(overrides) - {"epochs", "threads"})
        if unsupported:
            raise UserError("A resumed run keeps its settings; only --epochs can change (not "
                            + ", ".join("--" + k.replace("_", "-") for k in unsupported) + ").")
        events = resume_run(info.path, control, epochs=overrides.get("epochs"), threads=overrides.get("threads"))
        run_dir = info.path
    else:
        if not args.spec:
            raise UserError("Name the network to train (a spec file or a template such as lenet5).")
        from cnnstudio.core.spec import load_spec

        spec = load_spec(args.spec)
        data_config = data_config_from(args.data, args)
        config = TrainConfig.from_dict(_training_overrides(args))
        run_dir = Path(args.out) if args.out else new_run_dir(Path("runs"), str(spec.get("name") or "run"))
        if (run_dir / "config.json").exists():
            raise UserError(f"{run_dir} already holds a run; choose another --out or use --resume {run_dir}.")
        from cnnstudio.ml.datasets import load_dataset

        data = load_dataset(data_config)
        for path, reason in data.skipped[:5]:
            print(f"skipped {path}: {reason}", file=sys.stderr)
        if len(data.skipped) > 5:
            print(f"skipped {len(data.skipped)} unreadable files in all", file=sys.stderr)
        spec = _fit_classes(spec, data.classes, args.fit_classes)
        events = train(spec, data, config, run_dir, control, data_config=data_config)

    bar: ProgressBar | None = None
    result = None
    for event in events:
        if isinstance(event, Started):
            bar = ProgressBar(event.train_size * (event.epochs - event.start_epoch + 1), label="train", unit="img")
            if not args.json:
                resumed = f", resuming at epoch {event.start_epoch}" if event.start_epoch > 1 else ""
                amp = ", mixed precision" if event.mixed_precision else ""
                print(f"Training on {event.device}{amp}: {event.train_size} training and {event.val_size} "
                      f"validation images, {event.epochs} epochs{resumed}", file=sys.stderr)
        elif isinstance(event, BatchEnd) and bar is not None:
            bar.update(event.images_done)
        elif isinstance(event, EpochEnd) and bar is not None and event.epoch < event.epochs:
            m = event.metrics
            suffix = f"epoch {m['epoch']}/{event.epochs} loss {m['val_loss']:.3f} acc {m['val_accuracy']:.3f}"
            if "val_iou" in m:
                suffix += f" IoU {m['val_iou']:.3f}"
            bar.update(suffix=suffix)
        elif isinstance(event, (Finished, Failed)):
            result = event
    if bar is not None:
        bar.close()
    total = time.perf_counter() - started
    if isinstance(result, Failed):
        raise UserError(result.message)
    if not isinstance(result, Finished):
        raise UserError("Training ended without a result.")
    training_seconds = load_run(run_dir).summary.get("training_seconds", 0.0)
    if args.json:
        print_json({"status": result.status, "run_dir": str(run_dir), "final": result.metrics, "best": result.best,
                    "onnx": result.onnx_path, "training_seconds": training_seconds,
                    "total_seconds": round(total, 3), "message": result.message})
        return 0 if result.status != "cancelled" else 1
    _print_result(result, run_dir, training_seconds, total, format_duration)
    return 0 if result.status != "cancelled" else 1


def _fit_classes(spec: dict, classes, fit: bool) -> dict:
    """``spec`` ending in one output per data class: refit with ``--fit-classes``, else a clear error."""
    from cnnstudio.core.inference import infer
    from cnnstudio.core.spec_edit import classes_fit, fit_classes, with_placeholder_classes

    if classes_fit(spec, classes) is not False:
        return spec
    if not fit:
        out = infer(with_placeholder_classes(spec)).output_shape
        raise UserError(f"The network ends in {out[0]} outputs but the data has {len(classes)} classes; "
                        "add --fit-classes to resize its last layer to the data's classes.")
    try:
        fitted = fit_classes(spec, list(classes))
    except ValueError as exc:
        raise UserError(f"The network cannot be fitted to the data's {len(classes)} classes: {exc}.") from None
    print(f"Fitted the network's last layer to the data's {len(classes)} classes.", file=sys.stderr)
    return fitted


def _print_result(result, run_dir: Path, training_seconds: float, total: float, format_duration) -> None:
    from cnnstudio.commands._output import format_table

    keys = [k for k in ("train_loss", "val_loss", "val_accuracy", "val_iou", "images_per_second") if k in result.metrics]
    rows = [[k, result.metrics[k], result.best.get(k, "")] for k in keys]
    print(f"Run {result.status}: {run_dir}")
    if result.message:
        print(result.message)
    print(format_table(["metric", f"final (epoch {result.metrics.get('epoch', '-')})",
                        f"best (epoch {result.best.get('epoch', '-')})"], rows, align="lrr"))
    print(f"Training time {training_seconds:.1f} s; total {total:.1f} s ({format_duration(total)})")
    if result.onnx_path:
        print(f"Model: {result.onnx_path}")
