"""DistributedDataParallel scaling on the CPU: 2 processes on gloo against 1 process, side by side.

Target: the training throughput per process of a 2-process DDP run (gloo, one CPU thread each) is at
least 0.8 of a single process's at the same per-process batch (so the 2-process run has twice the global
batch).

How: torchrun starts 2 processes of this script. They load the data once and then alternate, round after
round, between the two trainings the comparison needs, both through the trainer a user's ``cnnstudio
train`` runs (``cnnstudio.ml.trainer.train``): rank 0 training alone as a plain process (world size 1,
while rank 1 waits idle), and both ranks training together with DDP. Each training's throughput is the
median of its epochs (the trainer's ``images_per_second``: training images of all processes per second),
and the ratio is the median of the rounds' ratios. The machines are noisy from one second to the next;
alternating within one pair of processes, with a warm-up round left out, keeps both sides under the same
conditions. ``tests/ml/test_distributed.py`` runs the same trainer under the real ``torchrun -m cnnstudio
train``.

Two workloads:

- ``conv``: TinyVGG on 6,000 shapes of 64x64, batch 64 per process: a step of about 60 ms on one core,
  the kind of training one spreads over processes; the target is checked here.
- ``small``: LeNet-5 on the 1,437 training digits, batch 64 per process: a step of 5-7 ms, against which
  every gradient exchange weighs (informational). Its line adds the gloo all-reduce of the model's
  gradients, timed alone between the same 2 processes; inside training each step also waits for the slower
  of the two, and the exchange's threads compete with the other process's compute.

    .venv/bin/python bench/bench_distributed.py [--workload conv small] [--rounds 7] [--processes 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET = 0.8


@dataclass(frozen=True)
class Workload:
    spec: str
    data: dict  # the project's "data" dict
    title: str
    epochs: int  # of each training
    checked: bool  # the target is checked on this workload


WORKLOADS = {
    "conv": Workload("tinyvgg", {"source": "shapes", "num_samples": 6000}, "tinyvgg on 6,000 shapes 64x64", 2, True),
    "small": Workload("lenet5", {"source": "digits"}, "lenet5 on the digits", 8, False),
}


# --- the two processes (under torchrun) -----------------------------------------------------------------
def _training_rate(spec: dict, data, batch: int, epochs: int) -> float:
    """Median training images/s (all processes) of one training through the trainer."""
    from cnnstudio.ml.trainer import EpochEnd, Failed, TrainConfig, train

    config = TrainConfig.from_dict({"batch_size": batch, "epochs": epochs, "lr": 0.002, "schedule": "none",
                                    "device": "cpu", "threads": 1})
    rates = []
    for event in train(spec, data, config, None, export=False):
        if isinstance(event, EpochEnd):
            rates.append(event.metrics["images_per_second"])
        elif isinstance(event, Failed):
            raise SystemExit(f"bench_distributed: training failed: {event.message}")
    return statistics.median(rates)


def _alone(world: str) -> None:
    """Make the trainer see a plain process (world "1") or torchrun's group again."""
    os.environ["WORLD_SIZE"] = world


def worker(name: str, rounds: int, batch: int) -> None:
    """One of the torchrun processes: rank 0 prints one JSON line of results."""
    import torch
    import torch.distributed as dist

    from cnnstudio.core.data_fit import fit_to_classes
    from cnnstudio.core.templates import load_template
    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.datasets import load_dataset

    work = WORKLOADS[name]
    torch.set_num_threads(1)
    dist.init_process_group("gloo")  # the trainer joins this group (and leaves it standing) in every training
    rank, n = dist.get_rank(), dist.get_world_size()
    data = load_dataset(work.data)
    spec = fit_to_classes(load_template(work.spec), data.classes)
    single, multi = [], []
    for r in range(rounds + 1):  # round 0 warms up (allocator, oneDNN kernels) and is left out
        for phase in (("single", "ddp") if r % 2 else ("ddp", "single")):
            dist.barrier()
            if phase == "ddp":
                rate = _training_rate(spec, data, batch * n, work.epochs) / n
            elif rank == 0:
                _alone("1")
                rate = _training_rate(spec, data, batch, work.epochs)
                _alone(str(n))
            else:
                continue
            if r:
                (multi if phase == "ddp" else single).append(rate)
    dist.barrier()
    grads = torch.ones(sum(p.numel() for p in build_model(spec).parameters()))
    times = []
    for i in range(1100):  # the gradient all-reduce alone, after 100 to warm up
        start = time.perf_counter()
        dist.all_reduce(grads)
        if i >= 100:
            times.append((time.perf_counter() - start) * 1e3)
    if rank == 0:
        print(json.dumps({"single": single, "multi": multi, "allreduce_ms": [statistics.median(times),
                                                                              statistics.fmean(times)]}), flush=True)
    dist.barrier()
    dist.destroy_process_group()


# --- the report --------------------------------------------------------------------------------------
def measure(name: str, rounds: int, processes: int, batch: int) -> dict:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes),
           str(Path(__file__).resolve()), "--worker", name, "--rounds", str(rounds), "--batch-size", str(batch)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    env.pop("CNNSTUDIO_DDP", None)  # forcing DDP would make rank 0's single training wait for rank 1
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"bench_distributed: the {name} workload failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", nargs="+", choices=sorted(WORKLOADS), default=["conv", "small"])
    parser.add_argument("--batch-size", type=int, default=64, help="per-process batch (default 64)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--worker", choices=sorted(WORKLOADS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.rounds, args.batch_size)
        return 0

    n = args.processes
    print(f"DDP on gloo: {n} processes x 1 thread vs 1 process, batch {args.batch_size} per process, "
          f"{args.rounds} rounds; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}", flush=True)
    for name in args.workload:
        work = WORKLOADS[name]
        got = measure(name, args.rounds, n, args.batch_size)
        ratios = [m / s for m, s in zip(got["multi"], got["single"])]
        ratio = statistics.median(ratios)
        s, m = statistics.median(got["single"]), statistics.median(got["multi"])
        print(f"  {name}: {work.title}, {work.epochs} epochs a training; the rounds' ratios "
              + ", ".join(f"{r:.3f}" for r in ratios))
        print(f"    per-process throughput: 1 process {s:,.0f} img/s, {n} processes {m:,.0f} img/s each "
              f"({m * n:,.0f} img/s together)")
        median, mean = got["allreduce_ms"]
        if work.checked:
            print(f"    ratio {ratio:.3f} (target >= {TARGET:.2f}) {'OK' if ratio >= TARGET else 'BELOW TARGET'}")
        else:
            print(f"    ratio {ratio:.3f} (informational: a {args.batch_size / s * 1e3:.1f} ms step; the all-reduce "
                  f"of its gradients alone takes {median:.2f} ms median, {mean:.2f} ms mean here)")
    print(f"  load after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
