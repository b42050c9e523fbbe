"""``cnnstudio train``: train a network on a dataset with a progress bar and write a run folder."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cnnstudio.core import train_settings
from cnnstudio.core.data_config import data_help
from cnnstudio.core.errors import UserError

NAME = "train"
ORDER = 30
HELP = "train a network (spec file or template) on a dataset and write a run folder"
DESCRIPTION = (
    "Train SPEC_OR_TEMPLATE (a spec JSON file or a template name such as lenet5) on a built-in dataset "
    "(digits, shapes), an image folder, a YOLO folder or a torchvision set, and write a run folder with "
    "config.json, metrics, checkpoints and model.onnx. --resume RUN_DIR continues a cancelled run."
)


#: the defaults of the training flags (from the settings schema; ``--help`` does not import torch)
DEFAULTS = argparse.Namespace(**{opt.name: opt.default for opt in train_settings.OPTIONS if opt.cli})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", nargs="?", metavar="SPEC_OR_TEMPLATE", help="network spec file or template name")
    parser.add_argument("--data", default="digits", metavar="SOURCE", help=data_help())
    from cnnstudio.core.tasks import task_names

    parser.add_argument("--task", choices=task_names(),
                        help="train the network for this task (default: the spec's); a detector gets a "
                             "detection head on its last feature map")
    parser.add_argument("--out", metavar="RUN_DIR", help="run folder to write (default: runs/<network>-<time>)")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue the cancelled run in RUN_DIR")
    add_training_flags(parser)
    add_data_flags(parser)
    parser.add_argument("--fit-classes", action="store_true",
                        help="resize the network's last layer to the data's classes (e.g. lenet5 on shapes)")
    parser.add_argument("--json", action="store_true", help="print the final result as one JSON object")
    from cnnstudio.core.launch_scripts import TRAIN_KINDS, add_cluster_arguments

    add_cluster_arguments(parser, TRAIN_KINDS)  # --emit-script slurm|torchrun (docs/scale-out.md)


def add_data_flags(parser: argparse.ArgumentParser) -> None:
    """The flags :func:`data_config_from` reads besides ``--data`` (shared by the commands that train)."""
    parser.add_argument("--val-fraction", type=float, help="share of images held out for validation (default 0.2)")
    parser.add_argument("--data-seed", type=int, default=0, help="seed of the train/validation split (default 0)")
    parser.add_argument("--samples", type=int, help="number of generated images (shapes) or a subset size")


def add_training_flags(parser: argparse.ArgumentParser, only: tuple[str, ...] | None = None,
                       defaults: dict | None = None, notes: dict | None = None) -> None:
    """One flag per training option that has one (train_settings.OPTIONS), or those named in ``only``;
    unset flags stay None (the option's default applies, or this command's in ``defaults``: read the values
    with :func:`training_from_flags`). ``notes`` adds what an option means in this command to its help."""
    group = parser.add_argument_group("training options")
    for opt in train_settings.OPTIONS:
        if not opt.cli or (only is not None and opt.name not in only):
            continue
        tasks = f"; {'/'.join(opt.tasks)} only" if opt.tasks else ""
        default = opt.format(defaults[opt.name]) if defaults and opt.name in defaults else opt.default_text
        note = f" ({notes[opt.name]})" if notes and opt.name in notes else ""
        text = f"{opt.label}{note}: {train_settings.lower_first(opt.help)} (default {default}{tasks})"
        kwargs: dict = {"dest": opt.name, "help": text.replace("%", "%%")}
        if opt.kind == "bool":
            kwargs.update(action="store_true", default=None)
        elif opt.kind == "choice":
            kwargs.update(choices=list(opt.choices or ()))
        else:
            kwargs.update(type=opt.python_type, metavar=opt.metavar or opt.name.upper())
        group.add_argument(opt.cli, **kwargs)


def training_from_flags(args: argparse.Namespace, names: tuple[str, ...], defaults: dict | None = None) -> dict:
    """The training options ``names`` as given on the command line, else ``defaults``' or the schema's value,
    each checked by the settings schema: a bad value is one sentence before any work starts."""
    values = {}
    for name in names:
        value = getattr(args, name, None)
        if value is None:
            value = (defaults or {}).get(name, train_settings.option(name).default)
        values[name] = train_settings.check(name, value)
    return values


def data_config_from(source: str, args: argparse.Namespace) -> dict:
    """The project-style "data" dict for ``--data`` and its options (:func:`add_data_flags`)."""
    from cnnstudio.core.data_config import data_config_from_argument, normalize_data_config

    config = data_config_from_argument(source)
    if args.val_fraction is not None:
        config["val_fraction"] = args.val_fraction
    config["seed"] = args.data_seed
    if args.samples is not None:
        from cnnstudio.core.data_config import SOURCE_FIELDS

        key = "num_samples" if config["source"] in ("shapes", "multishapes", "scenes") else "max_samples"
        if key not in {f.name for f in SOURCE_FIELDS[config["source"]]}:
            raise UserError(f"--samples does not apply to {config['source']}: it always uses all its images.")
        config[key] = args.samples
    return normalize_data_config(config)


def _training_overrides(args: argparse.Namespace) -> dict:
    """The training options given on the command line (the schema's flags that were set)."""
    names = (opt.name for opt in train_settings.OPTIONS if opt.cli)
    return {k: getattr(args, k) for k in names if getattr(args, k, None) is not None}


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

    if getattr(args, "emit_script", None):  # a launch script for a cluster instead of training here
        from cnnstudio.commands._launch import emit_train

        return emit_train(args, _training_overrides(args))
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
        if args.task and args.task != spec.get("task", "classification"):
            from cnnstudio.core.spec_edit import set_task

            spec = set_task(spec, args.task)
        data_config = data_config_from(args.data, args)
        config = TrainConfig.from_dict(_training_overrides(args))
        run_dir = Path(args.out) if args.out else new_run_dir(Path("runs"), str(spec.get("name") or "run"))
        if (run_dir / "config.json").exists():
            raise UserError(f"{run_dir} already holds a run; choose another --out or use --resume {run_dir}.")
        from cnnstudio.ml.datasets import load_dataset

        data = load_dataset(data_config)
        for path, reason in data.skipped[:5] if _rank() == 0 else ():
            print(f"skipped {path}: {reason}", file=sys.stderr)
        if len(data.skipped) > 5 and _rank() == 0:
            print(f"skipped {len(data.skipped)} unreadable files in all", file=sys.stderr)
        spec = fit_spec_to_data(spec, data, args.fit_classes)
        events = train(spec, data, config, run_dir, control, data_config=data_config)

    if _rank() != 0:  # another process of a torchrun run: rank 0 writes the run folder and prints
        return _follow_quietly(events, Failed)
    bar: ProgressBar | None = None
    result = None
    for event in events:
        if isinstance(event, Started):
            bar = ProgressBar(event.train_size * (event.epochs - event.start_epoch + 1), label="train", unit="img")
            if not args.json:
                resumed = f", resuming at epoch {event.start_epoch}" if event.start_epoch > 1 else ""
                amp = ", mixed precision" if event.mixed_precision else ""
                amp += _processes_text()
                print(f"Training on {event.device}{amp}: {event.train_size} training and {event.val_size} "
                      f"validation images, {event.epochs} epochs{resumed}", file=sys.stderr)
        elif isinstance(event, BatchEnd) and bar is not None:
            bar.update(event.images_done)
        elif isinstance(event, EpochEnd) and bar is not None and event.epoch < event.epochs:
            m = event.metrics
            suffix = f"epoch {m['epoch']}/{event.epochs} loss {m['val_loss']:.3f} acc {m['val_accuracy']:.3f}"
            if "val_iou" in m:
                suffix += f" IoU {m['val_iou']:.3f}"
            if "val_map50" in m:
                suffix += f" mAP50 {m['val_map50']:.3f}"
            if "val_miou" in m:
                suffix += f" mIoU {m['val_miou']:.3f}"
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
        return 0 if result.status != "cancelled" and result.onnx_path else 1
    _print_result(result, run_dir, training_seconds, total, format_duration)
    if result.status != "cancelled" and not result.onnx_path:  # trained, but no usable model.onnx
        print(f"cnnstudio train: {result.message or 'the ONNX export failed.'}", file=sys.stderr)
        return 1
    return 0 if result.status != "cancelled" else 1


def _rank() -> int:
    from cnnstudio.ml.training.distributed import env_rank

    return env_rank()


def _processes_text() -> str:
    """", 4 processes (DistributedDataParallel)" under torchrun, else ""."""
    from cnnstudio.ml.training.distributed import env_world

    world = env_world()[1]
    return f", {world} processes (DistributedDataParallel)" if world > 1 else ""


def _follow_quietly(events, failed_type) -> int:
    """Run a non-zero rank's events to the end; a failure is its one line (scale-out, docs/scale-out.md)."""
    result = None
    for event in events:
        result = event
    if isinstance(result, failed_type):
        raise UserError(f"(process {_rank()}) {result.message}")
    return 0


def fit_spec_to_data(spec: dict, data, fit: bool) -> dict:
    """``spec`` fitting the data (core.data_fit): refit its classes with ``--fit-classes``, else a clear error."""
    from cnnstudio.core.data_fit import fitted_to_data

    spec, refitted = fitted_to_data(spec, data.task, data.classes, fit)
    if refitted:
        print(f"Fitted the network's last layer to the data's {len(data.classes)} classes.", file=sys.stderr)
    return spec


def _print_result(result, run_dir: Path, training_seconds: float, total: float, format_duration) -> None:
    from cnnstudio.commands._output import format_table

    keys = [k for k in ("train_loss", "val_loss", "val_accuracy", "val_iou", "val_map50", "val_map", "val_miou",
                      "images_per_second")
            if k in result.metrics]
    rows = [[k, result.metrics[k], result.best.get(k, "")] for k in keys]
    print(f"Run {result.status}: {run_dir}")
    if result.message:
        print(result.message)
    print(format_table(["metric", f"final (epoch {result.metrics.get('epoch', '-')})",
                        f"best (epoch {result.best.get('epoch', '-')})"], rows, align="lrr"))
    print(f"Training time {training_seconds:.1f} s; total {total:.1f} s ({format_duration(total)})")
    if result.onnx_path:
        print(f"Model: {result.onnx_path}")
