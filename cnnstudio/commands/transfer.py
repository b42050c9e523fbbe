"""``cnnstudio transfer``: a backbone transferred to a small target set, against the same network from scratch."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cnnstudio.core.data_config import data_help
from cnnstudio.core.errors import UserError

NAME = "transfer"
ORDER = 45
HELP = "transfer learning: train with a pretrained backbone and from scratch, compare the curves"
DESCRIPTION = (
    "Transfer a pretrained backbone (the bundled letters backbone, a torchvision model such as resnet18 with "
    "local or downloaded weights, or a backbone file) to a target set with few labels per class (default: "
    "the digits, 15 per class), train the same network from scratch on the same images, print both "
    "validation curves with their start, slope and asymptote, and write transfer.png and transfer.json."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backbone", default="bundled",
                        help="bundled (default), a torchvision model name (resnet18, mobilenet_v3_small, "
                             "efficientnet_b0, ...) or a .safetensors backbone file")
    parser.add_argument("--weights", metavar="FILE", help="weights for a torchvision backbone (.pth or .safetensors)")
    parser.add_argument("--download", action="store_true",
                        help="download the torchvision backbone's pretrained weights into torch's cache (once)")
    parser.add_argument("--list", action="store_true", help="list the backbones and their blocks, then exit")
    parser.add_argument("--data", default="digits", metavar="SOURCE",
                        help="the target data: " + data_help(("digits",), "one sub-folder per class"))
    parser.add_argument("--labels-per-class", type=int, default=15, help="training labels per class (default 15)")
    parser.add_argument("--freeze", default="auto",
                        help="blocks to keep fixed, comma-separated; auto (default: the convolutional body), none")
    parser.add_argument("--finetune-epochs", type=int, default=0,
                        help="then fine-tune every layer for this many epochs at a lower learning rate (default 0)")
    parser.add_argument("--finetune-lr-factor", type=float, default=0.1, help="fine-tuning lr = lr x this (default 0.1)")
    parser.add_argument("--input-size", type=int, default=64, help="image size for torchvision backbones (default 64)")
    parser.add_argument("--out", default="lab", metavar="DIR", help="folder for transfer.png and transfer.json (default lab)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    from cnnstudio.commands.train import add_training_flags

    add_training_flags(parser, only=TRAINING, defaults=DEFAULTS, notes={
        "epochs": "of the head training; from scratch trains these plus --finetune-epochs",
        "seed": "also picks the labelled images"})


#: the training options of a comparison (the settings schema's flags) and this command's defaults of them
TRAINING = ("epochs", "lr", "batch_size", "seed", "device")
DEFAULTS = {"epochs": 12}


def _data_config(source: str, seed: int) -> dict:
    from cnnstudio.core.data_config import data_config_from_argument

    config = data_config_from_argument(source, {"seed": seed}, names=("digits",))
    if config["source"] not in ("digits", "folder"):  # a YOLO or COCO folder
        raise UserError(f"The target data must be the digits or an image folder (one sub-folder per class), "
                        f"not {source}.")
    return config


def _list() -> int:
    from cnnstudio.commands._output import format_table
    from cnnstudio.ml.transfer.backbones import TORCHVISION_BACKBONES, cached_weights_path, load_backbone

    bundled = load_backbone("bundled")
    rows = [["bundled", "yes (shipped)", " ".join(bundled.blocks), bundled.description[:60]]]
    for name in TORCHVISION_BACKBONES:
        cached = cached_weights_path(name)
        rows.append([name, "cached" if cached else "download with --download", "-", f"torchvision {name}"])
    print(format_table(["backbone", "weights", "blocks", "about"], rows, "llll"))
    return 0


def _download(name: str) -> None:
    from cnnstudio.commands._output import ProgressBar
    from cnnstudio.ml.transfer.backbones import download_weights

    gen = download_weights(name)
    bar = None
    try:
        while True:
            progress = next(gen)
            if bar is None:
                bar = ProgressBar(max(1, progress.total), f"download {name}", unit="B")
            bar.update(progress.done)
    except StopIteration as stop:
        if bar is not None:
            bar.close()
        print(f"weights of {name} in {stop.value}", file=sys.stderr)


def default_frozen(backbone) -> list[str]:
    """The convolutional body: for a spec backbone its conv/batch-norm layers, for torchvision every
    block but the one holding the head."""
    if backbone.kind == "spec":
        types = {layer["id"]: layer["type"] for layer in backbone.spec["layers"]}
        return [b for b in backbone.blocks if types.get(b) in ("conv2d", "batchnorm2d")]
    head_block = backbone.head.split(".")[0]
    return [b for b in backbone.blocks if b != head_block]


def run(args: argparse.Namespace) -> int:
    from cnnstudio.commands._output import ProgressBar, format_table, print_json
    from cnnstudio.commands.train import training_from_flags
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.robustness.chart import line_chart
    from cnnstudio.ml.trainer import BatchEnd, Started
    from cnnstudio.ml.transfer.backbones import load_backbone
    from cnnstudio.ml.transfer.compare import compare, few_labels

    if args.list:
        return _list()
    config = training_from_flags(args, TRAINING, DEFAULTS)
    if args.download:
        if args.backbone == "bundled" or args.weights:
            raise UserError("--download is for a torchvision backbone without --weights (e.g. --backbone resnet18).")
        _download(args.backbone)
    backbone = load_backbone(args.backbone, args.weights, args.input_size)
    if args.freeze == "auto":
        frozen = default_frozen(backbone)
    elif args.freeze in ("", "none"):
        frozen = []
    else:
        frozen = [b.strip() for b in args.freeze.split(",") if b.strip()]
    data_config = _data_config(args.data, config["seed"])
    data = few_labels(load_dataset(data_config), args.labels_per_class, config["seed"])
    c, h, w = backbone.input_shape
    data = data.fit_to(c, h, w)
    gen = compare(backbone, data, config, frozen, finetune_epochs=args.finetune_epochs,
                  finetune_lr_factor=args.finetune_lr_factor, data_config=data_config)
    bar = None
    while True:
        try:
            progress = next(gen)
        except StopIteration as stop:
            result = stop.value
            break
        event = progress.event
        if isinstance(event, Started):
            if bar is not None:
                bar.close()
            bar = ProgressBar(event.epochs * event.batches_per_epoch, f"{progress.which} ({progress.stage})", "batch")
        elif isinstance(event, BatchEnd) and bar is not None:
            bar.update(advance=1, suffix=f"epoch {event.epoch}/{event.epochs}")
    if bar is not None:
        bar.close()
    if result.status != "completed":
        raise UserError(f"The comparison did not finish: {result.status}")
    out = Path(args.out)
    epochs = len(result.curves["scratch"])
    xs = list(range(1, epochs + 1))
    marks = {"fine-tune": result.head_epochs + 0.5} if result.finetune_epochs else None
    plot = line_chart({"with transfer": (xs[:len(result.curves["transfer"])], result.curves["transfer"]),
                       "from scratch": (xs, result.curves["scratch"])}, out / "transfer.png",
                      title=f"{backbone.name} -> {data.name or args.data}, {args.labels_per_class} labels/class",
                      xlabel="epoch", ylabel="validation accuracy", marks=marks)
    summary = {
        "backbone": backbone.name, "frozen": frozen, "labels_per_class": args.labels_per_class,
        "train_images": result.train_size, "val_images": result.val_size, "curves": result.curves,
        "facts": {k: v.as_dict() for k, v in result.facts.items()}, "plot": str(plot),
    }
    from cnnstudio.core.fileio import atomic_write_text

    atomic_write_text(out / "transfer.json", json.dumps(summary, indent=2))
    if args.json:
        print_json(summary)
        return 0
    t, s = result.curves["transfer"], result.curves["scratch"]
    rows = [[i + 1, t[i] if i < len(t) else "-", s[i]] for i in range(epochs)]
    print(f"{backbone.name}, frozen: {', '.join(frozen) or 'nothing'}; {result.train_size} training images "
          f"({args.labels_per_class} per class), {result.val_size} validation images")
    print(format_table(["epoch", "with transfer", "from scratch"], rows))
    print()
    facts = [[name, f.start, f.slope, f.asymptote] for name, f in
             (("with transfer", result.facts["transfer"]), ("from scratch", result.facts["scratch"]))]
    print(format_table(["run", "start (epoch 1)", "slope (per epoch)", "asymptote (last 3)"], facts))
    print(f"\nplot: {plot}")
    return 0
