"""Produce the bundled backbone models/backbone-letters.safetensors and its model card backbone-letters.md.

A small CNN pretrained on a source task the project generates itself: 26 classes of printed capital
letters (OpenCV Hershey fonts, random stroke width, size, slant and position; cnnstudio.ml.transfer.letters).
Trained with the project's trainer, fixed seeds, on the CPU with one thread, so every run of this script
writes the same weights. The Lab's transfer demo moves it to a different task: the handwritten digits
with a few labels per class.

Run:  .venv/bin/python scripts/make_backbone.py [--out-dir models]
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SAMPLES = 7800  # 300 per letter
SEED = 0
TRAINING = {"epochs": 8, "seed": 0, "device": "cpu", "threads": 1, "lr": 0.002, "batch_size": 32,
            "optimizer": "adam", "schedule": "cosine"}
AUGMENT = {"shift": 0.08, "rotation": 8, "scale": 0.1}
SPEC = {
    "format": "cnnstudio-network", "version": 1,
    "name": "Letters backbone",
    "description": "A small CNN pretrained on 26 printed capital letters (28x28, light on dark); "
                   "CNN Studio's bundled transfer-learning backbone.",
    "input": {"channels": 1, "height": 28, "width": 28},
    "task": "classification",
    "preprocess": {"mean": [0.5], "std": [0.5]},
    "layers": [
        {"id": "c1", "type": "conv2d", "out_channels": 16, "kernel_size": 3, "padding": 1},
        {"id": "a1", "type": "relu"},
        {"id": "p1", "type": "maxpool2d", "kernel_size": 2, "stride": 2},
        {"id": "c2", "type": "conv2d", "out_channels": 32, "kernel_size": 3, "padding": 1},
        {"id": "a2", "type": "relu"},
        {"id": "p2", "type": "maxpool2d", "kernel_size": 2, "stride": 2},
        {"id": "c3", "type": "conv2d", "out_channels": 64, "kernel_size": 3, "padding": 1},
        {"id": "a3", "type": "relu"},
        {"id": "p3", "type": "maxpool2d", "kernel_size": 2, "stride": 2},
        {"id": "flat", "type": "flatten"},
        {"id": "f1", "type": "linear", "out_features": 128},
        {"id": "a4", "type": "relu"},
        {"id": "out", "type": "linear", "out_features": 26},
    ],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=str(REPO / "models"), help="where to write the .safetensors and .md")
    args = parser.parse_args(argv)

    from cnnstudio.core.spec import load_spec
    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.trainer import Failed, Finished, TrainConfig, train
    from cnnstudio.ml.transfer.backbones import save_backbone
    from cnnstudio.ml.transfer.letters import LETTER_CLASSES, letters_bundle

    spec = load_spec({**SPEC, "classes": list(LETTER_CLASSES)})
    data = letters_bundle(SAMPLES, SEED)
    config = TrainConfig.from_dict(TRAINING)
    import torch

    torch.manual_seed(config.seed)
    model = build_model(spec)
    result = None
    data_config = {"source": "letters", "augment": AUGMENT}
    for event in train(spec, data, config, None, data_config=data_config, export=False, model=model):
        if isinstance(event, (Finished, Failed)):
            result = event
    if not isinstance(result, Finished):
        print(f"training failed: {getattr(result, 'message', 'no result')}", file=sys.stderr)
        return 1
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "backbone-letters.safetensors"
    params = sum(p.numel() for p in model.parameters())
    save_backbone(target, spec, model, {
        "description": SPEC["description"], "source_task": "letters", "samples": SAMPLES,
        "val_accuracy": result.metrics["val_accuracy"], "training": TRAINING, "augment": AUGMENT,
    })
    card = model_card(result.metrics, data, target.stat().st_size, params)
    (out_dir / "backbone-letters.md").write_text(card, encoding="utf-8")
    print(f"wrote {target} ({target.stat().st_size / 1024:.0f} KB, {params:,} parameters), letters "
          f"validation accuracy {result.metrics['val_accuracy']:.4f}")
    return 0


def model_card(final: dict, data, size: int, params: int) -> str:
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    return f"""# Letters backbone (bundled transfer-learning backbone)

The pretrained network CNN Studio ships so that transfer learning works offline, out of the box.

- **File**: `backbone-letters.safetensors` ({size / 1024:.0f} KB): the weights, with the network spec in
  the safetensors metadata (format `cnnstudio-backbone`, version 1). {params:,} parameters.
- **Network**: conv 16 → pool → conv 32 → pool → conv 64 → pool → linear 128 → linear 26 (3x3 kernels,
  ReLU); input 1 x 28 x 28, light ink on dark, normalised `(x - 0.5) / 0.5`.
- **Source task**: 26 printed capital letters A-Z generated by `cnnstudio.ml.transfer.letters` (OpenCV
  Hershey fonts, random stroke width 2-6, size, ±15° rotation, slant and position; seed {SEED});
  {len(data.train_x)} training and {len(data.val_x)} validation images.
- **Training**: the project's trainer, {TRAINING['optimizer']} (learning rate {TRAINING['lr']},
  {TRAINING['schedule']} schedule), batch size {TRAINING['batch_size']}, {TRAINING['epochs']} epochs, seed
  {TRAINING['seed']}, CPU, one thread; augmentation {AUGMENT}.
- **Source validation accuracy**: {final['val_accuracy']:.4f} (loss {final['val_loss']:.4f}).
- **Meant for**: the Lab's transfer demo and `cnnstudio transfer`: freeze c1-c3 (optionally f1),
  replace the head `out`, retrain on the handwritten digits with 10-20 labels per class.
- **Limits**: it has seen printed letters only, light on dark at 28x28; it is a teaching backbone, not a
  general feature extractor.
- **Date**: {date}.
- **Reproduce**: `.venv/bin/python scripts/make_backbone.py`.
"""


if __name__ == "__main__":
    sys.exit(main())
