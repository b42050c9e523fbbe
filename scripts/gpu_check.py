"""GPU check for the trainer: LeNet-5 on digits for 2 epochs on CUDA, without and with mixed precision.

Prints per-epoch metrics and images/s for both, and the plain-loop baseline from bench/bench_trainer.py
on the same GPU, so the CUDA paths (data on the device, autocast + GradScaler) are exercised for real.

    .venv/bin/python scripts/gpu_check.py [--epochs 2] [--batch-size 64] [--spec lenet5] [--data digits]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--spec", default="lenet5")
    parser.add_argument("--data", default="digits")
    args = parser.parse_args(argv)

    import torch

    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.device import detect_device
    from cnnstudio.ml.runs import load_run_model
    from cnnstudio.ml.trainer import EpochEnd, Failed, Finished, Started, TrainConfig, train

    if not torch.cuda.is_available():
        print("no CUDA GPU here; nothing to check", file=sys.stderr)
        return 1
    print(f"device: {detect_device().label}; torch {torch.__version__}")
    data = load_dataset({"source": args.data})
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for amp in (False, True):
            config = TrainConfig.from_dict({"epochs": args.epochs, "batch_size": args.batch_size, "device": "cuda",
                                            "mixed_precision": amp, "seed": 0})
            run_dir = Path(tmp) / f"run-amp{int(amp)}"
            print(f"-- mixed precision {'on' if amp else 'off'}")
            for event in train(args.spec, data, config, run_dir):
                if isinstance(event, Started):
                    print(f"   started on {event.device}, autocast+GradScaler active: {event.mixed_precision}")
                elif isinstance(event, EpochEnd):
                    m = event.metrics
                    print(f"   epoch {m['epoch']}: train loss {m['train_loss']:.4f}, val loss {m['val_loss']:.4f}, "
                          f"val acc {m['val_accuracy']:.4f}, {m['images_per_second']:,.0f} img/s, {m['seconds']:.2f} s")
                elif isinstance(event, Finished):
                    print(f"   {event.status}; ONNX: {event.onnx_path}")
                    _, model = load_run_model(run_dir)  # checkpoints saved from the GPU load on the CPU
                    print(f"   reloaded on CPU: {sum(p.numel() for p in model.parameters()):,} parameters")
                elif isinstance(event, Failed):
                    print(f"   FAILED: {event.message}")
                    failures += 1
    sys.path.insert(0, str(REPO / "bench"))
    import bench_trainer

    print("-- trainer vs plain loop on cuda")
    bench_trainer.main(["--spec", args.spec, "--data", args.data, "--batch-size", str(args.batch_size),
                        "--device", "cuda", "--rounds", "3"])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
