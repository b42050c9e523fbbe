"""Transfer learning on the bundled letters backbone against the same network from scratch.

Target (the lecture's "higher start ... higher asymptote"): with transfer, validation accuracy after
epoch 1 is at least 10 points above from scratch, and at the last epoch not lower. Both runs train the
same network on the same few digits (15 labels per class, validation set whole) with the same seeds;
the baseline is the from-scratch run of this same process. Several seeds, because a single small run
is noisy; the target must hold for their mean and the per-seed numbers are printed.

    .venv/bin/python bench/bench_transfer.py [--labels-per-class 15] [--epochs 12] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cnnstudio.ml.datasets import load_dataset  # noqa: E402
from cnnstudio.ml.robustness.subject import drive  # noqa: E402
from cnnstudio.ml.transfer.backbones import load_backbone  # noqa: E402
from cnnstudio.ml.transfer.compare import compare, few_labels  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels-per-class", type=int, default=15)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    backbone = load_backbone("bundled")
    digits = load_dataset({"source": "digits"})
    firsts, lasts = [], []
    start = time.perf_counter()
    print(f"bundled letters backbone -> digits, {args.labels_per_class} labels/class, {args.epochs} epochs, "
          f"frozen c1 c2 c3")
    print(f"{'seed':>4}  {'epoch-1 transfer':>16}  {'scratch':>8}  {'last transfer':>13}  {'scratch':>8}")
    for seed in args.seeds:
        data = few_labels(digits, args.labels_per_class, seed)
        config = {"epochs": args.epochs, "seed": seed, "device": args.device, "threads": 1, "batch_size": 16}
        result = drive(compare(backbone, data, config, ["c1", "c2", "c3"]))
        t, s = result.curves["transfer"], result.curves["scratch"]
        firsts.append(t[0] - s[0])
        lasts.append(t[-1] - s[-1])
        print(f"{seed:>4}  {t[0]:>16.3f}  {s[0]:>8.3f}  {t[-1]:>13.3f}  {s[-1]:>8.3f}")
    first, last = statistics.mean(firsts), statistics.mean(lasts)
    ok = first >= 0.10 and last >= 0.0
    print(f"transfer - scratch after epoch 1: {first * 100:+.1f} points (target >= +10); at the last epoch: "
          f"{last * 100:+.1f} points (target >= 0)  [{time.perf_counter() - start:.0f} s]  "
          f"{'OK' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
