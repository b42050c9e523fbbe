"""Produce the bundled model models/lenet5-digits.onnx and its model card models/lenet5-digits.md.

LeNet-5 (models/lenet5.json) trained with the trainer's defaults and fixed seeds, on the CPU with one
thread (so the weights are the same on every run of this script), on the built-in handwritten digits
plus printed digits (``cnnstudio.ml.rendered_digits``: OpenCV's Hershey fonts). The printed digits are
drawn with their own seeds and image sizes (never the seeds 0 and 1 of the card's check and of
``bench/bench_polarity.py``, never their 64x64 size) in both ink polarities, and each one is turned into
a training image by the app's own prediction path (``to_model_input`` with the model's preprocessing),
so the network learns from exactly what it is shown when it reads a printed digit. The handwritten
validation split is unchanged (its accuracy is the card's validation accuracy).
The model's preprocessing is what the trainer derives from the data (``training_preprocess``): the
digits are light ink on dark and fill their frame, so it says ``polarity: "auto"`` with ``ink: "light"``
(a runner reads paper vs ink from each image's border and flips dark-on-light photos, never MNIST-style
images) and ``crop_to_content`` with the digits' margin. The card reports the accuracy on printed digits
(``cnnstudio.ml.rendered_digits``) in both polarities.

Run:  .venv/bin/python scripts/make_bundled_model.py [--out-dir models]
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DATA = {"source": "digits", "val_fraction": 0.2, "seed": 0, "augment": {"scale": 0.15, "shift": 0.06, "rotation": 8}}
TRAINING = {"epochs": 25, "seed": 0, "device": "cpu", "threads": 1}
# printed training digits: render_digits(per_digit, ink, size, seed) for every ink and image size, the
# seeds counting up from "seed" (the card checks seed 0 and the bench seed 1, both at 64x64)
PRINTED = {"per_digit": 25, "inks": ("dark", "light"), "sizes": (48, 80), "seed": 100}
CHECK = {"per_digit": 20, "seed": 0}  # the card's own check (200 digits per polarity)
BENCH = {"per_digit": 40, "seed": 1}  # bench/bench_polarity.py's set (400 digits per polarity)
# typefaces the model never trained on: OpenCV's two cursive Hershey fonts
UNSEEN = {"per_digit": 20, "seed": 2, "fonts": ("FONT_HERSHEY_SCRIPT_SIMPLEX", "FONT_HERSHEY_SCRIPT_COMPLEX")}
# the previous bundled model (handwritten digits only, same network, training and augmentation)
HANDWRITTEN_ONLY = {"val_accuracy": 0.9861, "check": {"dark": 0.885, "light": 0.885},
                    "bench": {"dark": 0.882, "light": 0.882}, "unseen": {"dark": 0.845, "light": 0.845}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=str(REPO / "models"), help="where to write the .onnx and .md")
    args = parser.parse_args(argv)

    from cnnstudio.core.spec import load_spec
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.onnx_model import OnnxModel
    from cnnstudio.ml.trainer import Failed, Finished, TrainConfig, train

    spec = load_spec("lenet5")
    spec["name"] = "LeNet-5 digits"
    spec["description"] = ("LeNet-5 trained on the 1,797 scikit-learn handwritten digits (28x28, bundled) "
                           "and printed OpenCV Hershey-font digits.")
    config = TrainConfig.from_dict(TRAINING)
    handwritten = load_dataset(DATA)
    data, printed_count = with_printed_digits(spec, handwritten)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        result = None
        for event in train(spec, data, config, run_dir, data_config=DATA):
            if isinstance(event, (Finished, Failed)):
                result = event
        if not isinstance(result, Finished) or not result.onnx_path:
            message = result.message if result is not None else "no result"
            print(f"training failed: {message}", file=sys.stderr)
            return 1
        exported = OnnxModel(result.onnx_path).meta.preprocess
        if exported != model_preprocess(spec, handwritten):  # the printed digits were made with this one
            print(f"the exported preprocessing {exported} is not the one the printed digits were made with",
                  file=sys.stderr)
            return 1
        target = out_dir / "lenet5-digits.onnx"
        shutil.copyfile(result.onnx_path, target)
    check = printed_accuracy(target, **CHECK)
    bench = printed_accuracy(target, **BENCH)
    unseen = printed_accuracy(target, **UNSEEN)
    card = model_card(result.metrics, config, handwritten, printed_count, target.stat().st_size,
                      {"check": check, "bench": bench, "unseen": unseen})
    (out_dir / "lenet5-digits.md").write_text(card, encoding="utf-8")
    print(f"wrote {target} ({target.stat().st_size / 1024:.0f} KB), handwritten validation accuracy "
          f"{result.metrics['val_accuracy']:.4f}, printed digits {check} (bench set {bench}, "
          f"untrained script fonts {unseen})")
    return 0


def model_preprocess(spec: dict, data):
    """The model's preprocessing, as the trainer derives it (``training_preprocess``, the one source)."""
    from cnnstudio.core.model_meta import Preprocess
    from cnnstudio.ml.preprocess import training_preprocess

    return Preprocess.from_dict(training_preprocess(spec, data), int(spec["input"]["channels"]))


