"""Polarity: the bundled digits model on printed digits in both ink polarities (target: accuracy
>= 0.9 on each), with the model's automatic polarity step against a fixed polarity measured in the
same run (the baseline: what version-1 metadata did, ``invert`` for every image).

The digits are drawn by ``cnnstudio.ml.rendered_digits`` (OpenCV Hershey fonts at random sizes,
stroke widths and positions; nothing is downloaded): dark ink on light paper (a printed page, a
camera frame) and light ink on dark (MNIST style, the training digits' own look). Also the cost of the
automatic step: the preprocessing time per image against the fixed polarity.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET = 0.9
PER_DIGIT = 40


def accuracy(model, meta, images, labels) -> float:
    import numpy as np

    from cnnstudio.ml.preprocess import to_model_input

    batch = np.concatenate([to_model_input(img, meta) for img in images])
    guesses = np.argmax(model.run(batch)["logits"], axis=1)
    return float(np.mean(guesses == labels))


def preprocess_us(meta, images, repeat: int = 3) -> float:
    from cnnstudio.ml.preprocess import to_model_input

    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for img in images:
            to_model_input(img, meta)
        best = min(best, time.perf_counter() - t0)
    return 1e6 * best / len(images)


def main() -> int:
    from cnnstudio.ml.onnx_model import OnnxModel
    from cnnstudio.ml.rendered_digits import FONTS, render_digits
    from cnnstudio.ml.video.runners import bundled_model_path

    model = OnnxModel(bundled_model_path())
    auto = model.meta
    if auto.preprocess.polarity != "auto":
        print(f"note: {bundled_model_path().name} says polarity {auto.preprocess.polarity!r}; measuring 'auto'")
        auto = dataclasses.replace(auto, preprocess=dataclasses.replace(auto.preprocess, polarity="auto",
                                                                        ink=auto.preprocess.ink or "light"))
    fixed = dataclasses.replace(auto, preprocess=dataclasses.replace(auto.preprocess, polarity="invert"))
    print(f"{PER_DIGIT * 10} printed digits per polarity, fonts: {', '.join(f.removeprefix('FONT_HERSHEY_').lower() for f in FONTS)}")
    print(f"{'ink':<16}{'auto':>8}{'fixed (baseline)':>18}{'ratio':>8}")
    worst = 1.0
    sample = None
    for ink, words in (("dark", "dark on light"), ("light", "light on dark")):
        images, labels = render_digits(PER_DIGIT, ink, seed=1)
        sample = images if sample is None else sample
        a, f = accuracy(model, auto, images, labels), accuracy(model, fixed, images, labels)
        worst = min(worst, a)
        print(f"{words:<16}{a:>8.3f}{f:>18.3f}{a / max(f, 1e-9):>8.2f}")
    t_auto, t_fixed = preprocess_us(auto, sample), preprocess_us(fixed, sample)
    print(f"preprocessing per 64x64 image: auto {t_auto:.0f} us, fixed {t_fixed:.0f} us "
          f"(ratio {t_auto / t_fixed:.2f})")
    verdict = "meets" if worst >= TARGET else "MISSES"
    print(f"worst polarity accuracy {worst:.3f}: {verdict} the target {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
