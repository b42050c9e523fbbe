"""Cost of the Lab's attacks and sweeps against the plain autograd work they must do, measured here.

Baseline: one hand-written forward + backward pass to the input over the validation digits (what an
FGSM step cannot avoid). Targets: FGSM at most 1.3x the baseline; PGD with 10 steps at most 1.2x ten
baselines; one accuracy-vs-shift curve (11 shifts) at most 1.3x eleven forward passes. Also prints the
accuracy at a few epsilons (the numbers the docs quote).

    .venv/bin/python bench/bench_robustness.py [--epochs 6] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from cnnstudio.ml.robustness import attacks as A  # noqa: E402
from cnnstudio.ml.robustness.subject import drive, train_subject  # noqa: E402
from cnnstudio.ml.robustness.transforms import TRANSFORMATIONS, accuracy_curve  # noqa: E402


def timed(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    subject = drive(train_subject(training={"epochs": args.epochs, "device": "cpu", "threads": 1}))
    model, x, y = subject.model, subject.data.val_x, subject.data.val_y

    def baseline():
        inp = x.clone().requires_grad_(True)
        loss = F.cross_entropy(model(inp), y)
        torch.autograd.grad(loss, inp)

    def forward():
        with torch.no_grad():
            model(x).argmax(1)

    base = timed(baseline, args.rounds)
    fwd = timed(forward, args.rounds)
    fgsm = timed(lambda: A.fgsm(model, x, y, 0.1), args.rounds)
    pgd = timed(lambda: A.pgd(model, x, y, 0.1, steps=10), max(1, args.rounds // 2))
    sweep = timed(lambda: accuracy_curve(model, x, y, "shift"), args.rounds)
    n_shift = len(TRANSFORMATIONS["shift"].amounts)
    ratios = {"FGSM / forward+backward": (fgsm / base, 1.3), "PGD-10 / 10 x forward+backward": (pgd / (10 * base), 1.2),
              f"shift curve / {n_shift} forward passes": (sweep / (n_shift * fwd), 1.3)}
    print(f"{len(y)} validation digits, LeNet-5 ({args.epochs} epochs), CPU, 1 thread; baseline forward+backward "
          f"{base * 1000:.1f} ms, forward {fwd * 1000:.1f} ms")
    ok = True
    for name, (ratio, target) in ratios.items():
        ok &= ratio <= target
        print(f"  {name}: {ratio:.2f}x (target <= {target}x)")
    for eps in (0.05, 0.1, 0.2):
        f = A.accuracy_under_attack(model, x, y, eps, "fgsm")["accuracy"]
        p = A.accuracy_under_attack(model, x, y, eps, "pgd")["accuracy"]
        print(f"  accuracy at eps {eps:g}: FGSM {f:.3f}, PGD {p:.3f}")
    print("OK" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