def printed_training_images(spec: dict, data):
    """The printed training digits as the network sees them: (float32 (N, 1, H, W) in [0, 1], labels).

    Each rendered page goes through ``to_model_input`` with the model's metadata (gray, polarity from the
    border, crop to the ink, resize), then the normalisation is undone: the stored training images are
    in [0, 1] like the handwritten ones, and the trainer normalises both alike.
    """
    import numpy as np

    from cnnstudio.core.model_meta import ModelMeta
    from cnnstudio.ml.preprocess import to_model_input
    from cnnstudio.ml.rendered_digits import render_digits

    meta = dataclasses.replace(ModelMeta.from_spec(spec), preprocess=model_preprocess(spec, data))
    mean = np.asarray(meta.preprocess.mean, np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(meta.preprocess.std, np.float32).reshape(1, -1, 1, 1)
    images, labels = [], []
    seed = PRINTED["seed"]
    for size in PRINTED["sizes"]:
        for ink in PRINTED["inks"]:
            pages, digits = render_digits(PRINTED["per_digit"], ink, size=size, seed=seed)
            seed += 1
            images.extend(to_model_input(page, meta) * std + mean for page in pages)
            labels.append(digits)
    x = np.clip(np.concatenate(images), 0.0, 1.0).astype(np.float32)
    return x, np.concatenate(labels)


def with_printed_digits(spec: dict, data):
    """``data`` with the printed digits added to its training split (validation unchanged), and their count."""
    import torch

    x, y = printed_training_images(spec, data)
    bundle = dataclasses.replace(
        data,
        train_x=torch.cat([data.train_x, torch.from_numpy(x)]).contiguous(),
        train_y=torch.cat([data.train_y, torch.from_numpy(y)]),
    )
    return bundle, len(y)


def printed_accuracy(path: Path, per_digit: int = 20, seed: int = 0, fonts: tuple[str, ...] | None = None
                     ) -> dict[str, float]:
    """Accuracy on rendered Hershey-font digits (64x64 pages), dark on light and light on dark."""
    import numpy as np

    from cnnstudio.ml.onnx_model import OnnxModel
    from cnnstudio.ml.rendered_digits import render_digits

    model = OnnxModel(path)
    result = {}
    for ink in ("dark", "light"):
        images, labels = render_digits(per_digit, ink, seed=seed, **({"fonts": fonts} if fonts else {}))
        batch = np.concatenate([model.prepare(img) for img in images])
        guesses = np.array([p.top[0][0] for p in model.predict_batch(batch, k=1)])
        result[ink] = round(float(np.mean(guesses == labels)), 3)
    return result


def model_card(final: dict, config, data, printed_count: int, size: int, printed: dict[str, dict[str, float]]) -> str:
    from cnnstudio.ml.rendered_digits import FONTS

    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    counts = data.class_counts("val")
    per_class = ", ".join(f"{k}: {v}" for k, v in counts.items())
    fonts = ", ".join(f.removeprefix("FONT_HERSHEY_").lower() for f in FONTS)
    sizes = " and ".join(f"{s}x{s}" for s in PRINTED["sizes"])
    last_seed = PRINTED["seed"] + len(PRINTED["sizes"]) * len(PRINTED["inks"]) - 1
    old = HANDWRITTEN_ONLY
    rows = [
        (f"training fonts, seed {CHECK['seed']}, {CHECK['per_digit'] * 10} per polarity", "check"),
        (f"training fonts, seed {BENCH['seed']}, {BENCH['per_digit'] * 10} per polarity (`bench/bench_polarity.py`)",
         "bench"),
        (f"script simplex and complex (untrained), seed {UNSEEN['seed']}, {UNSEEN['per_digit'] * 10} per polarity",
         "unseen"),
    ]
    table = "\n".join(
        f"  | {words} | {printed[key]['dark']:.1%} | {printed[key]['light']:.1%} | "
        f"{old[key]['dark']:.1%} / {old[key]['light']:.1%} |" for words, key in rows)
    return f"""# LeNet-5 digits (bundled model)

The model CNN Studio ships so that Inspect and Live work out of the box.

- **File**: `lenet5-digits.onnx` ({size / 1024:.0f} KB), ONNX with input `input` (N x 1 x 28 x 28, float32)
  and output `logits` (N x 10); class names, input shape, preprocessing and the network spec are in
  the model's `metadata_props`.
- **Network**: LeNet-5 (`models/lenet5.json`), 61,706 parameters.
- **Data**:
  - the built-in `digits` dataset: the 1,797 real 8x8 handwritten digits that ship with scikit-learn,
    resized to 28x28, light ink on a dark background. Seeded stratified split (seed {DATA['seed']}):
    {len(data.train_x)} training and {len(data.val_x)} validation images (validation images per class:
    {per_class});
  - plus {printed_count} printed digits, in the training split only ({printed_count // 10} of each digit):
    `cnnstudio.ml.rendered_digits` in OpenCV's {len(FONTS)} Hershey fonts ({fonts}),
    at random sizes, stroke widths, positions and grey levels, on {sizes} pages, half dark on
    light and half light on dark (seeds {PRINTED['seed']}-{last_seed}; the checks below use seeds 0 and 1
    on 64x64 pages). Each page becomes a 28x28 training image through the model's own preprocessing
    (`to_model_input`: polarity, crop to the ink, resize), exactly as a printed digit does at
    prediction time. Without them the model read printed 1s, whose Hershey glyphs have a foot that
    handwritten 1s lack, as 2.
- **Training**: {config.optimizer} (learning rate {config.lr}, {config.schedule} schedule), batch size
  {config.batch_size}, {config.epochs} epochs, seed {config.seed}, CPU, one thread; augmentation
  {DATA['augment']} (zoom, shift and rotation, so framing and slant of camera digits matter less),
  on the handwritten and printed digits alike.
- **Validation accuracy** (the {len(data.val_x)} handwritten validation digits): {final['val_accuracy']:.4f}
  (validation loss {final['val_loss']:.4f}) after epoch {final['epoch']}; the previous model, trained
  on the handwritten digits only: {old['val_accuracy']:.4f}.
- **Date**: {date}.
- **Preprocessing** (what every runner does to a natural image, derived by the trainer from the data
  pipeline): convert to gray; **decide the polarity** (`polarity: "auto"`, `ink: "light"`: the image's
  border is its paper; a dark-on-light photo is flipped to the training digits' light ink on dark, an
  MNIST-style image is kept); **crop to the ink** (`crop_to_content: true`, `crop_margin: 0.0`: the
  digit's bounding box, squared, as the training digits fill their frame); resize to 28x28, scale to
  [0, 1], then `(x - 0.5) / 0.5`.
- **Checked on** printed digits the model never saw (`cnnstudio.ml.rendered_digits`, 64x64 pages):

  | set | dark on light | light on dark | previous model (handwritten only) |
  | --- | --- | --- | --- |
{table}

  The first two sets are the training fonts at new sizes, positions and strokes; the last one is
  typefaces the model never saw (cursive, closer to handwriting than to print).
- **Limits**: 8x8 source digits are blurry when enlarged; the model expects one digit on a plain
  background (the crop finds it anywhere in the region of interest). Its printed digits are OpenCV's
  Hershey fonts only; other typefaces (serif book fonts, seven-segment displays) were not measured.
- **Reproduce**: `.venv/bin/python scripts/make_bundled_model.py`.
"""


if __name__ == "__main__":
    sys.exit(main())
