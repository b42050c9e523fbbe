"""Small stand-ins for tests and the benchmark: tiny ONNX models with our metadata, a synthetic video.

The models are hand-weighted, so their answers are known without training:
- the *ink* classifier says "ink" when the preprocessed (inverted) input holds dark strokes on light
  paper and "blank" for an empty page;
- the *box* localizer always predicts the box (0.25, 0.25, 0.5, 0.5) of its input;
- the LeNet-sized model has LeNet-5's layers and parameter count (random weights), for speed tests.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from cnnstudio.core.model_meta import ModelMeta, Preprocess

INK_CLASSES = ("blank", "ink")


def _export(module, meta: ModelMeta, path: Path, outputs: list[str]) -> Path:
    import onnx
    import torch

    path = Path(path)
    module.eval()
    example = torch.zeros(1, *meta.input_shape)
    with warnings.catch_warnings():  # the TorchScript exporter is deprecated, but 5x quicker for tiny nets
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (example,), str(path), input_names=["input"], output_names=outputs,
                          opset_version=17, dynamo=False)
    model = onnx.load(str(path))
    for key, value in meta.to_props().items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path


def ink_model_module():
    """The torch module of the ink classifier (1x28x28 input, classes blank/ink)."""
    import torch
    from torch import nn

    class Ink(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3, padding=1)
            self.act = nn.ReLU()
            self.pool = nn.MaxPool2d(2)
            self.flat = nn.Flatten()
            self.fc = nn.Linear(2 * 14 * 14, 2)
            with torch.no_grad():
                self.conv.weight.fill_(1.0 / 9.0)
                self.conv.bias.zero_()
                self.fc.weight.zero_()
                self.fc.weight[1].fill_(100.0 / (2 * 14 * 14))
                self.fc.bias.copy_(torch.tensor([0.0, -15.5]))

        def forward(self, x):
            return self.fc(self.flat(self.pool(self.act(self.conv(x)))))

    return Ink()


def ink_meta() -> ModelMeta:
    return ModelMeta(input_shape=(1, 28, 28), class_names=INK_CLASSES, name="ink test model",
                     preprocess=Preprocess(mean=(0.0,), std=(1.0,), polarity="invert", ink="light"))


def write_ink_model(path: str | Path) -> Path:
    return _export(ink_model_module(), ink_meta(), Path(path), ["logits"])


def write_box_model(path: str | Path) -> Path:
    """A 3x32x32 localizer: classes a/b, box always (0.25, 0.25, 0.5, 0.5) of the input."""
    import torch
    from torch import nn

    class Box(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.flat = nn.Flatten()
            self.cls = nn.Linear(4, 2)
            self.box = nn.Linear(4, 4)
            with torch.no_grad():
                self.box.weight.zero_()
                self.box.bias.copy_(torch.logit(torch.tensor([0.25, 0.25, 0.5, 0.5])))

        def forward(self, x):
            f = self.flat(self.pool(torch.relu(self.conv(x))))
            return self.cls(f), torch.sigmoid(self.box(f))

    meta = ModelMeta(input_shape=(3, 32, 32), class_names=("a", "b"), task="localization", name="box test model",
                     preprocess=Preprocess(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)))
    torch.manual_seed(0)
    return _export(Box(), meta, Path(path), ["logits", "bbox"])


def lenet_module():
    """LeNet-5 as in models/lenet5.json (61,706 parameters), seeded random weights."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


def lenet_meta() -> ModelMeta:
    return ModelMeta(input_shape=(1, 28, 28), class_names=tuple(str(i) for i in range(10)), name="LeNet-5 (random)",
                     preprocess=Preprocess(mean=(0.5,), std=(0.5,), polarity="invert", ink="light"))


def write_lenet_model(path: str | Path) -> Path:
    return _export(lenet_module(), lenet_meta(), Path(path), ["logits"])


def paper_frame(width: int = 640, height: int = 480, digit: str | None = None, seed: int = 0) -> np.ndarray:
    """A BGR frame of light paper (slight noise), with a dark hand-drawn-looking digit in the middle."""
    import cv2

    rng = np.random.default_rng(seed)
    frame = np.full((height, width, 3), 215, np.uint8)
    frame += rng.integers(0, 20, size=(height, width, 1), dtype=np.uint8)
    if digit:
        side = int(0.6 * min(width, height))
        scale = side / 45.0
        (tw, th), _ = cv2.getTextSize(digit, cv2.FONT_HERSHEY_SIMPLEX, scale, max(2, int(scale * 2.5)))
        org = ((width - tw) // 2, (height + th) // 2)
        cv2.putText(frame, digit, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (30, 30, 30), max(2, int(scale * 2.5)),
                    cv2.LINE_AA)
    return frame


def write_test_video(path: str | Path, frames: int = 20, width: int = 640, height: int = 480,
                     fps: float = 30.0) -> Path:
    """An MJPG .avi: blank paper for the first half of the frames, then a drawn digit '7'."""
    import cv2

    path = Path(path)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    blank = paper_frame(width, height)
    digit = paper_frame(width, height, "7")
    for i in range(frames):
        writer.write(blank if i < frames // 2 else digit)
    writer.release()
    return path


def write_demo_slideshow(folder: str | Path, width: int = 640, height: int = 480, levels: int = 32) -> list[Path]:
    """Make resources/live/: the first sklearn digit of each class, dark on light paper, under 20 KB each.

    The digit fills the default region of interest (the centred square on 60 % of the shorter side).
    """
    import cv2
    from sklearn.datasets import load_digits

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    digits = load_digits()
    side = int(0.6 * min(width, height))
    rows = np.round(230 - 16 * (np.arange(height) / height)).astype(np.float32)  # light falling off downwards
    paper = np.repeat(rows[:, None], width, axis=1)
    written = []
    for k in range(10):
        ink = digits.images[int(np.flatnonzero(digits.target == k)[0])].astype(np.float32) / 16.0
        big = cv2.resize(ink, (side, side), interpolation=cv2.INTER_CUBIC).clip(0, 1)
        big = np.round(big * levels) / levels  # fewer ink levels: a much smaller PNG, no visible banding
        img = paper.copy()
        x0, y0 = (width - side) // 2, (height - side) // 2
        region = img[y0:y0 + side, x0:x0 + side]
        img[y0:y0 + side, x0:x0 + side] = np.round(region * (1 - big) + 35 * big)
        out = np.repeat(img[..., None], 3, axis=2).clip(0, 255).astype(np.uint8)
        path = folder / f"digit-{k}.png"
        cv2.imwrite(str(path), out, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        written.append(path)
    return written
