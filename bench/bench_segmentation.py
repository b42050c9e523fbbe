"""Segmentation on the built-in scenes, against baselines measured in the same run.

1. Training the "segmenter" template on 2,000 scenes (64x64, 0-6 shapes each, a class per pixel) on the
   CPU for at most 3 minutes of training: mean IoU (and per class) on the 400 validation images after
   each epoch (target: mIoU >= 0.80 within 3 minutes). Baselines: the untrained network and the
   answer "background everywhere".
2. Live segmentation at 640x480 through ONNX Runtime, the mask coloured in (decode and drawing
   included), against a bare ONNX Runtime loop on the same preprocessed input.

The machine may be shared: the load average is printed with the numbers.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from _dense_bench import live_rates, load_average, untrained_output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--budget", type=float, default=180.0, help="seconds of training (default 180)")
    parser.add_argument("--epochs", type=int, default=14, help="epochs planned (cosine schedule)")
    args = parser.parse_args()

    import torch

    from cnnstudio.core.spec import load_spec
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.tasks import runtime
    from cnnstudio.ml.trainer import BatchEnd, EpochEnd, Finished, TrainControl, train

    print(load_average())
    data = load_dataset({"source": "scenes", "num_samples": args.images, "seed": 0})
    spec = load_spec("segmenter")
    tmp = Path(tempfile.mkdtemp(prefix="bench-segmentation-"))
    task = runtime("segmentation")
    k = len(data.classes)
    background = torch.zeros(len(data.val_x), k, *data.val_masks.shape[1:])
    background[:, 0] = 1.0
    background_miou = task.evaluate((background,), (data.val_masks,), k)["miou"]
    untrained_miou = task.evaluate((untrained_output(spec, data.val_x),), (data.val_masks,), k)["miou"]

    config = {"epochs": args.epochs, "batch_size": 32, "lr": 0.01, "optimizer": "adam", "schedule": "cosine",
              "seed": 0, "device": "cpu"}
    control = TrainControl()
    best, best_row, reached, trained, onnx_path = 0.0, None, None, 0.0, None
    for event in train(spec, data, config, tmp / "run", control):
        if isinstance(event, BatchEnd) and event.elapsed > args.budget:
            control.cancel()
        elif isinstance(event, EpochEnd):
            m = event.metrics
            trained += m["seconds"]
            if m["val_miou"] > best:
                best, best_row = m["val_miou"], m
            if reached is None and m["val_miou"] >= 0.8:
                reached = trained
            print(f"  epoch {m['epoch']:2d}: mIoU {m['val_miou']:.3f}  pixel accuracy {m['val_accuracy']:.3f}  "
                  f"{trained:6.1f} s trained, {m['images_per_second']:.0f} img/s", flush=True)
        elif isinstance(event, Finished):
            onnx_path = event.onnx_path
    per_class = ", ".join(f"{name} {v:.3f}" for name, v in zip(data.classes, best_row["val_class_iou"]) if v is not None)
    status = "PASS" if reached is not None and reached <= args.budget else "FAIL"
    print(f"1. training: best mIoU {best:.3f} ({per_class}); untrained {untrained_miou:.3f}, background everywhere "
          f"{background_miou:.3f}; mIoU >= 0.80 after {reached if reached is None else round(reached, 1)} s of "
          f"training (target <= {args.budget:.0f} s): {status}")

    import cv2

    if onnx_path is None:
        print("2. live: no model.onnx was exported")
        return 1
    frames = [cv2.resize((data.val_x[i].numpy().transpose(1, 2, 0)[..., ::-1] * 255).astype(np.uint8), (640, 480))
              for i in range(20)]
    fps, bare, _ = live_rates(onnx_path, frames, 400)
    print(f"2. live segmentation {fps:.0f} fps at 640x480 (preprocess, ONNX Runtime, argmax, colouring) vs bare "
          f"ONNX Runtime {bare:.0f} fps: ratio {fps / bare:.2f}")
    print(load_average())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
