"""DistributedDataParallel scaling on the CPU: 2 processes on gloo against 1 process, side by side.

Target: the training throughput per process of a 2-process run (``torchrun --nproc_per_node 2 -m
cnnstudio train``, gloo, one CPU thread each) is at least 0.8 of a single process's at the same
per-process batch (so the 2-process run has twice the global batch). Both are real ``cnnstudio train``
runs started here, interleaved round by round; each run's median epoch throughput after the first
epoch is compared (the trainer's ``images_per_second``: training images of all processes per second).
The machine load is printed before and after: with fewer free cores than processes the ratio says
more about the load than about DDP.

    .venv/bin/python bench/bench_distributed.py [--spec lenet5] [--data digits] [--batch-size 64]
                                                [--epochs 6] [--rounds 2] [--processes 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(folder: Path, processes: int, args) -> float:
    """The median per-process training throughput (img/s) of one run, first epoch left out."""
    train = ["-m", "cnnstudio", "train", args.spec, "--data", args.data, "--epochs", str(args.epochs),
             "--batch-size", str(args.batch_size * processes), "--device", "cpu", "--threads", "1",
             "--schedule", "none", "--out", str(folder)]
    if processes == 1:
        cmd = [sys.executable, *train]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes),
               *train]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"bench_distributed: the {processes}-process run failed:\n{done.stderr[-2000:]}")
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines() if line.strip()]
    rates = [r["images_per_second"] for r in rows[1:]] or [rows[-1]["images_per_second"]]
    return statistics.median(rates) / processes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="lenet5")
    parser.add_argument("--data", default="digits")
    parser.add_argument("--batch-size", type=int, default=64, help="per-process batch (default 64)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    single, multi = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            single.append(run(Path(tmp) / f"one-{r}", 1, args))
            multi.append(run(Path(tmp) / f"ddp-{r}", args.processes, args))
    load_after = os.getloadavg()[0]
    s, m = statistics.median(single), statistics.median(multi)
    ratio = m / s
    print(f"DDP on gloo: {args.spec} on {args.data}, {args.processes} processes x 1 thread vs 1 process, "
          f"batch {args.batch_size} per process, {args.rounds} rounds x {args.epochs} epochs; "
          f"{os.cpu_count()} cores, load {load_before:.1f} -> {load_after:.1f}")
    print(f"  per-process throughput: 1 process {s:,.0f} img/s, {args.processes} processes {m:,.0f} img/s each "
          f"({m * args.processes:,.0f} img/s together)")
    print(f"  ratio {ratio:.3f} (target >= 0.80) {'OK' if ratio >= 0.8 else 'BELOW TARGET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
