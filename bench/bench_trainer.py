"""Trainer throughput against a plain hand-written PyTorch loop (same model, data, batch, device, threads).

Target: the trainer's training throughput (images/s) is at least 95% of the plain loop's. Both run in
this process, interleaved round by round, and the median epoch of each is compared (the machine is
shared and noisy). A second line compares whole epochs including validation and, for the trainer,
checkpoints and metrics files (informational). The plain loop runs under the same host allocator setting
as the trainer (``kept_freed_memory``; ``bench_host_memory.py`` measures what it is worth).

    .venv/bin/python bench/bench_trainer.py [--spec lenet5] [--data digits] [--batch-size 64]
                                            [--epochs 3] [--rounds 5] [--threads 1] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from cnnstudio.core.spec import load_spec  # noqa: E402
from cnnstudio.ml.builder import build_model  # noqa: E402
from cnnstudio.ml.datasets import load_dataset  # noqa: E402
from cnnstudio.ml.device import resolve_device  # noqa: E402
from cnnstudio.ml.preprocess import normalize  # noqa: E402
from cnnstudio.ml.trainer import EpochEnd, Finished, TrainConfig, preprocess_of, train  # noqa: E402
from cnnstudio.ml.training.host_memory import kept_freed_memory  # noqa: E402


def sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def plain_loop(spec, data, batch_size: int, epochs: int, seed: int, device) -> tuple[list[float], float]:
    """The hand-written baseline: per-epoch training images/s, and wall seconds including validation."""
    torch.manual_seed(seed)
    model = build_model(spec).to(device)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.002)
    pre = preprocess_of(spec)
    x = normalize(data.train_x, pre).to(device)
    y = data.train_y.to(device)
    vx = normalize(data.val_x, pre).to(device)
    vy = data.val_y.to(device)
    rates = []
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(len(x), device=device)
        for i in range(0, len(x), batch_size):
            idx = perm[i:i + batch_size]
            out = model(x[idx])
            out = out[0] if isinstance(out, tuple) else out
            loss = F.cross_entropy(out, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sync(device)
        rates.append(len(x) / (time.perf_counter() - t0))
        model.eval()
        correct = 0
        with torch.inference_mode():
            for i in range(0, len(vx), 256):
                out = model(vx[i:i + 256])
                out = out[0] if isinstance(out, tuple) else out
                correct += int((out.argmax(1) == vy[i:i + 256]).sum())
    return rates, time.perf_counter() - start


def trainer_run(spec, data, config: TrainConfig, run_dir) -> tuple[list[float], float]:
    rates = []
    start = time.perf_counter()
    for event in train(spec, data, config, run_dir, export=False):
        if isinstance(event, EpochEnd):
            rates.append(event.metrics["images_per_second"])
        elif not isinstance(event, Finished) and type(event).__name__ == "Failed":
            raise SystemExit(f"trainer failed: {event.message}")
    return rates, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="lenet5")
    parser.add_argument("--data", default="digits")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    spec = load_spec(args.spec)
    data = load_dataset({"source": args.data})
    c, h, w = (spec["input"][k] for k in ("channels", "height", "width"))
    data = data.fit_to(c, h, w)
    config = TrainConfig.from_dict({"batch_size": args.batch_size, "epochs": args.epochs, "lr": 0.002,
                                    "schedule": "none", "device": args.device, "threads": args.threads})
    plain_loop(spec, data, args.batch_size, 1, 0, device)  # warm-up (allocator, kernels)
    trainer_run(spec, data, config, None)
    trainer_rates, plain_rates, trainer_wall, plain_wall = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            rates, wall = trainer_run(spec, data, config, Path(tmp) / f"run{r}")
            trainer_rates += rates[1:]
            trainer_wall.append(wall)
            with kept_freed_memory():  # the host allocator setting the trainer runs under (bench_host_memory.py)
                rates, wall = plain_loop(spec, data, args.batch_size, args.epochs, 0, device)
            plain_rates += rates[1:]
            plain_wall.append(wall)
    t, p = statistics.median(trainer_rates), statistics.median(plain_rates)
    ratio = t / p
    wall_ratio = statistics.median(plain_wall) / statistics.median(trainer_wall)
    print(f"trainer vs plain loop: {args.spec} on {args.data}, batch {args.batch_size}, {device}, "
          f"{args.threads} thread(s), {args.rounds} rounds x {args.epochs} epochs")
    print(f"  training throughput: trainer {t:,.0f} img/s, plain {p:,.0f} img/s, ratio {ratio:.3f} "
          f"(target >= 0.95) {'OK' if ratio >= 0.95 else 'BELOW TARGET'}")
    print(f"  whole epochs incl. validation (+ trainer checkpoints/metrics files): speed ratio {wall_ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
