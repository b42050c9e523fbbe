"""``cnnstudio predict``: run an ONNX image model on image files and print the top classes."""

from __future__ import annotations

import argparse

from cnnstudio.core.errors import UserError

NAME = "predict"
ORDER = 40
HELP = "classify image files with an ONNX model (top classes, the box of a localizer, a detector's objects)"
DESCRIPTION = (
    "Run MODEL.onnx (exported by CNN Studio, or any image classifier) on each IMAGE with the model's own "
    "preprocessing and print its top classes with probabilities; localization models also give the box "
    "x, y, w, h as fractions of the image, and detection models one line per object found (class, score, box)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL.onnx", help="the ONNX model file, or a run folder (its model.onnx)")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    parser.add_argument("--top", type=int, default=3, metavar="K", help="how many classes to show (default 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object with every prediction")
    parser.add_argument("--masks", default=".", metavar="DIR",
                        help="segmentation models: write each image's mask PNG (the class index of every pixel, at "
                             "the image's size) as DIR/<image>.mask.png (default: the current folder)")


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
        if prediction.mask is not None:  # a segmenter: the class of every pixel, written as a PNG
            item = {"image": str(path), "mask": str(_write_mask(prediction.mask, image, path, args.masks)),
                    "pixels": {model.meta.class_name(i): round(float(p), 6)
                               for i, p in enumerate(prediction.probabilities)}}
        elif prediction.objects is not None:  # a detector: every object it found
            item = {"image": str(path), "objects": [
                {"class": model.meta.class_name(int(o[5])), "class_index": int(o[5]), "score": round(float(o[4]), 6),
                 "box": [round(float(v), 6) for v in o[:4]]} for o in prediction.objects]}
        elif prediction.bbox is not None:
            item["bbox"] = [round(v, 6) for v in prediction.bbox]
        results.append(item)
    if args.json:
        print_json({"model": str(args.model), "task": model.meta.task, "predictions": results})
        return 0
    for item in results:
        print(item["image"])
        if "mask" in item:
            shares = ", ".join(f"{name} {share:.1%}" for name, share in item["pixels"].items() if share > 0)
            print(f"mask: {item['mask']} (class index per pixel; {shares})\n")
            continue
        if "objects" in item:
            for o in item["objects"]:
                x, y, w, h = o["box"]
                print(f"{o['class']} {o['score'] * 100:.1f}%: x {x:.3f}, y {y:.3f}, w {w:.3f}, h {h:.3f}")
            print(f"{len(item['objects'])} objects (boxes as fractions of the image)\n")
            continue
        rows = [[t["class"], f"{t['probability'] * 100:.1f}%"] for t in item["top"]]
        print(format_table(["class", "probability"], rows, align="lr"))
        if "bbox" in item:
            x, y, w, h = item["bbox"]
            print(f"box: x {x:.3f}, y {y:.3f}, w {w:.3f}, h {h:.3f} (fractions of the image)")
        print()
    return 0


def _write_mask(mask, image, path, folder: str):
    """``folder/<image stem>.mask.png``: the class per pixel at the image's own size (nearest)."""
    from pathlib import Path

    import cv2

    from cnnstudio.core.fileio import atomic_write_bytes

    h, w = image.shape[:2]
    full = cv2.resize(mask.astype("uint8"), (w, h), interpolation=cv2.INTER_NEAREST)
    target = Path(folder) / f"{Path(path).stem}.mask.png"
    if not target.parent.is_dir():
        raise UserError(f"The mask folder {target.parent} does not exist.")
    ok, data = cv2.imencode(".png", full)
    if not ok:
        raise UserError(f"The mask of {Path(path).name} could not be encoded as PNG.")
    atomic_write_bytes(target, data.tobytes())
    return target


def _model_file(model: str):
    """``model``, or the model.onnx of a run folder."""
    from pathlib import Path

    path = Path(model)
    if path.is_dir():
        if (path / "model.onnx").is_file():
            return path / "model.onnx"
        raise UserError(f"{model} is a folder without a model.onnx; give an .onnx file or a finished run's folder.")
    return model
