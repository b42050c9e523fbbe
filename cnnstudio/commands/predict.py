"""``cnnstudio predict``: run an ONNX image model on image files and print the top classes."""

from __future__ import annotations

import argparse

from cnnstudio.core.errors import UserError

NAME = "predict"
ORDER = 40
HELP = "classify image files with an ONNX model (top classes, and the box for localization models)"
DESCRIPTION = (
    "Run MODEL.onnx (exported by CNN Studio, or any image classifier) on each IMAGE with the model's own "
    "preprocessing and print its top classes with probabilities; localization models also give the box "
    "x, y, w, h as fractions of the image."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL.onnx", help="the ONNX model file, or a run folder (its model.onnx)")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    parser.add_argument("--top", type=int, default=3, metavar="K", help="how many classes to show (default 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object with every prediction")


def run(args: argparse.Namespace) -> int:
    from cnnstudio.commands._output import format_table, print_json
    from cnnstudio.ml.onnx_model import OnnxModel
    from cnnstudio.ml.preprocess import load_image

    if args.top < 1:
        raise UserError("--top must be 1 or more.")
    model = OnnxModel(_model_file(args.model))
    images = [(path, load_image(path)) for path in args.images]  # every file is checked before any output
    results = []
    for path, image in images:
        prediction = model.predict_image(image, k=args.top)
        item = {
            "image": str(path),
            "top": [{"index": i, "class": name, "probability": round(p, 6)} for i, name, p in prediction.top],
        }
        if prediction.bbox is not None:
            item["bbox"] = [round(v, 6) for v in prediction.bbox]
        results.append(item)
    if args.json:
        print_json({"model": str(args.model), "task": model.meta.task, "predictions": results})
        return 0
    for item in results:
        print(item["image"])
        rows = [[t["class"], f"{t['probability'] * 100:.1f}%"] for t in item["top"]]
        print(format_table(["class", "probability"], rows, align="lr"))
        if "bbox" in item:
            x, y, w, h = item["bbox"]
            print(f"box: x {x:.3f}, y {y:.3f}, w {w:.3f}, h {h:.3f} (fractions of the image)")
        print()
    return 0


def _model_file(model: str):
    """``model``, or the model.onnx of a run folder."""
    from pathlib import Path

    path = Path(model)
    if path.is_dir():
        if (path / "model.onnx").is_file():
            return path / "model.onnx"
        raise UserError(f"{model} is a folder without a model.onnx; give an .onnx file or a finished run's folder.")
    return model
